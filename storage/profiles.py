"""Profiles and the embeddings of their interest phrases (bot.ports.Profiles), on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.profiles import TEXT_FIELDS, Profile
from storage.models import ProfilePhraseRow, ProfileRow
from storage.statements import insert

_COLUMNS = (*TEXT_FIELDS, "tz", "work_start", "work_end", "updated_at")


def _profile(row: Any) -> Profile:
    return Profile(row.workspace, row.user_id, **{c: getattr(row, c) for c in _COLUMNS})


class SqlProfiles:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def get(self, workspace: str, user_id: str) -> Profile | None:
        async with self.sessions() as session:
            row = await session.get(ProfileRow, (workspace, user_id))
            return _profile(row) if row else None

    async def list(self, workspace: str) -> list[Profile]:
        async with self.sessions() as session:
            # Plain rows rather than ORM objects: `/rapport match` reads every profile of the workspace.
            rows = await session.execute(select(*ProfileRow.__table__.columns)  # type: ignore[attr-defined]
                                         .where(ProfileRow.workspace == workspace).order_by(ProfileRow.user_id))
            return [_profile(r) for r in rows]

    async def save(self, profile: Profile) -> None:
        values = {c: getattr(profile, c) for c in _COLUMNS}
        keep = {p.key for p in profile.phrases()}
        async with self.sessions.begin() as session:
            stmt = insert(session, ProfileRow).values(workspace=profile.workspace, user_id=profile.user_id, **values)
            await session.execute(stmt.on_conflict_do_update(index_elements=["workspace", "user_id"], set_=values))
            stale = delete(ProfilePhraseRow).where(
                ProfilePhraseRow.workspace == profile.workspace, ProfilePhraseRow.user_id == profile.user_id)
            await session.execute(stale.where(ProfilePhraseRow.phrase.not_in(keep)) if keep else stale)

    async def delete(self, workspace: str, user_id: str) -> bool:
        return await self.erase_member(workspace, user_id) > 0

    async def vectors(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                      ) -> dict[str, dict[str, bytes]]:
        query = select(ProfilePhraseRow.user_id, ProfilePhraseRow.phrase, ProfilePhraseRow.vector).where(
            ProfilePhraseRow.workspace == workspace, ProfilePhraseRow.matcher == matcher)
        if users is not None:
            query = query.where(ProfilePhraseRow.user_id.in_(list(users)))
        out: dict[str, dict[str, bytes]] = {}
        async with self.sessions() as session:
            connection = await session.connection()  # Core rows: this can be a whole workspace's phrases
            for user, phrase, vector in await connection.execute(query):
                out.setdefault(user, {})[phrase] = bytes(vector)
        return out

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None:
        if not vectors:
            return
        rows = [{"workspace": workspace, "user_id": user_id, "phrase": phrase, "matcher": matcher, "vector": vector}
                for phrase, vector in vectors.items()]
        async with self.sessions.begin() as session:
            if await session.get(ProfileRow, (workspace, user_id)) is None:
                return  # deleted meanwhile: keep nothing of it
            stmt = insert(session, ProfilePhraseRow)
            await session.execute(stmt.on_conflict_do_update(
                index_elements=["workspace", "user_id", "phrase"],
                set_={"matcher": stmt.excluded.matcher, "vector": stmt.excluded.vector}), rows)

    # PersonalData: a member's export and erasure include their profile.

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]:
        profile = await self.get(workspace, user)
        if profile is None:
            return {"profile": None}
        fields = {c: getattr(profile, c) for c in _COLUMNS}
        fields["updated_at"] = profile.updated_at.isoformat() if profile.updated_at else None
        return {"profile": fields}

    async def erase_member(self, workspace: str, user: str) -> int:
        async with self.sessions.begin() as session:
            await session.execute(delete(ProfilePhraseRow).where(
                ProfilePhraseRow.workspace == workspace, ProfilePhraseRow.user_id == user))
            result = await session.execute(delete(ProfileRow).where(
                ProfileRow.workspace == workspace, ProfileRow.user_id == user))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
