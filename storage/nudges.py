"""Nudges, members' nudge settings and shares (bot.ports.Nudges), on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.nudges import FAILED, Kind, Nudge, NudgeSettings, SentNudge
from bot.graph.conversation import OPEN, Question
from storage.graph import question_of
from storage.models import ContactRow, NudgeRow, NudgeSettingsRow, NudgeShareRow, QuestionRow
from storage.statements import chunks, given, insert

_FIELDS = ("workspace", "recipient", "subject", "ref", "channel", "value", "created_at", "due_at", "deliver_at",
           "status", "sent_at", "attempt")


def _nudge(row: NudgeRow) -> Nudge:
    return Nudge(kind=Kind(row.kind), id=row.id, **{f: getattr(row, f) for f in _FIELDS})


def _settings(row: NudgeSettingsRow) -> NudgeSettings:
    return NudgeSettings(
        row.workspace, row.user_id, row.enabled, row.quiet_start, row.quiet_end, row.cap,
        frozenset(int(d) for d in row.days_off.split(",") if d), frozenset(k for k in row.muted.split(",") if k))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


class SqlNudges:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, nudges: Sequence[Nudge]) -> int:
        rows = [{**{f: getattr(n, f) for f in _FIELDS}, "kind": n.kind.value, "dedup": n.dedup} for n in nudges]
        added = 0
        table: Table = NudgeRow.__table__  # type: ignore[assignment]
        async with self.sessions.begin() as session:
            for chunk in chunks(rows, 500):
                # The Core table, not the ORM class: the ORM's bulk path compiles an INSERT per row with RETURNING.
                stmt = insert(session, table).on_conflict_do_nothing().returning(table.c.id)
                added += len((await session.execute(stmt, chunk)).all())
        return added

    async def get(self, nudge_id: int) -> Nudge | None:
        async with self.sessions() as session:
            row = await session.get(NudgeRow, nudge_id)
            return _nudge(row) if row else None

    async def due(self, now: datetime, limit: int) -> list[Nudge]:
        async with self.sessions() as session:
            rows = await session.scalars(select(NudgeRow).where(
                NudgeRow.status == "pending", NudgeRow.deliver_at <= now).order_by(NudgeRow.deliver_at).limit(limit))
            return [_nudge(r) for r in rows]

    async def due_for(self, workspace: str, user: str, now: datetime) -> list[Nudge]:
        async with self.sessions() as session:
            rows = await session.scalars(select(NudgeRow).where(
                NudgeRow.workspace == workspace, NudgeRow.recipient == user, NudgeRow.status == "pending",
                NudgeRow.deliver_at <= now))
            return [_nudge(r) for r in rows]

    async def change(self, nudge: Nudge, *, status: str | None = None, deliver_at: datetime | None = None,
                     due_at: datetime | None = None, sent_at: datetime | None = None, attempt: int | None = None,
                     ) -> None:
        values = given(status=status, deliver_at=deliver_at, due_at=due_at, sent_at=sent_at, attempt=attempt)
        async with self.sessions.begin() as session:
            await session.execute(update(NudgeRow).where(NudgeRow.id == nudge.id).values(**values))

    async def sent_times(self, workspace: str, user: str | None, since: datetime) -> list[datetime]:
        query = select(NudgeRow.sent_at).where(
            NudgeRow.workspace == workspace, NudgeRow.sent_at > since, NudgeRow.status != "failed")
        if user is not None:
            query = query.where(NudgeRow.recipient == user)
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def sent_since(self, workspace: str, since: datetime) -> list[SentNudge]:
        n, c, s = NudgeRow, ContactRow, NudgeShareRow
        # Correlated subqueries, each an index search by (workspace, source) or (workspace, giver) per nudge.
        contact = select(func.min(c.at)).where(c.workspace == n.workspace, c.source == n.recipient,
                                               c.target == n.subject, c.at > n.sent_at).scalar_subquery()
        share = select(func.min(s.at)).where(s.workspace == n.workspace, s.giver == n.recipient,
                                             s.receiver == n.subject, s.at > n.sent_at).scalar_subquery()
        async with self.sessions() as session:
            rows = await session.execute(select(n.kind, n.recipient, n.sent_at, n.status, contact, share).where(
                n.workspace == workspace, n.sent_at > since, n.status != FAILED))
            return [SentNudge(kind, recipient, sent_at, status, min((t for t in (met, shared) if t), default=None))
                    for kind, recipient, sent_at, status, met, shared in rows]

    async def recent(self, workspace: str, user: str, limit: int) -> list[Nudge]:
        async with self.sessions() as session:
            rows = await session.scalars(select(NudgeRow).where(
                NudgeRow.workspace == workspace, NudgeRow.recipient == user)
                .order_by(NudgeRow.created_at.desc(), NudgeRow.id.desc()).limit(limit))
            return [_nudge(r) for r in rows]

    async def told(self, workspace: str, kind: str) -> list[tuple[str, str, str]]:
        async with self.sessions() as session:
            rows = await session.execute(select(NudgeRow.recipient, NudgeRow.subject, NudgeRow.ref).where(
                NudgeRow.workspace == workspace, NudgeRow.kind == kind, NudgeRow.sent_at.is_not(None)))
            return [(r, s, ref) for r, s, ref in rows]

    async def settings(self, workspace: str, user: str) -> NudgeSettings:
        async with self.sessions() as session:
            row = await session.get(NudgeSettingsRow, (workspace, user))
            return _settings(row) if row else NudgeSettings(workspace, user)

    async def all_settings(self, workspace: str) -> dict[str, NudgeSettings]:
        async with self.sessions() as session:
            rows = await session.scalars(select(NudgeSettingsRow).where(NudgeSettingsRow.workspace == workspace))
            return {r.user_id: _settings(r) for r in rows}

    async def save_settings(self, s: NudgeSettings) -> None:
        values = {"enabled": s.enabled, "quiet_start": s.quiet_start, "quiet_end": s.quiet_end, "cap": s.cap,
                  "days_off": ",".join(str(d) for d in sorted(s.days_off)), "muted": ",".join(sorted(s.muted))}
        async with self.sessions.begin() as session:
            stmt = insert(session, NudgeSettingsRow).values(workspace=s.workspace, user_id=s.user_id, **values)
            await session.execute(stmt.on_conflict_do_update(index_elements=["workspace", "user_id"], set_=values))

    async def unanswered(self, workspace: str, since: datetime, until: datetime) -> list[Question]:
        """Questions put to someone whose answer window closed in (since, until] with no answer."""
        q = QuestionRow
        async with self.sessions() as session:
            rows = await session.scalars(select(q).where(
                q.workspace == workspace, q.addressee != OPEN, q.answered_at.is_(None),
                q.deadline > since, q.deadline <= until))
            return [question_of(r) for r in rows]

    async def open_question(self, workspace: str, message_id: str, addressee: str) -> datetime | None:
        """When the question was asked, while it is still unanswered; None once answered or deleted."""
        q = QuestionRow
        async with self.sessions() as session:
            return await session.scalar(select(q.asked_at).where(
                q.workspace == workspace, q.message_id == message_id, q.addressee == addressee,
                q.answered_at.is_(None)))

    async def record_share(self, workspace: str, giver: str, receiver: str, at: datetime) -> None:
        async with self.sessions.begin() as session:
            session.add(NudgeShareRow(workspace=workspace, giver=giver, receiver=receiver, at=at))

    async def gave(self, workspace: str, giver: str, receiver: str, since: datetime) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(select(NudgeShareRow.id).where(
                NudgeShareRow.workspace == workspace, NudgeShareRow.giver == giver,
                NudgeShareRow.receiver == receiver, NudgeShareRow.at >= since).limit(1))
            return found is not None

    # PersonalData: nudges to and about the member, their settings, shares both ways.

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]:
        n, s = NudgeRow, NudgeShareRow
        async with self.sessions() as session:
            nudges = list(await session.scalars(select(n).where(
                n.workspace == workspace, or_(n.recipient == user, n.subject == user)).order_by(n.created_at)))
            shares = list(await session.scalars(select(s).where(
                s.workspace == workspace, or_(s.giver == user, s.receiver == user)).order_by(s.at)))
        settings = await self.settings(workspace, user)
        return {
            "nudges": [{
                "direction": "to you" if r.recipient == user else "about you",
                "kind": r.kind, "other": r.subject if r.recipient == user else r.recipient,
                "status": r.status, "created_at": _iso(r.created_at), "sent_at": _iso(r.sent_at),
            } for r in nudges],
            "nudge_settings": {
                "enabled": settings.enabled, "quiet_hours": settings.quiet, "cap": settings.cap,
                "days_off": sorted(settings.days_off), "muted": sorted(settings.muted),
            },
            "shares": [{"direction": "gave" if r.giver == user else "received",
                        "other": r.receiver if r.giver == user else r.giver, "at": _iso(r.at)} for r in shares],
        }

    async def erase_member(self, workspace: str, user: str) -> int:
        n, s = NudgeRow, NudgeShareRow
        removed = 0
        async with self.sessions.begin() as session:
            for statement in (
                delete(n).where(n.workspace == workspace, or_(n.recipient == user, n.subject == user)),
                delete(s).where(s.workspace == workspace, or_(s.giver == user, s.receiver == user)),
                delete(NudgeSettingsRow).where(NudgeSettingsRow.workspace == workspace,
                                               NudgeSettingsRow.user_id == user),
            ):
                removed += int((await session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]
        return removed
