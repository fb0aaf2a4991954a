"""Members' data in the core tables: pausing, erasing, exporting, and the workspace's retention of history."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, column, delete, func, or_, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.members import member_hash
from bot.graph.conversation import OPEN
from bot.privacy.privacy import DEFAULT_RETENTION_DAYS, graph_export, messages_export
from storage.models import (
    AddresseeRow,
    Base,
    ContactRow,
    DeliveryRow,
    ErasedMemberRow,
    IntroductionRow,
    MemberRow,
    MessageRow,
    NudgeRow,
    NudgeShareRow,
    QuestionRow,
    TrackingPauseRow,
    WorkspaceSettingsRow,
)
from storage.statements import insert


class SqlPrivacy:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def pause(self, workspace: str, user: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(insert(session, TrackingPauseRow).values(
                workspace=workspace, user_id=user, since=now).on_conflict_do_nothing())

    async def resume(self, workspace: str, user: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(delete(TrackingPauseRow).where(
                TrackingPauseRow.workspace == workspace, TrackingPauseRow.user_id == user))
            await session.execute(delete(ErasedMemberRow).where(
                ErasedMemberRow.workspace == workspace, ErasedMemberRow.user_hash == member_hash(workspace, user)))

    async def untracked(self, workspace: str) -> frozenset[str]:
        async with self.sessions() as session:
            paused = await session.scalars(select(TrackingPauseRow.user_id).where(
                TrackingPauseRow.workspace == workspace))
            erased = await session.scalars(select(ErasedMemberRow.user_hash).where(
                ErasedMemberRow.workspace == workspace))
            return frozenset({member_hash(workspace, u) for u in paused} | set(erased))

    async def scrub(self) -> None:
        """Make deleted rows unrecoverable from the database files, not just invisible.

        SQLite runs with secure_delete (freed cells are zeroed); the write-ahead log still holds old page images
        until it is checkpointed and truncated. PostgreSQL: VACUUM marks the dead row versions free for reuse
        (their bytes stay in the table files until overwritten), and ANALYZE refreshes the planner statistics,
        whose samples (pg_stats) would otherwise keep the member's ids."""
        engine = self.sessions.kw["bind"]
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if connection.dialect.name == "sqlite":
                for _ in range(20):
                    busy = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
                    if busy is None or busy[0] == 0:
                        return
                    await asyncio.sleep(0.05)  # a reader still holds an old snapshot
                raise RuntimeError("could not checkpoint the SQLite write-ahead log after erasing")
            for table in Base.metadata.sorted_tables:  # every table may have held the member's rows
                await connection.execute(text(f'VACUUM (ANALYZE) "{table.name}"'))

    async def forget_workspace(self, workspace: str) -> int:
        """Everything of a workspace, from every table that has a workspace column (an uninstalled app)."""
        removed = 0
        async with self.sessions.begin() as session:
            for table in reversed(Base.metadata.sorted_tables):
                if "workspace" in table.c:
                    result = await session.execute(table.delete().where(table.c.workspace == workspace))
                    removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return removed

    async def forget_forever(self, workspace: str, user_hash: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(insert(session, ErasedMemberRow).values(
                workspace=workspace, user_hash=user_hash, erased_at=now).on_conflict_do_nothing())

    async def retention_days(self, workspace: str) -> int:
        async with self.sessions() as session:
            days = await session.scalar(select(WorkspaceSettingsRow.retention_days).where(
                WorkspaceSettingsRow.workspace == workspace))
            return days or DEFAULT_RETENTION_DAYS

    async def set_retention_days(self, workspace: str, days: int) -> None:
        async with self.sessions.begin() as session:
            stmt = insert(session, WorkspaceSettingsRow).values(workspace=workspace, retention_days=days)
            await session.execute(stmt.on_conflict_do_update(
                index_elements=["workspace"], set_={"retention_days": days}))

    async def expire_history(self, workspace: str, before: datetime) -> int:
        """Delete contact history older than `before` (messages, questions, contacts, and the nudges, shares and
        introductions that came of them): the graph then reflects the retention window only."""
        removed = 0
        async with self.sessions.begin() as session:
            for table, column in ((ContactRow, ContactRow.at), (QuestionRow, QuestionRow.asked_at),
                                  (MessageRow, MessageRow.at), (AddresseeRow, AddresseeRow.at),
                                  (NudgeRow, NudgeRow.created_at), (NudgeShareRow, NudgeShareRow.at),
                                  (IntroductionRow, IntroductionRow.made_at)):
                result = await session.execute(delete(table).where(table.workspace == workspace, column < before))
                removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return removed


# Slack's installation rows (bolt's store, migration 0002) name the member who installed the app; only the bot
# token is used, so erasing the installer blanks their id and any user token, and keeps the installation working.
_INSTALLS = table("slack_installations", column("team_id"), column("user_id"), column("installed_at", DateTime),
                  column("user_token"), column("user_refresh_token"), column("user_scopes"))


class SqlCoreData:
    """The member's part of the core tables: who they are, their messages' metadata, questions and contacts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]:
        q, c = QuestionRow, ContactRow
        async with self.sessions() as session:
            member = await session.get(MemberRow, (workspace, user))
            questions = list(await session.scalars(select(q).where(
                q.workspace == workspace, or_(q.asker == user, q.addressee == user)).order_by(q.asked_at)))
            contacts = list(await session.scalars(select(c).where(
                c.workspace == workspace, or_(c.source == user, c.target == user)).order_by(c.at)))
            messages = list(await session.scalars(select(MessageRow).where(
                MessageRow.workspace == workspace, MessageRow.author == user).order_by(MessageRow.at)))
            a = AddresseeRow
            mine = select(MessageRow.message_id).where(MessageRow.workspace == workspace, MessageRow.author == user)
            by_you = await session.scalar(select(func.count()).where(a.workspace == workspace,
                                                                     a.message_id.in_(mine)))
            to_you = await session.scalar(select(func.count()).where(a.workspace == workspace, a.user_id == user))
            paused = await session.scalar(select(TrackingPauseRow.since).where(
                TrackingPauseRow.workspace == workspace, TrackingPauseRow.user_id == user))
            installed = list(await session.scalars(select(_INSTALLS.c.installed_at).where(
                _INSTALLS.c.team_id == workspace, _INSTALLS.c.user_id == user).order_by(_INSTALLS.c.installed_at)))
        return {
            "member": {"user_id": member.user_id, "name": member.name, "tz": member.tz} if member else None,
            "tracking_paused_since": paused.isoformat() if paused else None,
            "messages_seen": len(messages),
            "messages": messages_export(messages),
            # Whom flat-chat messages speak to or name (ids kept, for reading later replies): yours, and others' to you.
            "addressees_of_your_messages": by_you or 0,
            "messages_addressing_you": to_you or 0,
            "installed_rapport_at": [at.isoformat() for at in installed],
            **graph_export(user, questions, contacts),
        }

    async def erase_member(self, workspace: str, user: str) -> int:
        q, c, m = QuestionRow, ContactRow, MessageRow
        removed = 0
        async with self.sessions.begin() as session:
            theirs = select(m.message_id).where(m.workspace == workspace, m.author == user)
            for statement in (
                delete(q).where(q.workspace == workspace, or_(q.asker == user, q.addressee == user)),
                # Someone's open question keeps that it was answered, not by which of their messages.
                update(q).where(q.workspace == workspace, q.addressee == OPEN, q.answer_id.in_(theirs))
                .values(answer_id=None),
                delete(c).where(c.workspace == workspace, or_(c.source == user, c.target == user)),
                delete(AddresseeRow).where(AddresseeRow.workspace == workspace, or_(
                    AddresseeRow.user_id == user, AddresseeRow.message_id.in_(theirs))),
                delete(m).where(m.workspace == workspace, m.author == user),
                delete(MemberRow).where(MemberRow.workspace == workspace, MemberRow.user_id == user),
                delete(TrackingPauseRow).where(TrackingPauseRow.workspace == workspace,
                                               TrackingPauseRow.user_id == user),
                delete(DeliveryRow).where(DeliveryRow.recipient == user),
                update(_INSTALLS).where(_INSTALLS.c.team_id == workspace, _INSTALLS.c.user_id == user).values(
                    user_id="", user_token=None, user_refresh_token=None, user_scopes=None),
            ):
                removed += int((await session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]
        return removed
