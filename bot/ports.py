"""The ports the core talks through. Storage implements the repositories, adapters implement Outbound,
tests use the in-memory fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.conversation import Outcome, Window
from bot.events import Member, MessagePosted
from bot.rapport import PairStats
from bot.replies import Reply

if TYPE_CHECKING:
    from bot.profiles import Profile
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


class PersonalData(Protocol):
    """A repository holding data about members: it can export and erase one member's part of it."""

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]: ...
    async def erase_member(self, workspace: str, user: str) -> int: ...


class Privacy(Protocol):
    async def pause(self, workspace: str, user: str, now: datetime) -> None: ...
    async def resume(self, workspace: str, user: str) -> None: ...
    async def untracked(self, workspace: str) -> frozenset[str]:
        """Hashes (bot.privacy.member_hash) of members who paused tracking or were erased."""
        ...

    async def forget_forever(self, workspace: str, user_hash: str, now: datetime) -> None: ...
    async def scrub(self) -> None:
        """Make deleted rows unrecoverable from the database files."""
        ...

    async def retention_days(self, workspace: str) -> int: ...
    async def set_retention_days(self, workspace: str, days: int) -> None: ...
    async def expire_history(self, workspace: str, before: datetime) -> int: ...


class Profiles(Protocol):
    """What members chose to share about themselves, and the cached embeddings of its interest phrases."""

    async def get(self, workspace: str, user_id: str) -> Profile | None: ...
    async def list(self, workspace: str) -> list[Profile]: ...

    async def save(self, profile: Profile) -> None:
        """Create or replace; cached vectors of phrases the profile no longer has are dropped."""
        ...

    async def delete(self, workspace: str, user_id: str) -> bool:
        """The profile and its cached vectors. False when there was none."""
        ...

    async def vectors(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                      ) -> dict[str, dict[str, bytes]]:
        """user -> phrase key -> float32 vector bytes made by `matcher` (all users when None)."""
        ...

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None: ...


class Store(Protocol):
    members: Members
    graph: Graph
    events: Events
    runs: Runs
    privacy: Privacy
    profiles: Profiles
    personal: list[PersonalData]  # every repository with member data, for export and erasure

    async def close(self) -> None: ...


class Outbound(Protocol):
    """Messages the core sends on its own initiative (not replies to a command). True when delivered."""

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool: ...
    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool: ...
