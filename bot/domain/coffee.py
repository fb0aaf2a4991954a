"""Virtual coffee's records: a channel's schedule, who is in, rounds with their groups and seats, meetings,
and the unordered pair key that pairing and avoid lists use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from bot.events import zone_of
from bot.replies import plural

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_NO_REPEAT = 4

PairKey = frozenset[str]


def pair(a: str, b: str) -> PairKey:
    """The key used for pair facts: an unordered pair of user ids."""
    return frozenset((a, b))


@dataclass(frozen=True)
class ChannelSettings:
    workspace: str
    channel: str
    cadence: str  # weekly, biweekly, monthly (the first DAY of each month)
    weekday: int  # 0 = Monday
    hour: int
    minute: int
    tz: str  # the schedule keeps its local hour across DST changes in this zone
    anchor: date  # the first round's local date: biweekly rounds fall every 14 days from it
    group_size: int = 2
    cross_teams: bool = False
    no_repeat: int = DEFAULT_NO_REPEAT  # the same pair is not grouped again within this many rounds
    next_run_at: datetime | None = None  # None: stopped
    # Who last set coffee up here (a channel manager or admin then): told of the members a round could not reach,
    # since they can ask them in person. None for channels set up before this was kept, or after that member left.
    manager: str | None = None

    def describe(self) -> str:
        day = DAYS[self.weekday].capitalize()
        when = {"weekly": f"every {day}", "biweekly": f"every other {day}",
                "monthly": f"the first {day} of each month"}[self.cadence]
        # "where it can be helped": with too few people the planner repeats a pair rather than leave someone out.
        extras = [f"groups of {self.group_size}",
                  f"no repeat pairs within {plural(self.no_repeat, 'round')} where it can be helped"
                  if self.no_repeat else "repeat pairs allowed"]
        if self.cross_teams:
            extras.append("across teams")
        return f"{when} at {self.hour:02d}:{self.minute:02d} ({self.tz}); " + ", ".join(extras)


@dataclass(frozen=True)
class Membership:
    workspace: str
    channel: str
    user: str
    joined_at: datetime
    team: str = ""
    paused: bool = False
    paused_until: datetime | None = None  # None while paused: until they join again
    pause_reason: str = ""  # "asked" or "checkins"
    skip_at: datetime | None = None  # the due time of the one round they sit out
    missed: int = 0  # check-ins in a row left unanswered

    def is_paused(self, at: datetime) -> bool:
        return self.paused and (self.paused_until is None or at < self.paused_until)

    def available(self, at: datetime) -> bool:
        return not self.is_paused(at) and self.skip_at != at

    def paused_until_day(self, tz: str | None) -> date | None:
        """The day the member's pause ends, as they typed it: `paused_until` is midnight in their zone, which is
        the day before in UTC east of Greenwich."""
        if self.paused_until is None:
            return None
        return self.paused_until.astimezone(zone_of(tz)).date()


@dataclass(frozen=True)
class Seat:
    user: str
    dm: str = "pending"  # pending, sent, undeliverable
    checkin: str = "pending"  # pending, sent, undeliverable
    answer: str | None = None  # met, not-yet, couldnt
    answered_at: datetime | None = None


@dataclass(frozen=True)
class GroupRecord:
    workspace: str
    channel: str
    due_at: datetime
    index: int  # -1 holds those who could not be placed
    seats: tuple[Seat, ...]
    score: float = 0.0
    reasons: tuple[str, ...] = ()
    suggested_at: datetime | None = None
    id: int = 0  # given by the store; check-in buttons carry it
    conversation: str | None = None  # the platform's conversation the group was introduced in, if any

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(s.user for s in self.seats)

    @property
    def round_key(self) -> str:
        return round_key(self.workspace, self.channel, self.due_at)

    @property
    def met_at(self) -> datetime | None:
        times = [s.answered_at for s in self.seats if s.answer == "met" and s.answered_at]
        return min(times) if times else None

    def without(self, user: str) -> GroupRecord:
        """The group as its other members keep it once `user` has erased their data: their seat goes (with their
        check-in answer), every reason about them, and the score and suggested time. A larger group's reasons name
        the two each is about ("<@a> & <@b>: ..."), an unplaced member's starts with their id; a pair's name no one,
        being about both."""
        if user not in self.members:
            return self

        def about(reason: str) -> set[str]:
            return {u for u in self.members if f"<@{u}>" in reason or reason.startswith(f"{u}: ")}

        # The score and the suggested time were worked out from their profile and working hours too: they go.
        return replace(self, seats=tuple(s for s in self.seats if s.user != user),
                       reasons=tuple(r for r in self.reasons if (named := about(r)) and user not in named),
                       score=0.0, suggested_at=None)


@dataclass(frozen=True)
class RoundRecord:
    workspace: str
    channel: str
    due_at: datetime
    status: str  # planned, sent, empty (too few people), missed (later than GRACE)
    groups: tuple[GroupRecord, ...] = ()
    checkin_at: datetime | None = None
    checkin_sent: bool = False
    closed: bool = False
    note: str = ""

    @property
    def key(self) -> str:
        return round_key(self.workspace, self.channel, self.due_at)

    @property
    def placed(self) -> tuple[GroupRecord, ...]:
        """The groups that bring people together: not those who could not be placed (index -1), nor a group that
        an erased member left with one person (it stays, as that person's record of the round)."""
        return tuple(g for g in self.groups if g.index >= 0 and len(g.seats) > 1)

    @property
    def unplaced(self) -> tuple[str, ...]:
        return tuple(u for g in self.groups if g.index < 0 for u in g.members)


def round_key(workspace: str, channel: str, due_at: datetime) -> str:
    return f"coffee:{workspace}:{channel}:{due_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


@dataclass(frozen=True)
class Meeting:
    """A coffee group whose check-in said "we met" (nudges read these)."""

    workspace: str
    channel: str
    round_key: str
    members: tuple[str, ...]
    met_at: datetime


@dataclass(frozen=True)
class Introduction:
    """`introducer` put `a` and `b` in touch (/rapport intro)."""

    workspace: str
    id: int
    a: str
    b: str
    introducer: str
    made_at: datetime

    def as_meeting(self) -> Meeting:
        """An introduction is a first meeting too: the two have a reason to talk, as a coffee group has."""
        return Meeting(self.workspace, "", f"intro:{self.id}", (self.a, self.b), self.made_at)


def export_document(memberships: Sequence[Membership], avoiding: Sequence[str], groups: Sequence[GroupRecord],
                    user: str, set_up: Sequence[str] = ()) -> dict[str, Any]:
    """The coffee part of a member's export (the SQL repository and the fake share it)."""
    def when(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "coffee_memberships": [{"channel": m.channel, "joined_at": when(m.joined_at), "team": m.team,
                                "paused": m.paused, "paused_until": when(m.paused_until),
                                "skip_round": when(m.skip_at), "missed_checkins": m.missed} for m in memberships],
        "coffee_avoiding": sorted(avoiding),
        "coffee_groups": [{"channel": g.channel, "round": when(g.due_at),
                           "with": [u for u in g.members if u != user], "placed": g.index >= 0,
                           "checkin_answer": next((s.answer for s in g.seats if s.user == user), None)}
                          for g in groups],
        "coffee_channels_set_up": list(set_up),
    }
