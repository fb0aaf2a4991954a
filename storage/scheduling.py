"""Claims and deliveries of scheduled runs in SQL (bot/scheduling.py explains the protocol)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import DeliveryRow, RunRow
from storage.statements import insert


class SqlRuns:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def claim(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        async with self.sessions.begin() as session:
            stmt = insert(session, RunRow).values(key=key, owner=owner, claimed_at=now, lease_until=now + lease)
            if (await session.execute(stmt.on_conflict_do_nothing().returning(RunRow.key))).first():
                return True
            # Taken: ours only if its owner let the lease run out without finishing (a crash mid-run).
            result = await session.execute(
                update(RunRow)
                .where(RunRow.key == key, RunRow.finished_at.is_(None), RunRow.lease_until < now)
                .values(owner=owner, claimed_at=now, lease_until=now + lease))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def renew(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(RunRow)
                .where(RunRow.key == key, RunRow.owner == owner, RunRow.finished_at.is_(None))
                .values(lease_until=now + lease))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def finish(self, key: str, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(RunRow).where(RunRow.key == key).values(finished_at=now))

    async def finished(self, key: str) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(select(RunRow.finished_at).where(RunRow.key == key))
            return found is not None

    async def deliver_once(self, key: str, recipient: str, now: datetime, run: str | None = None) -> bool:
        async with self.sessions.begin() as session:
            stmt = insert(session, DeliveryRow).values(key=key, recipient=recipient, status="sending", at=now)
            if (await session.execute(stmt.on_conflict_do_nothing().returning(DeliveryRow.key))).first():
                return True
            # Still `sending` from before the run's current claim: its owner died with it in hand.
            claimed = select(RunRow.claimed_at).where(RunRow.key == (run or key)).scalar_subquery()
            result = await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.key == key, DeliveryRow.recipient == recipient, DeliveryRow.status == "sending",
                       DeliveryRow.at < claimed)
                .values(at=now))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delivery(self, key: str, recipient: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(DeliveryRow.status).where(DeliveryRow.key == key, DeliveryRow.recipient == recipient))

    async def delivered(self, key: str, recipient: str, ok: bool, now: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.key == key, DeliveryRow.recipient == recipient)
                .values(status="sent" if ok else "failed", at=now))

    async def forget_deliveries(self, before: datetime) -> int:
        async with self.sessions.begin() as session:
            result = await session.execute(delete(DeliveryRow).where(DeliveryRow.at < before))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
