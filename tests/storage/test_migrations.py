"""The migrated schema is exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
