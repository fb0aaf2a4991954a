"""Live messages an adapter has taken from its platform (acked on Slack, received from Discord's gateway), on
their way into the graph. Text lives here only in memory and is never written anywhere.

- Order: `put` does not await, so a workspace's messages are read in the order the adapter handed them over.
  discord.py runs every gateway event as its own task: anything awaited before `put` could let a reply overtake
  the question it answers.
- Batches: one worker per workspace takes everything waiting (up to MAX_BATCH) as one `ingest`, so a burst costs
  a few queries, not a few per message; `ingest` reads each channel's part in the platform's time order. Slack
  delivers events over concurrent HTTP requests, so a reply can arrive a moment before its question: with a
  `reorder` window, a batch is taken only once its first message has waited that long, so both are in it.
- Nothing taken is lost to a database outage: a batch that fails while the database does not answer stays in
  memory and is retried with backoff until it does. Past `limit` waiting messages `accepts()` is False, and
  adapters stop taking more (Slack: a 503, so Slack redelivers later).
- Deletions of a message, a channel, a thread or a whole workspace (Rapport removed) come the same way: behind
  the messages taken before them (or a message still waiting would be stored after its channel or workspace was
  erased, and stay), and through outages (the platform had its ack and will not send the deletion again).
- A bad message costs only itself: a batch that fails while the database answers is retried one message at a
  time; one that still fails is logged by its ids and dropped.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.events import ConversationDeleted, MessageDeleted, MessagePosted, WorkspaceRemoved
from bot.intake.ingest import Directory, forget, forget_conversation, ingest
from bot.ports import Store
from bot.privacy.privacy import erase_workspace

log = logging.getLogger(__name__)

MAX_BATCH = 1000
LIMIT = 20_000  # messages waiting in memory, all workspaces together
BACKOFF = (0.2, 5.0)  # seconds between retries while the database is unreachable: first, at most
ATTEMPTS = 3  # tries of a single message, with the database answering, before it is dropped


Event = MessagePosted | MessageDeleted | ConversationDeleted | WorkspaceRemoved


@dataclass
class Taken:
    event: Event
    ids: str  # how logs name it: platform ids, never text
    before: Callable[[], Awaitable[None]] | None = None  # the adapter's own work that must precede it
    at: float = field(default_factory=time.monotonic)  # when it was taken


@dataclass
class Intake:
    store: Store
    directory: Directory
    limit: int = LIMIT
    concurrency: int = 4  # workspaces written at once (1 on SQLite: it takes one writer at a time)
    backoff: tuple[float, float] = BACKOFF
    reorder: float = 0.0  # seconds a message waits for others delivered out of order (see above)
    received: int = 0  # messages handed over by the adapters, taken or not
    stored: int = 0  # messages recorded as new
    dropped: int = 0  # messages given up: malformed, or refused past the limit
    _queues: dict[str, deque[Taken]] = field(default_factory=dict)
    _workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _slots: asyncio.Semaphore | None = None
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def accepts(self) -> bool:
        return self.waiting < self.limit

    def put(self, event: Event, ids: str,
            before: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Queue a message behind its workspace's earlier ones; False (and logged) when over the limit."""
        self.received += 1
        if not self.accepts():
            self.dropped += 1
            log.error("intake full (%d waiting): message %s not taken", self.waiting, ids)
            return False
        self._queues.setdefault(event.workspace, deque()).append(Taken(event, ids, before))
        if event.workspace not in self._workers:
            self._idle.clear()
            task = asyncio.get_running_loop().create_task(self._work(event.workspace))
            self._workers[event.workspace] = task
        return True

    async def _work(self, workspace: str) -> None:
        queue = self._queues[workspace]
        delay = self.backoff[0]
        singles = 0  # after a batch failed with the database up, this many go one at a time to find the bad one
        tries = 0
        try:
            while queue:
                early = queue[0].at + self.reorder - time.monotonic()
                if early > 0 and not singles:
                    await asyncio.sleep(early)
                batch = list(itertools.islice(queue, 1 if singles else MAX_BATCH))
                try:
                    await self._store(batch)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if not await self._reachable():
                        log.warning("database unreachable (%s): %d messages of workspace %s kept in memory, "
                                    "retrying in %.1f s", type(error).__name__, len(queue), workspace, delay)
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, self.backoff[1])
                        continue
                    if len(batch) > 1:
                        singles = len(batch)
                        continue
                    tries += 1
                    if tries < ATTEMPTS:  # a conflict with another process, say: worth another go
                        await asyncio.sleep(self.backoff[0])
                        continue
                    self.dropped += 1
                    log.error("message %s not stored (%s): dropped, the others go on", batch[0].ids,
                              type(error).__name__)
                delay, tries = self.backoff[0], 0
                singles = max(0, singles - len(batch))
                for _ in batch:
                    queue.popleft()
        finally:
            del self._workers[workspace]
            if not queue:
                del self._queues[workspace]
            if not self._workers:
                self._idle.set()

    async def _store(self, batch: list[Taken]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            for taken in batch:
                if taken.before is not None:
                    await taken.before()
            posted: list[MessagePosted] = []
            for taken in batch:
                if isinstance(taken.event, MessagePosted):
                    posted.append(taken.event)
                    continue
                if posted:  # what came before a deletion is stored before it
                    self.stored += await ingest(self.store, self.directory, posted)
                    posted = []
                if isinstance(taken.event, WorkspaceRemoved):
                    self.directory.remove(taken.event.workspace)
                    await erase_workspace(self.store, taken.event.workspace)
                elif isinstance(taken.event, ConversationDeleted):
                    forgotten = await forget_conversation(self.store, taken.event)
                    log.info("%s: %d messages forgotten", taken.ids, forgotten)
                else:
                    await forget(self.store, taken.event)
            if posted:
                self.stored += await ingest(self.store, self.directory, posted)

    async def _reachable(self) -> bool:
        try:
            async with asyncio.timeout(5):
                return await self.store.reachable()
        except Exception:
            return False

    async def drain(self, within: float | None = None) -> int:
        """Wait until everything taken is stored, or `within` seconds; returns how many messages still wait."""
        if self._workers:
            try:
                async with asyncio.timeout(within):
                    await self._idle.wait()
            except TimeoutError:
                pass
        return self.waiting

    async def stop(self) -> int:
        """The process is going away: what still waits is logged by its ids and given up; returns how many."""
        left = [taken.ids for queue in self._queues.values() for taken in queue]
        if left:
            self.dropped += len(left)
            log.error("stopping with %d messages not stored (the database did not answer): %s", len(left),
                      ", ".join(left))
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        return len(left)
