"""Shared fixtures. The SQL store runs on RAPPORT_TEST_DATABASE_URL (PostgreSQL in CI's second pass),
else on a fresh SQLite file per test."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.interests import vectors
from bot.interests.similarity import LexicalMatcher, Matcher
from storage.engine import create_engine, migrate
from storage.store import SqlStore
from tests.fakes import FakeClock, FakeOutbound, FakeStore


def _own_database(url: str) -> str:
    """Under pytest-xdist, each worker gets its own PostgreSQL database beside the one named (`<name>_gw0`, ...),
    created when missing, since every run starts by dropping the schema of the database it tests on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker}")
    plain = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own.database,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{own.database}"')
    return own.render_as_string(hide_password=False)


TEST_DATABASE_URL = _own_database(os.environ.get("RAPPORT_TEST_DATABASE_URL", ""))
os.environ.setdefault("RAPPORT_SECRET_KEY", "test-only-secret")  # no development key file from test runs
_schema_reset = False


def database_url(tmp_path: Path) -> str:
    return TEST_DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"


async def reset_postgres(url: str) -> None:
    """Once per run: an empty schema, so migrations run from scratch; then empty tables per test."""
    global _schema_reset
    engine = create_engine(url)
    async with engine.begin() as connection:
        if not _schema_reset:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    if not _schema_reset:
        await migrate(engine)
        _schema_reset = True
    async with engine.begin() as connection:
        # Every table the migrations made (slack_sdk's too), not only those our models describe.
        names = (await connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"
        ))).scalars().all()
        if names:
            await connection.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names)))
    await engine.dispose()


ROOT = Path(__file__).resolve().parent.parent


def rapport(args: list[str], env: dict[str, str] | None = None, stdin: str = "",
            timeout: float = 120, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The `rapport` command line in its own process, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "adapters.cli", *args], input=stdin, env=env, text=True,
                          capture_output=True, timeout=timeout, cwd=cwd)


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `rapport` process on this test's database."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'rapport.db'}"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    return {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_LOG_LEVEL": "WARNING"}


@pytest.fixture
async def sql_store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    url = database_url(tmp_path)
    if url.startswith("postgresql"):
        await reset_postgres(url)
    store = await SqlStore.open(url)
    yield store
    await store.close()


@pytest.fixture(params=["sql", "fake"])
def store(request: pytest.FixtureRequest, sql_store: SqlStore, fake_store: FakeStore) -> SqlStore | FakeStore:
    """The same test on the SQL store and on the in-memory fake."""
    return sql_store if request.param == "sql" else fake_store


@pytest.fixture(scope="session")
def shared_matcher() -> Matcher:
    """The embedding model, loaded once per run: what every core uses unless a test gives it another."""
    return vectors.shared_matcher()


@pytest.fixture
def matcher(shared_matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> Matcher:
    """The embedding model for one test, whatever a test module made the default."""
    monkeypatch.setattr(vectors, "shared_matcher", lambda: shared_matcher)
    return shared_matcher


@pytest.fixture
def lexical(monkeypatch: pytest.MonkeyPatch) -> Matcher:
    """The lexical matcher as every core's default for one test: fast and deterministic (the model is tested in
    tests/interests)."""
    matcher = LexicalMatcher()
    monkeypatch.setattr(vectors, "shared_matcher", lambda: matcher)
    return matcher


@pytest.fixture
def fake_store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbound() -> FakeOutbound:
    return FakeOutbound()


LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", "discord", "aiohttp", "aiosqlite", "sqlalchemy", "psycopg", "apscheduler")


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Logging as a Rapport process sets it up, with everything at DEBUG, the libraries' own DEBUG output too
    (as an operator's logging config might turn on): returns every line the handlers let through."""
    from bot import logs

    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    logs.configure("DEBUG")
    caplog.set_level(logging.DEBUG)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)

    def lines() -> list[str]:
        return [caplog.handler.format(r) for r in (*caplog.get_records("setup"), *caplog.records)]

    yield lines
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
