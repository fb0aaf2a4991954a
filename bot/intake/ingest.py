"""Feeding chat into the question graph: one live message at a time, or a whole history in batches."""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

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


@contextmanager
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


async def ingest_history(
    store: Store,
    events: Iterable[MessagePosted],
    names: dict[str, str],
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    untracked: frozenset[str] = frozenset(),
) -> HistoryReport:
    """Record a history in time order per channel. Linking runs in memory; writes go in batches.

    Idempotent: messages already recorded are skipped by the store.
    """
    memory = Memory()
    report = HistoryReport()
    batch: list[Outcome] = []

    async def flush() -> None:
        report.new += await store.graph.record(batch)
        if progress:
            progress(len(batch))
        batch.clear()

    with fewer_collections():
        for outcome, kept in linked(memory, events, names, untracked):
            report.read += 1
            if kept is None:
                continue
            batch.append(kept)
            report.questions += bool(outcome.questions)
            report.answers += len(outcome.answers)
            if len(batch) >= batch_size:
                await flush()
        if batch:
            await flush()
    return report
