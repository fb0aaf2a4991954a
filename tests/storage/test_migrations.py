"""The migrated schema is exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from storage.models import Base


async def test_migrations_match_models(sql_store) -> None:
    async with sql_store.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    # slack_sdk's installation tables are created by migration but described by slack_sdk, not our models.
    diff = [d for d in diff if not (d[0] in ("remove_table", "remove_index") and _table(d[1]).startswith("slack_"))]
    assert diff == []


def _table(item) -> str:
    return getattr(item, "name", "") if item.__class__.__name__ == "Table" else getattr(item.table, "name", "")


async def test_0011_carries_phrase_vectors_over_both_ways(sql_store) -> None:
    """One row per phrase (before 0011) becomes one row per member and matcher, and back on downgrade; on SQLite
    and PostgreSQL, from the migrated schema and back to it."""
    from alembic import command
    from sqlalchemy import text

    from storage.engine import _alembic_config

    def to(revision: str, up: bool = True) -> Callable[[Connection], None]:
        return lambda sync: (command.upgrade if up else command.downgrade)(_alembic_config(sync), revision)

    phrases = [("ana", "sourdough", "m1", b"1234"), ("ana", "chess", "m1", b"5678"), ("ana", "rust", "m2", b"abcd"),
               ("bob", "chess", "m1", b"9999")]
    async with sql_store.engine.begin() as connection:
        await connection.run_sync(to("0010", up=False))
        await connection.execute(text(
            "INSERT INTO profile_phrases (workspace, user_id, phrase, matcher, vector) VALUES ('T1', :u, :p, :m, :v)"),
            [{"u": u, "p": p, "m": m, "v": v} for u, p, m, v in phrases])
        await connection.run_sync(to("0011"))
        rows = (await connection.execute(text(
            "SELECT workspace, user_id, matcher, phrases, vectors FROM profile_vectors ORDER BY user_id, matcher"
        ))).all()
        assert [tuple(r) for r in rows] == [("T1", "ana", "m1", "chess\nsourdough", b"56781234"),
                                            ("T1", "ana", "m2", "rust", b"abcd"), ("T1", "bob", "m1", "chess", b"9999")]
        await connection.run_sync(to("0010", up=False))
        back = (await connection.execute(text(
            "SELECT user_id, phrase, matcher, vector FROM profile_phrases ORDER BY user_id, phrase"))).all()
        assert [tuple(r) for r in back] == sorted(phrases)
        await connection.execute(text("DELETE FROM profile_phrases"))
        await connection.run_sync(to("head"))


def test_the_head_read_from_file_names_is_alembic_s_own() -> None:
    from alembic.script import ScriptDirectory

    from storage.engine import HEAD, MIGRATIONS, _alembic_config

    config = _alembic_config(None)  # type: ignore[arg-type]
    assert config.get_main_option("script_location") == str(MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_a_database_already_migrated_opens_without_alembic(tmp_path: Path) -> None:
    """Every command line opens the database; one at the head needs nothing of Alembic (a sixth of the start)."""
    opens = ("import asyncio, sys\nfrom storage.engine import connect\n"
             "async def main():\n    await (await connect(sys.argv[1])).dispose()\n"
             "asyncio.run(main())\nprint('alembic' in sys.modules)\n")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first, again = (subprocess.run([sys.executable, "-c", opens, url], capture_output=True, text=True, check=True,
                                   cwd=Path(__file__).parents[2]).stdout.strip() for _ in range(2))
    assert (first, again) == ("True", "False")
