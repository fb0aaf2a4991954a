"""Work that runs after Slack has had its ack (App Home, late command answers, joins, uninstalls): Slack wants an
answer within 3 s, the database may be slower. Message events do not come here: the core's intake keeps them
through outages (bot/intake/intake.py).

Each job is retried once; a job that fails twice is logged with the ids needed to replay it, never with message
text. Jobs with the same key run in the order they arrived. drain() waits for everything in flight (shutdown,
tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@dataclass
class Deferred:
    concurrency: int = 16
    retry_delay: float = 1.0
    failed: int = 0
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
                for attempt in (1, 2):
                    try:
                        await job()
                        return
                    except asyncio.CancelledError:
                        raise
                    except Exception as error:  # one failure must not cost the others their work
                        if attempt == 1:
                            log.warning("slack job %s failed (%s); retrying once", ids, type(error).__name__)
                            await asyncio.sleep(self.retry_delay)
                        else:
                            self.failed += 1
                            log.error("slack job %s failed twice (%s); not processed, replay it by these ids",
                                      ids, type(error).__name__)
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._locks[key]

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))
