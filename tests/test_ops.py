"""/readyz follows the database: 503 while it cannot be reached."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.ops import ops_app
from bot.app import Rapport
from bot.outbound import Outbounds
from storage.store import SqlStore
from tests.fakes import FakeClock
from tests.ops_helpers import CORE_METRICS, samples


async def test_readyz_is_503_while_the_database_is_unreachable(tmp_path: Path) -> None:
    # A database file in a folder that does not exist: every connection fails, as with a database host down.
    store = SqlStore(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'rapport.db'}"))
    core = Rapport(store, FakeClock(), Outbounds())
    async with TestClient(TestServer(ops_app(core))) as http:
        ready = await http.get("/readyz")
        assert ready.status == 503
        assert await ready.json() == {"ready": False, "database": "unreachable"}
        health = await http.get("/healthz")  # the process itself is fine: do not restart it for the database
        assert health.status == 200 and (await health.json())["ok"] is True
        metrics = await http.get("/metrics")
        assert metrics.status == 200
        assert set(CORE_METRICS) <= set(samples(await metrics.text()))
    await store.close()
