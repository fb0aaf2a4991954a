"""Coffee rounds run exactly once across real processes sharing one PostgreSQL database, and a round whose
process dies half way is resumed by another without sending anything twice."""

from __future__ import annotations

import asyncio
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
from bot.interests.similarity import LexicalMatcher
from bot.interests.vectors import MatcherSource
from storage.store import SqlStore
from tests.conftest import TEST_DATABASE_URL, reset_postgres
from tests.fakes import FakeClock, FakeOutbound

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                                reason="several processes need PostgreSQL (RAPPORT_TEST_DATABASE_URL)")

ROOT = Path(__file__).resolve().parents[2]
WS, CH = "T1", "C1"
PEOPLE = [f"u{i}" for i in range(7)]  # odd: one group of three
DUE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# One bot process: waits for the go file, then ticks. With a fixed clock (lease 0) it ticks once at `now`; with a
# lease it runs on real time from `now` on, ticking every 0.1 s until the round is finished. Every send is recorded
# in a shared file after a `latency` (the platform call; a "begin" line marks its start). crash > 0: dies right
# after that many sends (sent, not confirmed); crash < 0: dies instead of making send number -crash (reserved,
# not sent).
CHILD = r"""
import asyncio, json, os, sys, time
from datetime import datetime, timedelta
from bot.app import Rapport
from bot.interests.vectors import MatcherSource
from bot.coffee.rounds import round_key
from bot.interests.similarity import LexicalMatcher
from bot.replies import GroupConversation
from storage.store import SqlStore

url, now, record, go, crash, owner, lease, latency, due = sys.argv[1:10]
crash, lease, latency = int(crash), float(lease), float(latency)
started = None

class Clock:
    def now(self):
        at = datetime.fromisoformat(now)
        return at + timedelta(seconds=time.monotonic() - started) if lease else at

class Recording:
    sends = 0

    async def _write(self, kind, to):
        Recording.sends += 1
        if Recording.sends == -crash:
            os._exit(3)
        if latency:
            self._line({"kind": "begin", "to": to, "by": owner})
            await asyncio.sleep(latency)
        self._line({"kind": kind, "to": to, "by": owner, "at": time.time()})
        if Recording.sends == crash:
            os._exit(3)
        await asyncio.sleep(0.01)  # let the other processes interleave
        return True

    def _line(self, fields):
        fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (json.dumps(fields) + "\n").encode())
        os.close(fd)

    async def send_direct(self, workspace, user, reply):
        return await self._write("dm", user)

    async def send_channel(self, workspace, channel, reply):
        return await self._write("channel", channel)

    async def send_group(self, workspace, channel, users, reply, conversation=None):
        return GroupConversation()  # no group conversations: these tests count one DM per member

    async def permalink(self, workspace, channel, message_id):
        return None

async def main():
    global started
    store = await SqlStore.open(url)
    core = Rapport(store, Clock(), Recording(), matchers=MatcherSource(LexicalMatcher))
    core.ticker.owner = owner
    while not os.path.exists(go):
        time.sleep(0.01)
    started = time.monotonic()
    if not lease:
        await core.ticker.tick()
    else:
        core.ticker.lease = timedelta(seconds=lease)
        key = round_key("T1", "C1", datetime.fromisoformat(due))
        while not await store.runs.finished(key):
            await core.ticker.tick()
            await asyncio.sleep(0.1)
    await store.close()

asyncio.run(main())
"""


async def seed() -> None:
    await reset_postgres(TEST_DATABASE_URL)
    store = await SqlStore.open(TEST_DATABASE_URL)
    try:
        core = Rapport(store, FakeClock(DUE - timedelta(hours=1)), FakeOutbound(),
                       matchers=MatcherSource(LexicalMatcher))
        await store.members.upsert([Member(WS, u, u, "Europe/London") for u in PEOPLE])
        reply = await core.on_command(CommandInvoked(WS, CH, "m", "coffee setup weekly monday 10:00 tz UTC",
                                                     frozenset({CHANNEL_MANAGER})))
        assert "every Monday" in reply.text
        for user in PEOPLE:
            await core.on_command(CommandInvoked(WS, CH, user, "coffee join"))
    finally:
        await store.close()


def spawn(tmp_path: Path, now: datetime, owner: str, crash: int = 0, lease: float = 0,
          latency: float = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, TEST_DATABASE_URL, now.isoformat(), str(tmp_path / "sent.jsonl"),
         str(tmp_path / "go"), str(crash), owner, str(lease), str(latency), DUE.isoformat()],
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


async def seats(status: str = "dm") -> Counter[str]:
    store = await SqlStore.open(TEST_DATABASE_URL)
    try:
        record = await store.coffee.round(WS, CH, DUE)
        assert record is not None and record.status == "sent"
        return Counter(getattr(s, status) for g in record.placed for s in g.seats)
    finally:
        await store.close()


async def test_a_seat_reserved_by_a_process_that_died_before_sending_is_sent_by_the_one_that_resumes(
        tmp_path: Path) -> None:
    await seed()
    assert finish([spawn(tmp_path, DUE, "crashing", crash=-4)], tmp_path) == [3]  # reserved the 4th, then died
    assert sum(pairing_dms(sent(tmp_path)).values()) == 3
    # The lease (the default, 30 s) still holds: nobody else touches the run.
    finish([spawn(tmp_path, DUE + timedelta(seconds=20), "early")], tmp_path)
    assert sum(pairing_dms(sent(tmp_path)).values()) == 3
    # After the lease, two processes race to resume; one does, and sends what is missing, the 4th seat included.
    finish([spawn(tmp_path, DUE + timedelta(seconds=31), f"r{i}") for i in range(2)], tmp_path)
    records = sent(tmp_path)
    assert pairing_dms(records) == {u: 1 for u in PEOPLE}
    assert Counter(r["to"] for r in records if r["kind"] == "channel") == {CH: 1}
    assert len({r["by"] for r in records} - {"crashing"}) == 1
    assert await seats() == {"sent": 7}


async def test_a_death_during_the_platform_call_itself_sends_that_one_message_again_rather_than_never(
        tmp_path: Path) -> None:
    await seed()
    assert finish([spawn(tmp_path, DUE, "crashing", crash=3)], tmp_path) == [3]  # sent the 3rd, not confirmed
    finish([spawn(tmp_path, DUE + timedelta(seconds=31), "resumer")], tmp_path)
    dms = pairing_dms(sent(tmp_path))
    assert set(dms) == set(PEOPLE) and sorted(dms.values()) == [1] * 6 + [2]
    assert await seats() == {"sent": 7}


async def test_sigkill_of_the_round_owner_is_taken_over_within_the_lease_and_nobody_is_skipped(
        tmp_path: Path) -> None:
    """Three processes on real time with a 2 s lease (heartbeat 0.67 s); each send takes 0.3 s. The owner is
    killed while its 4th DM is on its way (reserved, not yet delivered); one of the others finishes the round and
    sends that DM too. (A kill after the platform took a message but before it was confirmed sends that one
    twice: the test above.)"""
    await seed()
    processes = {f"p{i}": spawn(tmp_path, DUE, f"p{i}", lease=2, latency=0.3) for i in range(3)}
    (tmp_path / "go").touch()
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no round started"
        records = sent(tmp_path)
        if sum(r["kind"] == "begin" for r in records) == 4 and sum(pairing_dms(records).values()) == 3:
            break
        await asyncio.sleep(0.02)
    owner = sent(tmp_path)[0]["by"]
    processes[owner].kill()
    killed_at = time.time()
    for name, process in processes.items():
        _, err = process.communicate(timeout=30)
        assert process.returncode == (-9 if name == owner else 0), err
    records = sent(tmp_path)
    assert pairing_dms(records) == {u: 1 for u in PEOPLE}
    assert Counter(r["to"] for r in records if r["kind"] == "channel") == {CH: 1}
    resumed = [r for r in records if r["by"] != owner and r["kind"] != "begin"]
    assert len({r["by"] for r in resumed}) == 1
    assert resumed[0]["at"] - killed_at < 2 + 1 + 1  # lease + a tick + the send's own latency, with slack
    assert await seats() == {"sent": 7}
