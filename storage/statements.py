"""Statements every repository builds the same way: INSERT ... ON CONFLICT in the session's dialect, and rows
written in chunks the drivers accept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """INSERT that can say ON CONFLICT, in the session's dialect."""
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def given(**values: Any) -> dict[str, Any]:
    """The fields a partial update was given: those passed as None are left as they are."""
    return {name: value for name, value in values.items() if value is not None}


def chunks(items: Sequence[Any], size: int = 1000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
