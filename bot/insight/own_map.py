"""What a member's own map shows: their ties by stage, and nothing about ties between two other people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.graph.rapport import Stage, assess
from bot.ports import Store

# Coffee partners this recent are marked: older meetings are already reflected in the stage itself.
COFFEE_MARK_WINDOW = timedelta(days=60)

# Innermost first: the closer the tie, the nearer the centre.
RINGS = (Stage.TRUSTED_ADVISOR, Stage.PEERS, Stage.ACQUAINTANCE, Stage.TALKING)


@dataclass(frozen=True)
class Tie:
    other: str
    name: str
    stage: Stage
    advises_me: bool | None  # trusted advisors only: True when they advise the member, False when the reverse
    cooling: bool
    coffee: bool  # met for coffee within COFFEE_MARK_WINDOW


@dataclass(frozen=True)
class OwnMap:
    user: str
    name: str
    ties: tuple[Tie, ...]

    def ring(self, stage: Stage) -> tuple[Tie, ...]:
        return tuple(t for t in self.ties if t.stage is stage)


async def own_map(store: Store, workspace: str, user: str, now: datetime) -> OwnMap:
    names = {m.user_id: m.name for m in await store.members.list(workspace)}
    since = now - COFFEE_MARK_WINDOW
    meetings = [*await store.coffee.meetings_since(workspace, since),
                *(i.as_meeting() for i in await store.coffee.introductions_since(workspace, since))]
    partners = {
        other
        for meeting in meetings
        if user in meeting.members
        for other in meeting.members
        if other != user
    }
    ties = []
    for stats in await store.graph.pair_stats(workspace, now, user=user):
        a = assess(stats, now)
        if a.stage is Stage.STRANGERS:
            continue
        other = stats.other(user)
        advises_me = None if a.stage is not Stage.TRUSTED_ADVISOR else a.advisor == other
        ties.append(Tie(other, names.get(other, other), a.stage, advises_me, a.cooling, other in partners))
    # Stable order within a ring so the same graph draws the same picture.
    ties.sort(key=lambda t: (RINGS.index(t.stage), t.name.casefold(), t.other))
    return OwnMap(user, names.get(user, user), tuple(ties))
