"""Coffee rounds run exactly once across real processes sharing one PostgreSQL database, and a round whose
process dies half way is resumed by another without sending anything twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Rapport
from bot.events import CHANNEL_MANAGER, CommandInvoked, Member
from bot.profiles import matchers
from bot.similarity import LexicalMatcher
from storage.store import SqlStore
from tests.conftest import TEST_DATABASE_URL, reset_postgres
from tests.fakes import FakeClock, FakeOutbound

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                                reason="several processes need PostgreSQL (RAPPORT_TEST_DATABASE_URL)")

ROOT = Path(__file__).resolve().parent.parent
WS, CH = "T1", "C1"
PEOPLE = [f"u{i}" for i in range(7)]  # odd: one group of three
DUE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# One bot process: waits for the go file, ticks once at the given time, records every send in a shared file.
# With a crash count, it dies (no cleanup, no finish) right after that many sends.
CHILD = r"""
import asyncio, json, os, sys, time
from datetime import datetime
from bot.app import Rapport
from bot.profiles import matchers
from bot.similarity import LexicalMatcher
from storage.store import SqlStore

url, now, record, go, crash_after, owner = sys.argv[1:7]
crash_after = int(crash_after)

class Clock:
    def now(self):
        return datetime.fromisoformat(now)

class Recording:
    sends = 0

    async def _write(self, kind, to):
        line = json.dumps({"kind": kind, "to": to, "by": owner}) + "\n"
        fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, line.encode())
        os.close(fd)
        Recording.sends += 1
        if Recording.sends == crash_after:
            os._exit(3)
        await asyncio.sleep(0.01)  # let the other processes interleave
        return True

    async def send_direct(self, workspace, user, reply):
        return await self._write("dm", user)

    async def send_channel(self, workspace, channel, reply):
        return await self._write("channel", channel)

    async def permalink(self, workspace, channel, message_id):
        return None

async def main():
    matchers.use(LexicalMatcher())
    store = await SqlStore.open(url)
    core = Rapport(store, Clock(), Recording())
    core.ticker.owner = owner
    while not os.path.exists(go):
        time.sleep(0.01)
    await core.ticker.tick()
    await store.close()

asyncio.run(main())
"""


async def seed() -> None:
    await reset_postgres(TEST_DATABASE_URL)
    matchers.use(LexicalMatcher())
    store = await SqlStore.open(TEST_DATABASE_URL)
    try:
        core = Rapport(store, FakeClock(DUE - timedelta(hours=1)), FakeOutbound())
        await store.members.upsert([Member(WS, u, u, "Europe/London") for u in PEOPLE])
        reply = await core.on_command(CommandInvoked(WS, CH, "m", "coffee setup weekly monday 10:00 tz UTC",
                                                     frozenset({CHANNEL_MANAGER})))
        assert "every Monday" in reply.text
        for user in PEOPLE:
            await core.on_command(CommandInvoked(WS, CH, user, "coffee join"))
    finally:
        await store.close()
        matchers.use(None)


def spawn(tmp_path: Path, now: datetime, owner: str, crash_after: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, TEST_DATABASE_URL, now.isoformat(), str(tmp_path / "sent.jsonl"),
         str(tmp_path / "go"), str(crash_after), owner],
        cwd=ROOT, text=True, stderr=subprocess.PIPE)


def sent(tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "sent.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def finish(processes: list[subprocess.Popen[str]], tmp_path: Path) -> list[int]:
    (tmp_path / "go").touch()
    codes = []
    for process in processes:
        _, err = process.communicate(timeout=60)
        codes.append(process.returncode)
        assert process.returncode in (0, 3), err
    (tmp_path / "go").unlink()
    return codes


def pairing_dms(records: list[dict[str, str]]) -> Counter[str]:
    return Counter(r["to"] for r in records if r["kind"] == "dm")


async def test_three_processes_tick_together_and_each_message_goes_out_once(tmp_path: Path) -> None:
    await seed()
    started = time.monotonic()
    finish([spawn(tmp_path, DUE + timedelta(seconds=5), f"p{i}") for i in range(3)], tmp_path)
    records = sent(tmp_path)
    assert Counter(r["to"] for r in records if r["kind"] == "channel") == {CH: 1}
    assert pairing_dms(records) == {u: 1 for u in PEOPLE}
    assert time.monotonic() - started < 30
    store = await SqlStore.open(TEST_DATABASE_URL)
    try:
        record = await store.coffee.round(WS, CH, DUE)
        assert record.status == "sent"
        assert sorted(len(g.members) for g in record.placed) == [2, 2, 3]
        assert all(s.dm == "sent" for g in record.placed for s in g.seats)
        assert (await store.coffee.channel(WS, CH)).next_run_at == DUE + timedelta(days=7)
    finally:
        await store.close()


async def test_a_round_cut_short_by_a_crash_is_resumed_after_the_lease_without_duplicates(tmp_path: Path) -> None:
    await seed()
    assert finish([spawn(tmp_path, DUE, "crashing", crash_after=3)], tmp_path) == [3]
    assert sum(pairing_dms(sent(tmp_path)).values()) == 3
    # The lease still holds: nobody else touches the run.
    finish([spawn(tmp_path, DUE + timedelta(minutes=5), "early")], tmp_path)
    assert sum(pairing_dms(sent(tmp_path)).values()) == 3
    # After the lease, two processes race to resume; one does, and sends only what is missing.
    finish([spawn(tmp_path, DUE + timedelta(minutes=11), f"r{i}") for i in range(2)], tmp_path)
    records = sent(tmp_path)
    assert pairing_dms(records) == {u: 1 for u in PEOPLE}
    assert Counter(r["to"] for r in records if r["kind"] == "channel") == {CH: 1}
    assert {r["by"] for r in records} - {"crashing"} and len({r["by"] for r in records} - {"crashing"}) == 1
    store = await SqlStore.open(TEST_DATABASE_URL)
    try:
        record = await store.coffee.round(WS, CH, DUE)
        assert record.status == "sent"
        # The message in flight when the process died was sent but never confirmed: its seat says so.
        assert Counter(s.dm for g in record.placed for s in g.seats) == {"sent": 6, "pending": 1}
    finally:
        await store.close()

