"""Insight for leads: aggregate figures of a workspace (or of one channel's coffee members), never a name.

Small numbers protect people: a count from 1 to SMALL - 1 could point at someone ("the 2 people with no tie in a
team of 3"), so it is kept as a Count and shown only as "fewer than 5"; a rate over fewer than SMALL groups is
not shown either. Zero points at nobody and is shown as is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from bot.domain.members import member_hash
from bot.domain.nudges import DONE, SentNudge
from bot.domain.ties import PairSummary
from bot.graph.rapport import PairStats, Stage, stage_of
from bot.insight.own_map import RINGS
from bot.ports import Store

SMALL = 5
ACTED_WITHIN = timedelta(days=7)  # a nudge followed by the step it suggests within a week counts as acted on
MONTHS = 6  # the trend charts' span
FEWER = f"fewer than {SMALL}"

# What `/rapport privacy` tells every member leads can see (bot/privacy/privacy.py shows it), word for word what
# insights() computes.
WHAT_LEADS_SEE = (
    "Workspace admins (and channel managers, for their channel's coffee members) can see totals only: how many "
    "members, how many pairs at each stage, new ties per month, how many people have no tie yet, how many pairs "
    "have a tie within and between teams (those named in coffee, else the platform's user groups), coffee "
    "participation and how often groups met, nudges sent per month and how many were acted on. Never a name, "
    f"never who is tied to whom, and any figure about fewer than {SMALL} people reads \"{FEWER}\"."
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
    met: Rate  # groups whose check-in said "we met", of the groups whose check-in went out
    first_contacts: Rate  # groups that brought together people with no tie before (of the groups placed)
    nudges: tuple[Monthly, ...]  # sent per month (workspace only: nudges are personal, not per channel)
    nudges_acted: tuple[Monthly, ...]  # of those, acted on (acted_on below), by the month they were sent

    @property
    def missing(self) -> tuple[str, ...]:
        """What is not there to measure, so a lead reads an absent figure as absent rather than as zero."""
        gaps = []
        if self.coffee_members is None:
            gaps.append("no coffee is set up" + (" in this channel" if self.channel else ""))
        return tuple(gaps)


def acted_on(nudge: SentNudge, muted: frozenset[str]) -> bool:
    """A nudge is acted on when its recipient marked it done, or within ACTED_WITHIN of it they were in touch
    with the person it was about: a question, an answer, a reply, a mention, a chat or a coffee meetup from them
    to that person, or a link shared with `/rapport share`. "No more of these" also marks a nudge done, so a done
    nudge of a kind its recipient has muted counts only if they were in touch."""
    if nudge.status == DONE and nudge.kind not in muted:
        return True
    return nudge.reached_out_at is not None and nudge.reached_out_at - nudge.sent_at <= ACTED_WITHIN


def _months(now: datetime) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(MONTHS):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _monthly(times: list[datetime], now: datetime, few: bool) -> tuple[Monthly, ...]:
    """`few`: the months count what fewer than SMALL people did, so even a month's zero would point at them."""
    counts = Counter(f"{t.year:04d}-{t.month:02d}" for t in times)
    return tuple(Monthly(m, Count(counts[m], few)) for m in _months(now))


@cache
def stage(answered_ab: int, answered_ba: int) -> Stage:
    """The stage of a summarised pair, by the ladder's own rules (bot/graph/rapport.py).

    Every summarised pair had a contact or a question, so it is talking at least; only its answers decide the
    rest. Cached: a workspace's 100,000 pairs have a few hundred distinct counts of answers.
    """
    return stage_of(PairStats("", "a", "b", answered_ab=answered_ab, answered_ba=answered_ba, contact_days=1))[0]


def tracked(workspace: str, users: Iterable[str], untracked: frozenset[str]) -> set[str]:
    """Those of `users` not paused or erased (Privacy.untracked holds their hashes, never their ids)."""
    return {u for u in users if member_hash(workspace, u) not in untracked}


async def insights(store: Store, workspace: str, now: datetime, channel: str | None = None,
                   pairs: Sequence[PairSummary] | None = None) -> Insights:
    """`pairs`: the workspace's pair summaries when the caller has read them already (the team table reads them
    too)."""
    known = {m.user_id for m in await store.members.list(workspace) if not m.is_bot}
    channels = await store.coffee.channels(workspace)
    memberships = {c.channel: await store.coffee.memberships(workspace, c.channel) for c in channels}
    if channel is not None:
        channels = [c for c in channels if c.channel == channel]
        # A channel's people are its coffee members: the platform's channel membership is not stored.
        known &= {m.user for c in channels for m in memberships[c.channel]}
    opted_in = tracked(workspace, known, await store.privacy.untracked(workspace))
    since = now - timedelta(days=31 * MONTHS)
    stages: Counter[Stage] = Counter()
    tied: set[str] = set()
    first: list[datetime] = []
    met_first: dict[tuple[str, str], datetime] = {}
    for a, b, answered_ab, answered_ba, first_contact in (
            pairs if pairs is not None else await store.graph.pair_summaries(workspace)):
        if a not in opted_in or b not in opted_in:
            continue
        stages[stage(answered_ab, answered_ba)] += 1
        tied.add(a)
        tied.add(b)
        if first_contact is not None:
            if channels:
                met_first[(a, b)] = first_contact
            if first_contact > since:
                first.append(first_contact)
    coffee_members: set[str] = set()
    placed = asked = met = fresh = 0
    for settings in channels:
        coffee_members |= {m.user for m in memberships[settings.channel]}
        for record in await store.coffee.recent_rounds(workspace, settings.channel, now, limit=MONTHS * 5):
            if record.due_at < since:
                continue
            for group in record.placed:
                placed += 1
                # Met of the groups asked: a round whose check-in has not gone out yet (the meetup window) would
                # otherwise read as groups that did not meet, and the share drop after every round.
                if record.checkin_sent:
                    asked += 1
                    met += any(seat.answer == "met" for seat in group.seats)
                people = sorted(group.members)
                # Coffee meetups count as contact, so "no tie before" means none whose first contact precedes
                # the round.
                if not any((began := met_first.get((x, y))) is not None and began < record.due_at
                           for i, x in enumerate(people) for y in people[i + 1:]):
                    fresh += 1
    sent = [] if channel is not None else await store.nudges.sent_since(workspace, since)
    muted = {user: prefs.muted for user, prefs in (await store.nudges.all_settings(workspace)).items()} if sent else {}
    acted = [n.sent_at for n in sent if acted_on(n, muted.get(n.recipient, frozenset()))]
    few = len(opted_in) < SMALL
    return Insights(
        workspace, channel, Count(len(known)), Count(len(opted_in)),
        tuple((s, Count(stages[s], few)) for s in RINGS),
        Count(len(opted_in - tied), few), _monthly(first, now, few),
        Count(len(coffee_members & opted_in), few) if channels else None, Count(placed, few),
        Rate(met, asked), Rate(fresh, placed), _monthly([n.sent_at for n in sent], now, few),
        _monthly(acted, now, few))
