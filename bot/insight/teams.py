"""Ties within and across teams: how many pairs have a tie between each two teams, never who.

Teams are the ones members name in coffee (`/rapport coffee join team NAME`); a member in several channels'
coffee counts in the team named last. Counts follow the small-number rule of figures.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.graph.rapport import Stage, assess
from bot.insight.figures import SMALL, Count
from bot.ports import Store


@dataclass(frozen=True)
class TeamTies:
    teams: tuple[tuple[str, Count], ...]  # name, members; largest first
    ties: tuple[tuple[str, str, Count], ...]  # team, team (a <= b; a == b: within the team), pairs with a tie

    def between(self, a: str, b: str) -> Count:
        a, b = sorted((a, b))
        return next((count for x, y, count in self.ties if (x, y) == (a, b)), Count(0, self._few(a, b)))

    def _few(self, *names: str) -> bool:
        return any(members.value < SMALL for name, members in self.teams if name in names)


async def team_ties(store: Store, workspace: str, now: datetime) -> TeamTies | None:
    """None when no member has named a team."""
    team_of: dict[str, str] = {}
    latest: dict[str, datetime] = {}
    for settings in await store.coffee.channels(workspace):
        for m in await store.coffee.memberships(workspace, settings.channel):
            if m.team and (m.user not in latest or m.joined_at >= latest[m.user]):
                team_of[m.user], latest[m.user] = m.team, m.joined_at
    if not team_of:
        return None
    untracked = await store.privacy.untracked(workspace)
    members = Counter(team for user, team in team_of.items() if user not in untracked)
    ties: Counter[tuple[str, str]] = Counter()
    for stats in await store.graph.pair_stats(workspace, now):
        a, b = team_of.get(stats.a), team_of.get(stats.b)
        if a is None or b is None or stats.a in untracked or stats.b in untracked:
            continue
        if assess(stats, now).stage is not Stage.STRANGERS:
            x, y = sorted((a, b))
            ties[(x, y)] += 1
    def few(*teams: str) -> bool:
        return any(members[team] < SMALL for team in teams)

    return TeamTies(
        tuple((team, Count(n)) for team, n in sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple((a, b, Count(n, few(a, b))) for (a, b), n in sorted(ties.items())))
