"""The core's intake (bot/intake/intake.py): messages taken from a platform are stored in order, kept through a database
outage, and a bad one costs only itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Rapport
from bot.events import MessagePosted
from bot.graph.conversation import OPEN, Outcome
from tests.fakes import FakeClock, FakeOutbound, FakeStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "zebra-sentinel-text"


def msg(n: int, author: str, text: str, reply_to: str | None = None) -> MessagePosted:
    return MessagePosted("T1", "C1", f"m{n}", author, T0 + timedelta(seconds=n), text, reply_to=reply_to)


def pairs(count: int) -> list[MessagePosted]:
    """Question + answer pairs back to back: ana asks bob, bob replies to her message."""
    out = []
    for i in range(count):
        out += [msg(2 * i, "ana", f"bob, {SECRET} number {i}?"), msg(2 * i + 1, "bob", "yes", reply_to=f"m{2 * i}")]
    return out


class Flaky:
    """The graph's record() failing while `down` (the database away) or for one poisoned message id."""

    def __init__(self, store: FakeStore, poison: str = "") -> None:
        self.record = store.graph.record
        self.store = store
        self.poison = poison
        self.calls = 0
        store.graph.record = self  # type: ignore[method-assign]

    async def __call__(self, outcomes: Sequence[Outcome]) -> int:
        self.calls += 1
        if not self.store.up:
            raise ConnectionRefusedError("database down")
        if any(o.message.message_id == self.poison for o in outcomes):
            raise ValueError("bad row")
        return await self.record(outcomes)


def core_with(store: FakeStore) -> Rapport:
    core = Rapport(store, FakeClock(T0), FakeOutbound())
    core.intake.backoff = (0.01, 0.05)
    return core


def answered(store: FakeStore) -> int:
    """Answered asker -> answerer edges (an open question's own row says only that it has an answer)."""
    return sum(q.answered_at is not None and q.addressee != OPEN for q in store.graph.questions)


async def test_messages_taken_during_an_outage_are_kept_and_stored_when_the_database_is_back(
        caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore(up=False)
    flaky = Flaky(store)
    core = core_with(store)
    events = pairs(3)
    with caplog.at_level(logging.DEBUG):
        for event in events:
            assert core.intake.put(event, f"message={event.message_id}")
        await asyncio.sleep(0.2)
        assert core.intake.waiting == 6 and flaky.calls > 2  # retried, kept, nothing dropped
        store.up = True
        assert await core.intake.drain(5) == 0
    assert len(store.graph.memory.messages) == 6 and answered(store) == 3
    assert core.intake.dropped == 0 and core.intake.stored == 6
    assert SECRET not in caplog.text


async def test_past_the_limit_the_intake_refuses_instead_of_growing() -> None:
    store = FakeStore(up=False)
    Flaky(store)
    core = core_with(store)
    core.intake.limit = 4
    events = pairs(3)
    taken = [core.intake.put(e, e.message_id) for e in events]
    assert taken == [True] * 4 + [False] * 2 and not core.intake.accepts()
    assert await core.intake.stop() == 4  # the process goes away with the database still down: logged, counted


async def test_a_poisoned_message_costs_only_itself_and_is_logged_by_its_ids(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    Flaky(store, poison="m4")
    core = core_with(store)
    with caplog.at_level(logging.ERROR):
        for event in pairs(3):
            core.intake.put(event, f"event=Ev{event.message_id} channel=C1 message={event.message_id}")
        assert await core.intake.drain(5) == 0
    assert sorted(store.graph.memory.messages) == [("T1", f"m{i}") for i in (0, 1, 2, 3, 5)]
    assert core.intake.dropped == 1
    assert "event=Evm4 channel=C1 message=m4" in caplog.text and SECRET not in caplog.text


async def test_each_workspace_keeps_its_order_and_an_outage_of_one_write_does_not_reorder() -> None:
    store = FakeStore()
    seen: list[str] = []
    record = store.graph.record

    async def slow_record(outcomes: Sequence[Outcome]) -> int:
        seen.extend(o.message.message_id for o in outcomes)
        await asyncio.sleep(0.01)
        return await record(outcomes)

    store.graph.record = slow_record  # type: ignore[method-assign]
    core = core_with(store)
    for event in pairs(3):
        core.intake.put(event, event.message_id)
        await asyncio.sleep(0)  # arrivals interleave with the writes
    await core.intake.drain(5)
    assert seen == [f"m{i}" for i in range(6)] and answered(store) == 3
