"""The database away, as the adapters' fault tests simulate it: the named store methods raise as a dropped
connection does and the store says it cannot be reached, until the block ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest


@contextlib.contextmanager
def database_down(store: Any, *methods: tuple[object, str]) -> Iterator[None]:
    """`methods`: (repository, method name) pairs that fail while the database is down."""
    async def refused(*_: object, **__: object) -> Any:
        raise ConnectionRefusedError("database down")

    async def down() -> bool:
        return False

    with pytest.MonkeyPatch.context() as patch:
        for owner, name in methods:
            patch.setattr(owner, name, refused)
        patch.setattr(store, "reachable", down)
        yield
