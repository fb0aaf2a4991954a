"""The SQL store: one repository per concept behind the core's ports (bot/ports.py), on SQLite or PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.ports import PersonalData
from storage.coffee import SqlCoffee
from storage.engine import connect
from storage.graph import SqlGraph
from storage.members import SqlMembers
from storage.nudges import SqlNudges
from storage.privacy import SqlCoreData, SqlPrivacy
from storage.profiles import SqlProfiles
from storage.scheduling import SqlRuns


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.members = SqlMembers(self.sessions)
        self.graph = SqlGraph(self.sessions)
        self.runs = SqlRuns(self.sessions)
        self.privacy = SqlPrivacy(self.sessions)
        self.profiles = SqlProfiles(self.sessions)
        self.nudges = SqlNudges(self.sessions)
        self.coffee = SqlCoffee(self.sessions)
        # Every repository holding member data, for export and erasure.
        self.personal: list[PersonalData] = [SqlCoreData(self.sessions), self.profiles, self.nudges, self.coffee]

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        return cls(await connect(url))

    async def reachable(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()
