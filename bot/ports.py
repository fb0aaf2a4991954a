"""The ports the core talks through. Storage implements the repositories, adapters implement Outbound,
tests use the in-memory fakes in tests/fakes.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from bot.domain.coffee import (
    ChannelSettings,
    GroupRecord,
    Introduction,
    Meeting,
    Membership,
    PairKey,
    RoundRecord,
)
from bot.domain.nudges import Nudge, NudgeSettings, SentNudge
from bot.domain.profiles import Profile
from bot.domain.ties import PairSummary
from bot.events import Member, MessagePosted
from bot.graph.conversation import Outcome, Question, SeenMessage
from bot.graph.rapport import PairStats
from bot.replies import GroupConversation, Reply


class Clock(Protocol):
    def now(self) -> datetime: ...


Vectors = NDArray[np.float32]


@dataclass(frozen=True)
class Judgement:
    score: float  # 0..1, higher is more related
    related: bool  # score >= the matcher's threshold
    matcher: str  # name of the matcher that judged


@runtime_checkable
class Matcher(Protocol):
    """Whether two interests are related (bot/interests/similarity.py: the embedding model, or a lexical fallback)."""

    name: str
    threshold: float

    def embed(self, phrases: Sequence[str]) -> Vectors:
        """(len(phrases), d) float32, each row L2-normalised (an all-zero row for an empty phrase)."""
        ...

    def judge(self, a: str, b: str, level_a: str | None = None, level_b: str | None = None) -> Judgement:
        """Whether two phrases are related; with the levels they were listed under when known."""
        ...

    def scores(self, phrase: str, others: Sequence[str]) -> NDArray[np.float32]:
        """Score one phrase against many (0..1 each), in the order of ``others``."""
        ...


class Matchers(Protocol):
    """Where the core gets its Matcher: loaded on first use, the model takes a moment and memory
    (bot/interests/vectors.py MatcherSource)."""

    async def aget(self) -> Matcher: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Runs(Protocol):
    async def claim(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        """True when `owner` now holds the run: the first claim, or one whose lease ran out unfinished."""
        ...

    async def renew(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        """Extend `owner`'s lease of an unfinished run; False when it is no longer theirs."""
        ...

    async def finish(self, key: str, now: datetime) -> None: ...
    async def finished(self, key: str) -> bool: ...

    async def deliver_once(self, key: str, recipient: str, now: datetime, run: str | None = None) -> bool:
        """Reserve the delivery of run `key` to `recipient`; False when it was already reserved (or sent), unless
        the reservation is still `sending` from before the current claim of the run (`run`, else `key`): its owner
        died or stopped mid-send."""
        ...

    async def delivered(self, key: str, recipient: str, ok: bool, now: datetime) -> None: ...

    async def delivery(self, key: str, recipient: str) -> str | None:
        """`sending`, `sent` or `failed`; None when never reserved."""
        ...

    async def forget_deliveries(self, before: datetime) -> int:
        """Delete the deliveries reserved before `before` (a recipient can be a member id); how many went."""
        ...


class Members(Protocol):
    async def upsert(self, members: Sequence[Member]) -> None: ...
    async def get(self, workspace: str, user_id: str) -> Member | None: ...
    async def list(self, workspace: str) -> list[Member]: ...


class Graph(Protocol):
    async def context(self, workspace: str, channel: str, events: Sequence[MessagePosted],
                      ) -> tuple[list[SeenMessage], list[Question]]:
        """What linking these events of one channel needs from the past (bot.graph.conversation.Memory.seeded): the
        messages they reply to or thread under, the channel's recent messages, and its questions still open
        with the messages they were asked in."""
        ...

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        """Store outcomes; those whose message was already recorded are skipped. Returns how many were new."""
        ...

    async def forget_messages(self, workspace: str, message_ids: Sequence[str]) -> None:
        """Forget these messages as if never seen: their rows, and the answers they gave (those questions wait
        again). A deleted channel can hold many: all of them, whatever the count."""
        ...
    async def messages_in(self, workspace: str, channel: str, thread_id: str | None = None) -> list[str]:
        """Ids of the messages kept of a channel (with `thread_id`, of that thread only; its root is the parent
        channel's message)."""
        ...

    async def expire_addressing(self, workspace: str, before: datetime) -> int:
        """Forget whom messages before `before` spoke to (kept only for ranking the replies to them)."""
        ...

    async def pair_stats(self, workspace: str, now: datetime, user: str | None = None) -> list[PairStats]: ...
    async def pair_summaries(self, workspace: str) -> list[PairSummary]:
        """Every pair with a contact or a question in brief: what pair_stats says of answers and first contact."""
        ...

    async def workspaces(self) -> list[str]: ...



class PersonalData(Protocol):
    """A repository holding data about members: it can export and erase one member's part of it."""

    async def export_member(self, workspace: str, user: str) -> dict[str, Any]: ...
    async def erase_member(self, workspace: str, user: str) -> int: ...


class Privacy(Protocol):
    async def pause(self, workspace: str, user: str, now: datetime) -> None: ...
    async def resume(self, workspace: str, user: str) -> None: ...
    async def untracked(self, workspace: str) -> frozenset[str]:
        """Hashes (bot.domain.members.member_hash) of members who paused tracking or were erased."""
        ...

    async def forget_forever(self, workspace: str, user_hash: str, now: datetime) -> None: ...
    async def forget_workspace(self, workspace: str) -> int: ...
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

    async def vector_rows(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                          ) -> dict[str, tuple[tuple[str, ...], bytes]]:
        """What `vectors` holds, one entry per member: its phrase keys (in no set order) and their vectors end to
        end in that order (a coffee round reads a whole channel's)."""
        ...

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None: ...


class Nudges(Protocol):
    """Planned nudges (bot/nudges/nudges.py), members' nudge settings, and who shared with whom (never what)."""

    async def add(self, nudges: Sequence[Nudge]) -> int:
        """Insert new nudges; one with the dedup key of an existing one for the same recipient is skipped."""
        ...

    async def get(self, nudge_id: int) -> Nudge | None: ...
    async def due(self, now: datetime, limit: int) -> list[Nudge]: ...
    async def due_for(self, workspace: str, user: str, now: datetime) -> list[Nudge]: ...
    async def change(self, nudge: Nudge, *, status: str | None = None, deliver_at: datetime | None = None,
                     due_at: datetime | None = None, sent_at: datetime | None = None, attempt: int | None = None,
                     ) -> None:
        """Set the fields given (None leaves a field as it is)."""
        ...
    async def sent_times(self, workspace: str, user: str | None, since: datetime) -> list[datetime]:
        """When nudges went out to `user` (to anyone in the workspace when None) since `since`."""
        ...
    async def sent_since(self, workspace: str, since: datetime) -> list[SentNudge]:
        """Nudges that went out after `since` (failed ones aside), each with the recipient's next step towards
        the person it was about."""
        ...

    async def recent(self, workspace: str, user: str, limit: int) -> list[Nudge]: ...
    async def told(self, workspace: str, kind: str) -> list[tuple[str, str, str]]:
        """(recipient, subject, ref) of every nudge of this kind that went out."""
        ...

    async def settings(self, workspace: str, user: str) -> NudgeSettings: ...
    async def all_settings(self, workspace: str) -> dict[str, NudgeSettings]: ...
    async def save_settings(self, settings: NudgeSettings) -> None: ...
    async def unanswered(self, workspace: str, since: datetime, until: datetime) -> list[Question]: ...
    async def open_question(self, workspace: str, message_id: str, addressee: str) -> datetime | None: ...
    async def record_share(self, workspace: str, giver: str, receiver: str, at: datetime) -> None: ...
    async def gave(self, workspace: str, giver: str, receiver: str, since: datetime) -> bool: ...


class Coffee(Protocol):
    """Virtual coffee (bot/coffee/): schedules, who is in, avoid lists, rounds and check-ins."""

    async def channel(self, workspace: str, channel: str) -> ChannelSettings | None: ...
    async def channels(self, workspace: str) -> list[ChannelSettings]: ...
    async def save_channel(self, settings: ChannelSettings) -> None: ...
    async def due_channels(self, now: datetime) -> list[ChannelSettings]:
        """Running schedules whose next_run_at has come, in every workspace."""
        ...

    async def advance(self, workspace: str, channel: str, due_at: datetime, next_at: datetime) -> bool:
        """Move the schedule from `due_at` to `next_at`, unless it was changed meanwhile."""
        ...

    async def membership(self, workspace: str, channel: str, user: str) -> Membership | None: ...
    async def memberships(self, workspace: str, channel: str) -> list[Membership]: ...
    async def save_membership(self, membership: Membership) -> None: ...
    async def remove_membership(self, workspace: str, channel: str, user: str) -> bool: ...
    async def avoid(self, workspace: str, user: str, other: str) -> None: ...
    async def record_introduction(self, workspace: str, a: str, b: str, introducer: str, at: datetime) -> None: ...
    async def unavoid(self, workspace: str, user: str, other: str) -> bool: ...
    async def avoids(self, workspace: str, user: str, other: str) -> bool:
        """Whether `other` is on `user`'s avoid list (one direction: avoid_pairs does not say who avoids whom)."""
        ...

    async def avoid_pairs(self, workspace: str, users: Sequence[str]) -> set[PairKey]: ...
    async def round(self, workspace: str, channel: str, due_at: datetime) -> RoundRecord | None: ...

    async def save_round(self, record: RoundRecord) -> RoundRecord:
        """Store a round and its groups (ids assigned); an existing round is returned unchanged instead."""
        ...

    async def mark_round(self, workspace: str, channel: str, due_at: datetime, *, status: str | None = None,
                         checkin_at: datetime | None = None, checkin_sent: bool | None = None) -> None:
        """Set what is given of a round: its status, when its check-in is due, that the check-in went out."""
        ...

    async def last_round(self, workspace: str, channel: str) -> RoundRecord | None: ...
    async def recent_rounds(self, workspace: str, channel: str, before: datetime, limit: int) -> list[RoundRecord]:
        """The last `limit` rounds held (with groups) before `before`, newest first."""
        ...

    async def due_checkins(self, now: datetime) -> list[RoundRecord]: ...
    async def rounds_to_close(self, workspace: str, channel: str, before: datetime) -> list[RoundRecord]: ...
    async def close_round(self, workspace: str, channel: str, due_at: datetime) -> None:
        """Close a round whose check-in went out: each member whose check-in it left unanswered has one more
        missed in a row (Membership.missed), counted by the call that closes it only."""
        ...


    async def set_seat(self, group_id: int, user: str, *, dm: str | None = None, checkin: str | None = None,
                       ) -> None:
        """Record on a member's seat how its introduction (`dm`) or check-in went: sent, undeliverable."""
        ...
    async def set_conversation(self, group_id: int, conversation: str) -> None:
        """The platform's conversation the group was introduced in."""
        ...

    async def group(self, group_id: int) -> GroupRecord | None: ...
    async def latest_group(self, workspace: str, user: str, channel: str | None = None) -> GroupRecord | None:
        """The member's latest placed group, in `channel` when given, else in any channel."""
    async def answer(self, group_id: int, user: str, answer: str, now: datetime) -> GroupRecord | None: ...
    async def introductions_since(self, workspace: str, since: datetime) -> list[Introduction]: ...
    async def meetings_since(self, workspace: str, since: datetime) -> list[Meeting]:
        """Groups whose check-in said "we met", met since `since`."""
        ...


class Store(Protocol):
    """The repositories, read-only: SqlStore and FakeStore hold their own implementations of each port."""

    @property
    def members(self) -> Members: ...
    @property
    def graph(self) -> Graph: ...
    @property
    def runs(self) -> Runs: ...
    @property
    def privacy(self) -> Privacy: ...
    @property
    def profiles(self) -> Profiles: ...
    @property
    def nudges(self) -> Nudges: ...
    @property
    def coffee(self) -> Coffee: ...
    @property
    def personal(self) -> Sequence[PersonalData]:
        """Every repository with member data, for export and erasure."""
        ...

    async def reachable(self) -> bool:
        """True when the database answers now (tells an outage from a bad record)."""
        ...

    async def close(self) -> None: ...


class Outbound(Protocol):
    """Messages the core sends on its own initiative (not replies to a command). True when delivered."""

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool: ...
    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool: ...
    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """One conversation for these members (a coffee group of `channel`): `conversation`, the one the group was
        given before, when the platform still has it, else a new one."""
        ...

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        """A link to a message, where the platform has them (nudges point at a question, never quote it)."""
        ...

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        """Whether the platform lets this member manage this channel of the workspace (its CHANNEL_MANAGER)."""
        ...

    async def user_groups(self, workspace: str) -> dict[str, frozenset[str]]:
        """The platform's user groups (name -> members), where it has them and lets Rapport read them; else {}."""
        ...
