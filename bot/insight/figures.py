"""Insight for leads: aggregate figures of a workspace (or of one channel's coffee members), never a name.

Small numbers protect people: a count from 1 to SMALL - 1 could point at someone ("the 2 people with no tie in a
team of 3"), so it is kept as a Count and shown only as "fewer than 5"; a rate over fewer than SMALL groups is
not shown either. Zero points at nobody and is shown as is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.graph.rapport import Stage, assess
from bot.insight.own_map import RINGS
from bot.ports import Store

SMALL = 5
MONTHS = 6  # the trend charts' span
FEWER = f"fewer than {SMALL}"

# What `/rapport privacy` tells every member leads can see (bot/privacy/privacy.py shows it), word for word what
# insights() computes.
WHAT_LEADS_SEE = (
    "Workspace admins (and channel managers, for their channel's coffee members) can see totals only: how many "
    "members, how many pairs at each stage, new ties per month, how many people have no tie yet, how many pairs "
    "have a tie within and between the teams named in coffee, coffee participation and how often groups met, "
    "nudges sent per month. Never a name, never who is tied to whom, and any figure about fewer than "
    f"{SMALL} people reads \"{FEWER}\"."
)


@dataclass(frozen=True)
class Count:
    value: int
    # Set when the count is about a group of fewer than SMALL people: even its zero would point at them
    # ("a team of 3 with no ties").
    about_few: bool = False

    @property
    def hidden(self) -> bool:
        return self.about_few or 0 < self.value < SMALL

    def shown(self) -> str:
        return FEWER if self.hidden else str(self.value)

    def charted(self) -> int:
        """The bar's height: a hidden count draws as nothing rather than as its value."""
        return 0 if self.hidden else self.value


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    def shown(self) -> str:
        if self.whole < SMALL:
            return f"not shown ({FEWER})"
        return f"{round(100 * self.part / self.whole)}%"


@dataclass(frozen=True)
class Monthly:
    month: str  # YYYY-MM
    count: Count


@dataclass(frozen=True)
class Insights:
    workspace: str
    channel: str | None  # a channel manager's view: the channel's coffee members only
    members: Count  # members Rapport knows (people, not bots)
    opted_in: Count  # of those, not paused
    pairs: tuple[tuple[Stage, Count], ...]
    no_tie: Count  # opted-in members with no tie at all
    new_ties: tuple[Monthly, ...]
    coffee_members: Count | None  # None: no coffee set up here
    coffee_groups: Count
    met: Rate  # groups whose check-in said "we met", of the groups placed
    first_contacts: Rate  # groups that brought together people with no tie before (of the groups placed)
    nudges: tuple[Monthly, ...]  # sent per month (workspace only: nudges are personal, not per channel)

    @property
    def missing(self) -> tuple[str, ...]:
        """What is not there to measure, so a lead reads an absent figure as absent rather than as zero."""
        gaps = []
        if self.coffee_members is None:
            gaps.append("no coffee is set up" + (" in this channel" if self.channel else ""))
        return tuple(gaps)


def _months(now: datetime) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(MONTHS):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _monthly(times: list[datetime], now: datetime) -> tuple[Monthly, ...]:
    counts = Counter(t.strftime("%Y-%m") for t in times)
    return tuple(Monthly(m, Count(counts[m])) for m in _months(now))


async def insights(store: Store, workspace: str, now: datetime, channel: str | None = None) -> Insights:
    known = {m.user_id for m in await store.members.list(workspace) if not m.is_bot}
    untracked = await store.privacy.untracked(workspace)
    channels = await store.coffee.channels(workspace)
    if channel is not None:
        channels = [c for c in channels if c.channel == channel]
        # A channel's people are its coffee members: the platform's channel membership is not stored.
        known &= {m.user for c in channels for m in await store.coffee.memberships(workspace, c.channel)}
    opted_in = known - untracked
    since = now - timedelta(days=31 * MONTHS)
    stages: Counter[Stage] = Counter()
    tied: set[str] = set()
    first: list[datetime] = []
    met_first: dict[tuple[str, str], datetime] = {}
    for stats in await store.graph.pair_stats(workspace, now):
        if stats.a not in opted_in or stats.b not in opted_in:
            continue
        a = assess(stats, now)
        if a.stage is Stage.STRANGERS:
            continue
        stages[a.stage] += 1
        tied.update((stats.a, stats.b))
        if stats.first_contact:
            met_first[(stats.a, stats.b)] = stats.first_contact
        if stats.first_contact and stats.first_contact > since:
            first.append(stats.first_contact)
    coffee_members: set[str] = set()
    placed = met = fresh = 0
    for settings in channels:
        coffee_members |= {m.user for m in await store.coffee.memberships(workspace, settings.channel)}
        for record in await store.coffee.recent_rounds(workspace, settings.channel, now, limit=MONTHS * 5):
            if record.due_at < since:
                continue
            for group in record.placed:
                placed += 1
                met += any(seat.answer == "met" for seat in group.seats)
                people = sorted(group.members)
                # Coffee meetups count as contact, so "no tie before" means none whose first contact precedes
                # the round.
                if not any((began := met_first.get((x, y))) is not None and began < record.due_at
                           for i, x in enumerate(people) for y in people[i + 1:]):
                    fresh += 1
    nudges = [] if channel is not None else await store.nudges.sent_times(workspace, None, since)
    few = len(opted_in) < SMALL
    return Insights(
        workspace, channel, Count(len(known)), Count(len(opted_in)),
        tuple((s, Count(stages[s], few)) for s in RINGS),
        Count(len(opted_in - tied), few), _monthly(first, now),
        Count(len(coffee_members & opted_in)) if channels else None, Count(placed),
        Rate(met, placed), Rate(fresh, placed), _monthly(nudges, now))
