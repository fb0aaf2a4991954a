"""Scheduled work that runs exactly once however many bot processes share the database.

APScheduler 3 cannot share a job store between processes, so it is only the ticker here: each process runs an
in-memory interval job (max_instances=1, coalesce=True) that asks every DueSource what is due. Whoever inserts
the claim row for a run first owns it (a UNIQUE key in the shared database decides, not a lock in memory). A
claim carries a short lease that the owner renews while it runs (a heartbeat every lease/3): when the owner
dies, another process's tick re-claims the run within lease + tick (under a minute) and resumes it; an owner
that finds its lease taken stops. Each message a run sends is reserved first with `deliver_once` (UNIQUE per run
and recipient), so a resumed run skips what was already sent. A delivery still `sending` from before the current
claim was cut off by its owner's death or shutdown: the new owner sends it. Messages are built before they are
reserved, so that window is the platform call alone; only a death (or SIGTERM) during that call can make a member
get a message twice, and leaving them out for good would be worse.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.outbound import PlatformUnavailable
from bot.ports import Clock, Runs

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
FINISHED_KEPT = 10_000  # keys of runs this process finished, remembered so as not to claim them again
TICK_SECONDS = 15


@dataclass(frozen=True)
class Due:
    key: str  # unique per run, e.g. "coffee:T1:C1:2026-03-02T09:00Z"
    run: Callable[[], Awaitable[None]]


class DueSource(Protocol):
    async def due(self, now: datetime) -> Sequence[Due]: ...


@dataclass(frozen=True)
class Daily:
    """A DueSource that runs `job` once a day for each workspace `workspaces` lists: the key carries the date, so
    the first tick of a day claims it and every other process, and every later tick, finds it claimed."""

    name: str
    workspaces: Callable[[], Awaitable[Sequence[str]]]
    job: Callable[[str], Awaitable[None]]

    async def due(self, now: datetime) -> list[Due]:
        def run_for(workspace: str) -> Due:
            async def run() -> None:
                await self.job(workspace)

            return Due(f"{self.name}:{workspace}:{now.date().isoformat()}", run)

        return [run_for(ws) for ws in await self.workspaces()]


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Ticker:
    runs: Runs
    clock: Clock
    sources: list[DueSource] = field(default_factory=list)
    owner: str = field(default_factory=process_name)
    lease: timedelta = LEASE
    _running: asyncio.Future[None] | None = None
    _running_key: str = ""
    _ticking: asyncio.Task[object] | None = None
    _stopped: bool = False
    # Runs this process finished: a source lists a day's work on every tick of that day, and asking the database
    # to claim it again each time is a write for nothing. Bounded; a run finished elsewhere is still asked about,
    # since a claim that fails may be another process's live lease, which this one must take over if it dies.
    _finished: OrderedDict[str, None] = field(default_factory=OrderedDict)

    @property
    def heartbeat(self) -> float:
        return self.lease.total_seconds() / 3

    async def tick(self) -> int:
        """Run whatever is due and unclaimed. Returns how many runs this process carried out."""
        if self._stopped:
            return 0
        self._ticking = asyncio.current_task()
        now = self.clock.now()
        done = 0
        for source in self.sources:
            if self._stopped:
                break
            try:
                due = await source.due(now)
            except Exception:
                log.exception("could not list due work from %s", type(source).__name__)
                continue
            for item in due:
                if self._stopped:
                    break
                if item.key in self._finished:
                    continue
                if not await self.runs.claim(item.key, self.owner, now, self.lease):
                    continue
                try:
                    await self._leased(item)
                except asyncio.CancelledError:
                    if self._stopped:
                        return done
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise
                    continue  # taken over by another process, which finishes it
                except PlatformUnavailable as error:
                    log.warning("run %s stopped: the platform is unavailable (%s); it will be resumed after its "
                                "lease", item.key, error)
                    continue
                except Exception:
                    # The lease expires and another tick (here or elsewhere) resumes the run.
                    log.exception("run %s failed; it will be resumed after its lease", item.key)
                    continue
                await self.runs.finish(item.key, self.clock.now())
                self._finished[item.key] = None
                if len(self._finished) > FINISHED_KEPT:
                    self._finished.popitem(last=False)
                done += 1
        return done

    async def _leased(self, item: Due) -> None:
        """Run the item, renewing its lease as it goes; stop it if another process took the run over."""
        work = self._running = asyncio.ensure_future(item.run())
        self._running_key = item.key

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat)
                try:
                    mine = await self.runs.renew(item.key, self.owner, self.clock.now(), self.lease)
                except Exception as error:  # the database away: the next beat tries again
                    log.warning("run %s: lease not renewed (%s)", item.key, type(error).__name__)
                    continue
                if not mine:
                    log.error("run %s was taken over by another process: stopping here", item.key)
                    work.cancel()
                    return

        beating = asyncio.ensure_future(beat())
        try:
            await work
        finally:
            beating.cancel()
            self._running = None

    async def stop(self) -> None:
        """Shutting down: no new runs; the one in progress stops and is handed back (its lease ends now, so
        another process resumes it at its next tick). Returns once the tick in progress has ended by itself: a
        cancelled tick would be an APScheduler traceback."""
        self._stopped = True
        running, key = self._running, self._running_key
        if running is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            try:
                await self.runs.renew(key, self.owner, self.clock.now(), timedelta(0))
            except Exception as error:  # the database away: the lease runs out by itself
                log.warning("run %s not handed back (%s); resumed after its lease", key, type(error).__name__)
        ticking = self._ticking
        if ticking is not None and not ticking.done() and ticking is not asyncio.current_task():
            await asyncio.wait({ticking}, timeout=5)


async def send_once(runs: Runs, key: str, recipient: str, now: datetime, send: Callable[[], Awaitable[bool]],
                    run: str | None = None) -> bool:
    """Send one message of a run at most once across processes and restarts. True when it went out now. `run`: the
    key the ticker claims the run under, where the message's own key differs (a nudge's outlives its run's)."""
    if not await runs.deliver_once(key, recipient, now, run):
        return False
    try:
        ok = await send()
    except (asyncio.CancelledError, PlatformUnavailable):
        # A shutdown cut the platform call off, or the platform is down for now: whether it went out is unknown,
        # as after a death. Left `sending`, it is sent by whoever resumes the run; recorded as failed, nobody would
        # send it (a member skipped for good).
        raise
    except Exception:
        await runs.delivered(key, recipient, False, now)
        raise
    await runs.delivered(key, recipient, ok, now)
    return ok


def start_ticker(ticker: Ticker, seconds: int = TICK_SECONDS) -> object:
    """Drive the ticker with APScheduler on the running event loop; returns the scheduler (call .shutdown())."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler()
    scheduler.add_job(ticker.tick, "interval", seconds=seconds, max_instances=1, coalesce=True,
                      id="rapport-ticker", next_run_time=datetime.now().astimezone())
    scheduler.start()
    return scheduler
