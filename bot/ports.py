"""The ports the core talks through. Storage implements the repositories, adapters implement Outbound,
tests use the in-memory fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.conversation import Outcome, Window
from bot.events import Member, MessagePosted
from bot.rapport import PairStats
from bot.replies import Reply

if TYPE_CHECKING:
    from bot.scheduling import Runs


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Members(Protocol):
    async def upsert(self, members: Sequence[Member]) -> None: ...
    async def get(self, workspace: str, user_id: str) -> Member | None: ...
    async def list(self, workspace: str) -> list[Member]: ...


class Graph(Protocol):
    async def window(self, event: MessagePosted) -> Window: ...

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        """Store outcomes; those whose message was already recorded are skipped. Returns how many were new."""
        ...

    async def forget_message(self, workspace: str, message_id: str) -> None: ...
    async def pair_stats(self, workspace: str, now: datetime, user: str | None = None) -> list[PairStats]: ...
    async def workspaces(self) -> list[str]: ...


class Events(Protocol):
    """Platform event ids seen recently: a redelivered event is handled once."""

    async def first_time(self, workspace: str, event_id: str, at: datetime) -> bool: ...
    async def expire(self, now: datetime) -> int: ...


class Store(Protocol):
    members: Members
    graph: Graph
    events: Events
    runs: Runs

    async def close(self) -> None: ...


class Outbound(Protocol):
    """Messages the core sends on its own initiative (not replies to a command). True when delivered."""

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool: ...
    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool: ...
