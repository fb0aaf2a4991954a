"""Members as the platforms name them (bot.ports.Members); an erased member is never stored again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.members import member_hash
from bot.events import Member
from storage.models import ErasedMemberRow, MemberRow
from storage.statements import chunks, insert


class SqlMembers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def upsert(self, members: Sequence[Member]) -> None:
        if not members:
            return
        rows: list[dict[str, Any]] = list({(m.workspace, m.user_id): {
            "workspace": m.workspace, "user_id": m.user_id, "name": m.name[:200], "tz": m.tz, "is_bot": m.is_bot,
        } for m in members}.values())
        async with self.sessions.begin() as session:
            erased = set(await session.scalars(select(ErasedMemberRow.user_hash).where(
                ErasedMemberRow.workspace.in_({r["workspace"] for r in rows}))))
            if erased:
                rows = [r for r in rows if member_hash(r["workspace"], r["user_id"]) not in erased]
            for chunk in chunks(rows):
                stmt = insert(session, MemberRow)
                await session.execute(stmt.on_conflict_do_update(
                    index_elements=["workspace", "user_id"],
                    set_={"name": stmt.excluded.name, "tz": func.coalesce(stmt.excluded.tz, MemberRow.tz),
                          "is_bot": stmt.excluded.is_bot},
                ), chunk)

    async def get(self, workspace: str, user_id: str) -> Member | None:
        async with self.sessions() as session:
            row = await session.get(MemberRow, (workspace, user_id))
            return Member(row.workspace, row.user_id, row.name, row.tz, row.is_bot) if row else None

    async def list(self, workspace: str) -> list[Member]:
        m = MemberRow
        async with self.sessions() as session:
            # Plain rows rather than ORM objects: a coffee round and every command's name lookups read them all.
            rows = await session.execute(select(m.workspace, m.user_id, m.name, m.tz, m.is_bot)
                                         .where(m.workspace == workspace))
            return [Member(r.workspace, r.user_id, r.name, r.tz, r.is_bot) for r in rows]
