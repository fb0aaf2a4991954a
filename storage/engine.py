"""Connecting to the database and bringing its schema up to date with Alembic."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision: each is named for its revision ("0011_profile_vectors.py", revision "0011"), one
# after another (a test holds them to Alembic's own head). A database already there needs no Alembic, whose import
# (with Mako's and Pygments') took a sixth of every command line's start.
HEAD = max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


class DatabaseUnavailable(Exception):
    """The database named by RAPPORT_DATABASE_URL cannot be reached or opened."""


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as error:  # ValueError: a port that is not a number
        # The message names neither the URL nor its password: it may be pasted into a ticket.
        raise DatabaseUnavailable(f"RAPPORT_DATABASE_URL is not a database URL ({error}): use "
                                  "sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE") from None


def async_url(url: str) -> str:
    """Accept the URLs people paste (postgresql://, sqlite:///) and pick our async drivers."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise DatabaseUnavailable(f"RAPPORT_DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)")
    return parsed.render_as_string(hide_password=False)


# SQL errors reach tracebacks in the logs with their statement's parameters: a profile's words, names. Hidden, an
# error still names its statement, and SQLAlchemy's own logging (echo) shows no values either.
HIDE_PARAMETERS = True


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=HIDE_PARAMETERS)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside one writer; secure_delete overwrites erased rows (privacy).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=HIDE_PARAMETERS)


class NewerSchema(Exception):
    """The database is at a schema revision this version does not have: a newer Rapport migrated it."""


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(_alembic_config(connection), "head")
    except CommandError as error:
        raise NewerSchema(str(error)) from None


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending migration. Safe to call from several processes at once on PostgreSQL."""
    async with engine.begin() as connection:
        if await connection.run_sync(_revision) == HEAD:
            return
        if connection.dialect.name == "postgresql":
            # Serialise concurrent upgrades from several bot processes starting together.
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727270001)")
        await connection.run_sync(_upgrade)


def _open_sqlite_file(url: str) -> None:
    """Open a SQLite file once before aiosqlite does. When aiosqlite fails to open one, its worker thread answers
    after asyncio.run has closed the loop and prints a traceback of its own ("Event loop is closed", about one
    run in two; omnilib/aiosqlite#389); opening it here first turns that into our one-line error."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:") or "uri" in parsed.query:
        return
    try:
        sqlite3.connect(parsed.database).close()
    except sqlite3.Error as error:
        raise DatabaseUnavailable(f"cannot open the database in RAPPORT_DATABASE_URL: {error}") from None


async def connect(url: str) -> AsyncEngine:
    """An engine on an up-to-date schema, or DatabaseUnavailable with a one-line reason."""
    _open_sqlite_file(url)
    engine = create_engine(url)
    try:
        await migrate(engine)
    except (OSError, ConnectionError) as error:
        await engine.dispose()
        raise DatabaseUnavailable(f"cannot reach the database in RAPPORT_DATABASE_URL: {error}") from None
    except NewerSchema as error:
        await engine.dispose()
        raise DatabaseUnavailable(f"cannot use the database in RAPPORT_DATABASE_URL: {error}; a newer version of "
                                  "Rapport has migrated it: run that version (or a later one)") from None
    except Exception as error:
        await engine.dispose()
        if type(error).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3", "aiosqlite")):
            reason = " ".join(str(getattr(error, "orig", None) or error).split())
            raise DatabaseUnavailable(f"cannot open the database in RAPPORT_DATABASE_URL: {reason}") from None
        raise
    return engine
