"""Profiles and the embeddings of their interest phrases (bot.ports.Profiles), on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.profiles import TEXT_FIELDS, Profile
from bot.privacy.privacy import vectors_export
from storage.models import ProfileRow, ProfileVectorsRow
from storage.statements import insert

_COLUMNS = (*TEXT_FIELDS, "tz", "work_start", "work_end", "updated_at")


def _profile(row: Any) -> Profile:
    return Profile(row.workspace, row.user_id, **{c: getattr(row, c) for c in _COLUMNS})


def _keys(phrases: str) -> list[str]:
    return phrases.split("\n") if phrases else []


def _split(keys: Sequence[str], vectors: bytes) -> dict[str, bytes]:
    """A row's phrase keys with their vectors (all of one length: one matcher made them)."""
    size = len(vectors) // len(keys) if keys else 0
    return {key: vectors[k * size:(k + 1) * size] for k, key in enumerate(keys)}


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
            stored = await self._stored(session, profile.workspace, profile.user_id)
            kept = {matcher: {k: v for k, v in found.items() if k in keep} for matcher, found in stored.items()}
            await self._write(session, profile.workspace, profile.user_id,  # phrases gone: their vectors go too
                              {m: found for m, found in kept.items() if len(found) != len(stored[m])})

    @staticmethod
    async def _stored(session: AsyncSession, workspace: str, user_id: str) -> dict[str, dict[str, bytes]]:
        """matcher -> phrase key -> vector of one member, locked until the transaction ends (PostgreSQL)."""
        rows = await session.execute(
            select(ProfileVectorsRow.matcher, ProfileVectorsRow.phrases, ProfileVectorsRow.vectors)
            .where(ProfileVectorsRow.workspace == workspace, ProfileVectorsRow.user_id == user_id).with_for_update())
        return {matcher: _split(_keys(phrases), bytes(vectors)) for matcher, phrases, vectors in rows}

    @staticmethod
    async def _write(session: AsyncSession, workspace: str, user_id: str, rows: dict[str, dict[str, bytes]]) -> None:
        for matcher, found in rows.items():
            if not found:
                await session.execute(delete(ProfileVectorsRow).where(
                    ProfileVectorsRow.workspace == workspace, ProfileVectorsRow.user_id == user_id,
                    ProfileVectorsRow.matcher == matcher))
                continue
            values = {"phrases": "\n".join(found), "vectors": b"".join(found.values())}
            stmt = insert(session, ProfileVectorsRow).values(workspace=workspace, user_id=user_id, matcher=matcher,
                                                             **values)
            await session.execute(stmt.on_conflict_do_update(index_elements=["workspace", "user_id", "matcher"],
                                                             set_=values))

    async def delete(self, workspace: str, user_id: str) -> bool:
        return await self.erase_member(workspace, user_id) > 0

    async def vector_rows(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                          ) -> dict[str, tuple[tuple[str, ...], bytes]]:
        query = select(ProfileVectorsRow.user_id, ProfileVectorsRow.phrases, ProfileVectorsRow.vectors).where(
            ProfileVectorsRow.workspace == workspace, ProfileVectorsRow.matcher == matcher)
        if users is not None:
            query = query.where(ProfileVectorsRow.user_id.in_(list(users)))
        async with self.sessions() as session:
            connection = await session.connection()  # Core rows: this can be a whole workspace's
            return {user: (tuple(_keys(phrases)), bytes(vectors))
                    for user, phrases, vectors in await connection.execute(query) if phrases}

    async def vectors(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                      ) -> dict[str, dict[str, bytes]]:
        return {user: _split(keys, blob)
                for user, (keys, blob) in (await self.vector_rows(workspace, matcher, users)).items()}

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None:
        if not vectors:
            return
        async with self.sessions.begin() as session:
            if await session.get(ProfileRow, (workspace, user_id)) is None:
                return  # deleted meanwhile: keep nothing of it
            stored = await self._stored(session, workspace, user_id)
            # A phrase has one vector, from the matcher that made it last.
            rows = {m: {k: v for k, v in found.items() if k not in vectors} for m, found in stored.items()
                    if m != matcher and not found.keys().isdisjoint(vectors)}
            rows[matcher] = {**stored.get(matcher, {}), **vectors}
            await self._write(session, workspace, user_id, rows)

    # PersonalData: a member's export and erasure include their profile.

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]:
        profile = await self.get(workspace, user)
        if profile is None:
            return {"profile": None, "profile_vectors": []}
        fields = {c: getattr(profile, c) for c in _COLUMNS}
        fields["updated_at"] = profile.updated_at.isoformat() if profile.updated_at else None
        async with self.sessions() as session:
            found = await self._stored(session, workspace, user)
        return {"profile": fields, "profile_vectors": vectors_export(found)}

    async def erase_member(self, workspace: str, user: str) -> int:
        async with self.sessions.begin() as session:
            await session.execute(delete(ProfileVectorsRow).where(
                ProfileVectorsRow.workspace == workspace, ProfileVectorsRow.user_id == user))
            result = await session.execute(delete(ProfileRow).where(
                ProfileRow.workspace == workspace, ProfileRow.user_id == user))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
