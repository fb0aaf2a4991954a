"""Claims, leases and once-only deliveries, on the fake and on SQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.scheduling import LEASE, Daily, Due, Ticker, send_once
from tests.fakes import FakeClock, FakeStore


@pytest.fixture(params=["sql", "fake"])
def runs(request, sql_store):
    return sql_store.runs if request.param == "sql" else FakeStore().runs


async def test_first_claim_wins(runs, clock: FakeClock) -> None:
    now = clock.now()
    assert await runs.claim("round-1", "p1", now, LEASE)
    assert not await runs.claim("round-1", "p2", now, LEASE)
    assert not await runs.claim("round-1", "p2", now + LEASE / 2, LEASE)


async def test_expired_lease_is_resumed_but_finished_runs_are_not(runs, clock: FakeClock) -> None:
    now = clock.now()
    assert await runs.claim("a", "p1", now, LEASE)
    assert await runs.claim("a", "p2", now + LEASE + timedelta(seconds=1), LEASE)  # p1 crashed
    assert await runs.claim("b", "p1", now, LEASE)
    await runs.finish("b", now)
    assert await runs.finished("b")
    assert not await runs.claim("b", "p2", now + LEASE * 5, LEASE)


async def test_each_delivery_goes_out_once(runs, clock: FakeClock) -> None:
    sent: list[str] = []

    async def send() -> bool:
        sent.append("x")
        return True

    assert await send_once(runs, "r", "ana", clock.now(), send)
    assert not await send_once(runs, "r", "ana", clock.now(), send)
    assert await send_once(runs, "r", "bob", clock.now(), send)
    assert len(sent) == 2


async def test_ticker_runs_due_work_once_across_two_processes(sql_store, clock: FakeClock) -> None:
    calls: list[str] = []

    class Source:
        async def due(self, now):
            async def run() -> None:
                calls.append("ran")
            return [Due("coffee:T:C:1", run)]

    one = Ticker(sql_store.runs, clock, [Source()], owner="p1")
    two = Ticker(sql_store.runs, clock, [Source()], owner="p2")
    assert await one.tick() + await two.tick() == 1
    assert calls == ["ran"]


async def test_a_failed_run_is_resumed_after_its_lease(sql_store, clock: FakeClock) -> None:
    attempts: list[str] = []

    class Flaky:
        async def due(self, now):
            async def run() -> None:
                attempts.append(now.isoformat())
                if len(attempts) == 1:
                    raise RuntimeError("platform down")
            return [Due("nudges:T:day", run)]

    ticker = Ticker(sql_store.runs, clock, [Flaky()], owner="p1")
    assert await ticker.tick() == 0
    assert await Ticker(sql_store.runs, clock, [Flaky()], owner="p2").tick() == 0  # lease still held
    clock.advance(minutes=11)
    assert await Ticker(sql_store.runs, clock, [Flaky()], owner="p2").tick() == 1
    assert len(attempts) == 2


async def test_daily_work_runs_once_a_day_for_each_workspace_across_processes(sql_store, clock: FakeClock) -> None:
    ran: list[tuple[str, str]] = []
    workspaces = ["T1", "T2"]

    async def listed() -> list[str]:
        return workspaces

    async def job(workspace: str) -> None:
        ran.append((workspace, clock.now().date().isoformat()))

    one = Ticker(sql_store.runs, clock, [Daily("plan", listed, job)], owner="p1")
    two = Ticker(sql_store.runs, clock, [Daily("plan", listed, job)], owner="p2")
    await one.tick()
    await two.tick()
    clock.advance(hours=6)
    await two.tick()
    assert sorted(ran) == [("T1", "2026-03-02"), ("T2", "2026-03-02")]
    workspaces.append("T3")  # a workspace seen later in the day gets its run that day
    clock.advance(hours=1)
    await one.tick()
    clock.advance(days=1)
    await two.tick()
    assert [r for r in ran if r[1] == "2026-03-03"] == [("T1", "2026-03-03"), ("T2", "2026-03-03"),
                                                         ("T3", "2026-03-03")]
    assert ("T3", "2026-03-02") in ran


async def test_a_run_this_process_finished_is_not_claimed_again(sql_store, clock: FakeClock) -> None:
    claims: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(sql_store.runs, name)

        async def claim(self, key: str, owner: str, now, lease) -> bool:  # type: ignore[no-untyped-def]
            claims.append(key)
            return await sql_store.runs.claim(key, owner, now, lease)

    async def workspaces() -> list[str]:
        return ["T1"]

    async def job(workspace: str) -> None:
        pass

    ticker = Ticker(Counting(), clock, [Daily("plan", workspaces, job)], owner="p1")  # type: ignore[arg-type]
    for _ in range(3):
        await ticker.tick()
        clock.advance(minutes=15)
    assert claims == ["plan:T1:2026-03-02"]  # once, however often the day's work is listed
    other = Ticker(Counting(), clock, [Daily("plan", workspaces, job)], owner="p2")  # type: ignore[arg-type]
    assert await other.tick() == 0 and claims[-1] == "plan:T1:2026-03-02"  # elsewhere it is asked, and refused


async def test_a_send_cut_off_by_a_shutdown_is_sent_by_the_process_that_resumes(sql_store, clock: FakeClock) -> None:
    """SIGTERM mid-round: the owner stops during a platform call and hands the run back. Whether that message went
    out is unknown, as after a death; recorded as failed, the member was skipped for good (a coffee seat became
    `undeliverable`) by whoever resumed the run."""
    calling = asyncio.Event()
    sent: list[str] = []

    class Round:
        async def due(self, now):
            async def run() -> None:
                for member in ("ana", "bob"):
                    async def send(member: str = member) -> bool:
                        if not sent and not calling.is_set():  # the first call is cut off
                            calling.set()
                            await asyncio.Event().wait()
                        sent.append(member)
                        return True

                    await send_once(sql_store.runs, "coffee:T:C:1", member, clock.now(), send)
            return [Due("coffee:T:C:1", run)]

    stopping = Ticker(sql_store.runs, clock, [Round()], owner="p1")
    ticking = asyncio.create_task(stopping.tick())
    await calling.wait()
    await stopping.stop()
    await ticking
    clock.advance(seconds=1)
    assert await Ticker(sql_store.runs, clock, [Round()], owner="p2").tick() == 1
    assert sent == ["ana", "bob"]


async def test_a_delivery_keyed_apart_from_its_run_is_taken_over_by_the_runs_new_claim(runs, clock: FakeClock) -> None:
    now = clock.now()
    assert await runs.claim("nudge:7:0:monday", "p1", now, LEASE)
    assert await runs.deliver_once("nudge:7:0", "bob", now, "nudge:7:0:monday")  # p1 dies with it in hand
    assert not await runs.deliver_once("nudge:7:0", "bob", now, "nudge:7:0:monday")  # p1's claim: still p1's
    later = now + LEASE + timedelta(seconds=1)
    assert await runs.claim("nudge:7:0:monday", "p2", later, LEASE)
    assert not await runs.deliver_once("nudge:7:0", "bob", later)  # its own key names no claim
    assert await runs.deliver_once("nudge:7:0", "bob", later, "nudge:7:0:monday")
