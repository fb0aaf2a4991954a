"""Work that runs after the platform has had its answer (Slack: App Home, late command answers, a channel's join
notice; Discord: a server's join notice): Slack wants an ack within 3 s, the gateway's event handlers should not
wait on the database either. Message events, deletions and removals do not come here: the core's intake keeps them
through outages (bot/intake/intake.py).

Each job is retried once; a job that fails twice is logged with the ids needed to replay it, never with message
text. A job that fails while the database does not answer is kept and retried with backoff until it does, as the
intake keeps messages: the platform will not send the event again (a channel's join notice, say). Jobs
with the same key run in the order they arrived. drain() waits for everything in flight (shutdown, tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]
BACKOFF = (0.5, 5.0)  # seconds between retries while the database is unreachable: first, at most


@dataclass
class Deferred:
    concurrency: int = 16
    retry_delay: float = 1.0
    failed: int = 0
    reachable: Callable[[], Awaitable[bool]] | None = None  # the database answers; None: no outage to wait out
    backoff: tuple[float, float] = BACKOFF
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _queued: Counter[str] = field(default_factory=Counter)
    _slots: asyncio.Semaphore | None = None

    def submit(self, key: str, ids: str, job: Job) -> None:
        """Run job soon. `ids` identifies it in logs (no content); `key` orders jobs that share it."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] += 1
        task = asyncio.get_running_loop().create_task(self._run(key, lock, ids, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: str, lock: asyncio.Lock, ids: str, job: Job) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        try:
            async with lock, self._slots:
                attempt, delay = 1, self.backoff[0]
                while attempt <= 2:
                    try:
                        await job()
                        return
                    except asyncio.CancelledError:
                        raise
                    except Exception as error:  # one failure must not cost the others their work
                        if not await self._database_answers():
                            log.warning("job %s failed (%s) with the database unreachable; retrying in "
                                        "%.1f s", ids, type(error).__name__, delay)
                            await asyncio.sleep(delay)
                            delay = min(delay * 2, self.backoff[1])
                            continue
                        if attempt == 1:
                            log.warning("job %s failed (%s); retrying once", ids, type(error).__name__)
                            await asyncio.sleep(self.retry_delay)
                        else:
                            self.failed += 1
                            log.error("job %s failed twice (%s); not processed, replay it by these ids",
                                      ids, type(error).__name__)
                        attempt += 1
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._locks[key]

    async def _database_answers(self) -> bool:
        if self.reachable is None:
            return True
        try:
            async with asyncio.timeout(5):
                return await self.reachable()
        except Exception:
            return False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))
