"""Feeding chat into the question graph: one live message at a time, or a whole history in batches (a large one
linked in several processes, channel by channel, while this one writes)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from bot.domain.members import member_hash
from bot.events import ConversationDeleted, Member, MessageDeleted, MessagePosted
from bot.graph.conversation import OPEN, Hearing, Memory, Outcome, link_all
from bot.ports import Store

log = logging.getLogger(__name__)

DIRECTORY_TTL = 15.0  # seconds a workspace's names and untracked members are reused between live messages


def name_index(members: Iterable[Member]) -> dict[str, str]:
    """Lower-cased display names and first names to user ids, for "bob: ..." addressing.

    A first name shared by two people addresses neither.
    """
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for member in members:
        for key in {member.name.lower(), member.name.split(" ")[0].lower()}:
            if key in index and index[key] != member.user_id:
                ambiguous.add(key)
            index[key] = member.user_id
    for key in ambiguous:
        del index[key]
    return index


def without_untracked(outcome: Outcome, untracked: frozenset[str]) -> Outcome | None:
    """The outcome minus everything about members who paused tracking or were erased (None: drop it all)."""
    if not untracked:
        return outcome
    ws = outcome.message.workspace

    def tracked(user: str) -> bool:
        return member_hash(ws, user) not in untracked

    if not tracked(outcome.message.author):
        return None
    return replace(
        outcome,
        questions=tuple(q for q in outcome.questions if q.addressee == OPEN or tracked(q.addressee)),
        contacts=tuple(c for c in outcome.contacts if tracked(c.target)),
    )


def linked(memory: Memory, events: Iterable[MessagePosted], names: Mapping[str, str], untracked: frozenset[str],
           ) -> Iterator[tuple[Outcome, Outcome | None]]:
    """Each event linked against what came before it, in the order given: (outcome, what of it may be stored)."""
    for outcome in link_all(memory, events, names):
        yield outcome, without_untracked(outcome, untracked)


@dataclass
class Directory:
    """Per-workspace facts every live message needs, cached briefly: member names and who is untracked.

    Another process's pause or erasure is seen here within DIRECTORY_TTL; this process's own at once."""

    store: Store
    cache: dict[str, tuple[float, dict[str, str], frozenset[str]]] = field(default_factory=dict)
    hearing: Hearing = field(default_factory=Hearing)  # recent flat-chat readings, for the next batch's ranking

    async def get(self, workspace: str) -> tuple[dict[str, str], frozenset[str]]:
        hit = self.cache.get(workspace)
        if hit and time.monotonic() - hit[0] < DIRECTORY_TTL:
            return hit[1], hit[2]
        names = name_index(await self.store.members.list(workspace))
        untracked = await self.store.privacy.untracked(workspace)
        if hit and (newly := untracked - hit[2]):
            # Someone paused tracking or was erased: drop what this process still holds of their chat.
            self.hearing.forget(workspace, lambda author: member_hash(workspace, author) in newly)
        self.cache[workspace] = (time.monotonic(), names, untracked)
        return names, untracked

    def invalidate(self, workspace: str) -> None:
        """Read the workspace again next time (after a command: a pause or an erasure takes effect at once)."""
        if hit := self.cache.get(workspace):
            self.cache[workspace] = (-math.inf, *hit[1:])

    def remove(self, workspace: str) -> None:
        self.cache.pop(workspace, None)
        self.hearing.forget(workspace)


async def ingest(store: Store, directory: Directory, events: Sequence[MessagePosted]) -> int:
    """Record live messages; returns how many were new (duplicates and untracked authors are not).

    Per channel, one snapshot of the stored past seeds a Memory and the events are linked in time order in
    memory: a burst of messages costs a few queries per channel, not per message."""
    by_channel: dict[tuple[str, str], list[MessagePosted]] = {}
    for event in events:
        by_channel.setdefault((event.workspace, event.channel), []).append(event)
    outcomes = []
    for (workspace, channel), group in by_channel.items():
        names, untracked = await directory.get(workspace)
        memory = Memory.seeded(*await store.graph.context(workspace, channel, group), directory.hearing)
        in_order = sorted(group, key=lambda e: e.at)
        outcomes += [kept for _, kept in linked(memory, in_order, names, untracked) if kept is not None]
        directory.hearing.keep(workspace, memory.flat.get((workspace, channel), ()))
    new = await store.graph.record(outcomes)
    log.debug("%d messages, %d new", len(events), new)
    return new


async def forget(store: Store, event: MessageDeleted) -> None:
    await store.graph.forget_messages(event.workspace, [event.message_id])


async def forget_conversation(store: Store, event: ConversationDeleted) -> int:
    """Each message of a deleted channel or thread forgotten as a deleted message is (its questions reopen where it
    answered one). Returns how many."""
    ids = await store.graph.messages_in(event.workspace, event.channel, event.thread_id)
    await store.graph.forget_messages(event.workspace, ids)
    return len(ids)


@dataclass
class History:
    """A chat history read from an export, ready for ingest_history. Events are in time order per channel."""

    workspace: str
    members: list[Member] = field(default_factory=list)
    events: list[MessagePosted] = field(default_factory=list)
    channels: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # why a record was skipped -> how many


@dataclass
class HistoryReport:
    read: int = 0
    new: int = 0
    questions: int = 0
    answers: int = 0


@dataclass
class _Imports:
    under_way: int = 0  # history imports running in this process
    thresholds: tuple[int, int, int] = (0, 0, 0)  # the collector's, before the first of them


_imports = _Imports()


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """While a history is imported, the cyclic garbage collector leaves what already exists alone and collects
    everything ten times more rarely.

    An import builds a large Memory that lives until it ends (every message seen, for replies to old ones) and
    allocates millions of short-lived objects; at the default thresholds the collector rescans all of it, and
    everything loaded before (the export read, the models), every 70,000 allocations: on 36,196 IRC-shaped messages
    nine full collections took 1.6 of 11 CPU seconds. Frozen objects are still freed by reference counting. The
    first of concurrent imports sets this up and the last one out puts it back."""
    if not _imports.under_way:
        _imports.thresholds = youngest, middle, oldest = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(youngest, middle, oldest * 10)
    _imports.under_way += 1
    try:
        yield
    finally:
        _imports.under_way -= 1
        if not _imports.under_way:
            gc.set_threshold(*_imports.thresholds)
            gc.unfreeze()


PARALLEL_FROM = 20_000  # messages: a smaller import is linked in this process (starting one costs about a second)


def workers() -> int:
    """How many processes link a large import: one a core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


async def ingest_history(
    store: Store,
    events: Iterable[MessagePosted],
    names: dict[str, str],
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    untracked: frozenset[str] = frozenset(),
    processes: int | None = None,
) -> HistoryReport:
    """Record a history in time order per channel. Linking runs in memory; writes go in batches.

    An import of PARALLEL_FROM messages or more is linked in `processes` processes (default: workers()), each
    linking whole channels (partitions) while this one writes what they send: linking is the import's work, and
    channels link apart. Idempotent: messages already recorded are skipped by the store.
    """
    events = list(events)
    count = workers() if processes is None else processes
    parts = partitions(events, count) if count > 1 and len(events) >= PARALLEL_FROM else []
    report = HistoryReport()
    with fewer_collections():
        async for linked_batch in (in_processes(parts, names, untracked, batch_size) if len(parts) > 1 else
                                   _here(link_batches(Memory(), events, names, untracked, batch_size))):
            report.read += linked_batch.read
            report.questions += linked_batch.questions
            report.answers += linked_batch.answers
            if linked_batch.batch:
                report.new += await store.graph.record(linked_batch.batch)
                if progress:
                    progress(len(linked_batch.batch))
    return report


@dataclass(frozen=True)
class LinkedBatch:
    """Linked messages to record (those that may be stored) and counts of all that were read; `last` when its
    linking is done. From another process, `failure` names the exception that stopped it (its type alone: a message
    could quote a text)."""

    batch: list[Outcome]
    read: int = 0
    questions: int = 0
    answers: int = 0
    last: bool = False
    failure: str | None = None


def link_batches(memory: Memory, events: Iterable[MessagePosted], names: Mapping[str, str],
                 untracked: frozenset[str], batch_size: int) -> Iterator[LinkedBatch]:
    batch: list[Outcome] = []
    read = questions = answers = 0
    for outcome, kept in linked(memory, events, names, untracked):
        read += 1
        if kept is None:
            continue
        batch.append(kept)
        questions += bool(outcome.questions)
        answers += len(outcome.answers)
        if len(batch) >= batch_size:
            yield LinkedBatch(batch, read, questions, answers)
            batch, read, questions, answers = [], 0, 0, 0
    yield LinkedBatch(batch, read, questions, answers, last=True)


async def _here(batches: Iterator[LinkedBatch]) -> AsyncIterator[LinkedBatch]:
    for linked_batch in batches:
        yield linked_batch


def partitions(events: Sequence[MessagePosted], count: int) -> list[list[MessagePosted]]:
    """The events in at most `count` parts to link apart, each in the order given, as even as whole channels allow.
    Channels that a thread or a reply joins stay in one part (a Discord thread is a channel of its own whose
    starter message is in another): linking a message reads only its channel and what it replies to."""
    channel_of = {(e.workspace, e.message_id): (e.workspace, e.channel) for e in events}
    joined: dict[tuple[str, str], tuple[str, str]] = {}

    def group(channel: tuple[str, str]) -> tuple[str, str]:
        while (up := joined.get(channel, channel)) != channel:
            joined[channel] = joined.get(up, up)
            channel = up
        return channel

    for e in events:
        for other in (e.thread_id, e.reply_to):
            there = channel_of.get((e.workspace, other)) if other else None
            if there and (a := group(there)) != (b := group((e.workspace, e.channel))):
                joined[b] = a
    sizes = Counter(group((e.workspace, e.channel)) for e in events)
    loads, part_of = [0] * count, {}
    for key, size in sizes.most_common():  # the largest first, each into the lightest part so far
        lightest = loads.index(min(loads))
        part_of[key], loads[lightest] = lightest, loads[lightest] + size
    parts: list[list[MessagePosted]] = [[] for _ in range(count)]
    for e in events:
        parts[part_of[group((e.workspace, e.channel))]].append(e)
    return [part for part in parts if part]


def _link_elsewhere(events: list[MessagePosted], names: Mapping[str, str], untracked: frozenset[str],
                    batch_size: int, out: Any) -> None:
    """A linking process: its part of the history, batch by batch, onto the queue `out`."""
    # Ctrl-C reaches every process of the terminal's group: the importer stops this one (it started with SIGINT
    # blocked, see in_processes).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if importer := multiprocessing.parent_process():
        threading.Thread(target=_end_with, args=(importer,), daemon=True).start()
    try:
        with fewer_collections():
            for linked_batch in link_batches(Memory(), events, names, untracked, batch_size):
                out.put(linked_batch)
    except Exception as error:  # sent back: the importing process says it and stops
        out.put(LinkedBatch([], last=True, failure=type(error).__name__))


def _end_with(importer: Any) -> None:
    """Killed, the importing process cannot stop a linking process, which would wait for good to hand over a
    batch: it ends itself once the importer is gone."""
    importer.join()
    os._exit(1)


async def in_processes(parts: Sequence[list[MessagePosted]], names: Mapping[str, str], untracked: frozenset[str],
                       batch_size: int) -> AsyncIterator[LinkedBatch]:
    """Each part linked in a process of its own (spawned: this one runs threads, which a fork would copy
    half-way), its batches as they come."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue(maxsize=2 * len(parts))  # linking waits while writing is behind: memory stays bounded
    linkers = [context.Process(target=_link_elsewhere, args=(part, dict(names), untracked, batch_size, out),
                               daemon=True) for part in parts]
    # A linking process that Ctrl-C killed while starting would leave this one waiting for good to hand over its
    # part (multiprocessing writes it to a pipe whose other end it holds itself): they start with SIGINT blocked,
    # and this process takes a Ctrl-C once they have all started.
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        for linker in linkers:
            linker.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)
    try:
        running = len(linkers)
        while running:
            linked_batch = await _received(out, linkers)
            if linked_batch.failure:
                raise RuntimeError(f"linking the history failed in another process: {linked_batch.failure}")
            running -= linked_batch.last
            yield linked_batch
    finally:
        for linker in linkers:
            if linker.is_alive():
                linker.terminate()
            linker.join()


async def _received(out: Any, linkers: Sequence[Any]) -> LinkedBatch:
    """The next batch, waited for in a daemon thread. Stopped (Ctrl-C), the import ends its linking processes, and
    one ended half-way through handing over a batch leaves that thread waiting for good for the rest: a daemon,
    it does not keep the process from ending (one of asyncio's own threads would, as the loop waits for them)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[LinkedBatch] = loop.create_future()

    def settle(result: LinkedBatch | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error:
            done.set_exception(error)
        else:
            done.set_result(cast(LinkedBatch, result))

    def wait() -> None:
        try:
            result, error = _next(out, linkers), None
        except BaseException as failed:
            result, error = None, failed
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for it any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=wait, daemon=True).start()
    return await done


def _next(out: Any, linkers: Sequence[Any]) -> LinkedBatch:
    while True:
        try:
            return cast(LinkedBatch, out.get(timeout=1))
        except queue.Empty:
            if not any(linker.is_alive() for linker in linkers):
                codes = ", ".join(str(linker.exitcode) for linker in linkers)
                raise RuntimeError(f"a process linking the history ended before it was done (exit codes {codes})"
                                   ) from None
