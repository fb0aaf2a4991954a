"""Ties within and across teams: how many pairs have a tie between each two teams, never who.

Teams are the ones members name in coffee (`/rapport coffee join team NAME`); a member in several channels'
coffee counts in the team named last. A member who named none counts in the platform's user group they are in
(Slack's usergroups), the smallest when several. Counts follow the small-number rule of figures.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.ties import PairSummary
from bot.insight.figures import SMALL, Count, tracked
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


def _smallest_group(groups: Mapping[str, frozenset[str]], known: set[str]) -> dict[str, tuple[int, str]]:
    """Each known member's smallest user group (then first by name): the most specific one, so that someone in
    @engineering and @payments-team counts in Payments, not in all of Engineering."""
    smallest: dict[str, tuple[int, str]] = {}
    for name, members in groups.items():
        mine = members & known
        for user in mine:
            smallest[user] = min(smallest.get(user, (len(mine), name)), (len(mine), name))
    return smallest


async def team_ties(store: Store, workspace: str, now: datetime, pairs: Sequence[PairSummary] | None = None,
                    groups: Mapping[str, frozenset[str]] | None = None) -> TeamTies | None:
    """None when no member has named a team and the platform has no user groups. `pairs`: the workspace's pair
    summaries, when read already; `groups`: the platform's user groups (Outbound.user_groups)."""
    team_of: dict[str, str] = {}
    latest: dict[str, datetime] = {}
    for settings in await store.coffee.channels(workspace):
        for m in await store.coffee.memberships(workspace, settings.channel):
            if m.team and (m.user not in latest or m.joined_at >= latest[m.user]):
                team_of[m.user], latest[m.user] = m.team, m.joined_at
    if groups:
        known = {m.user_id for m in await store.members.list(workspace) if not m.is_bot}
        for user, (_, name) in _smallest_group(groups, known).items():
            team_of.setdefault(user, name)  # the team a member names in coffee comes first
    if not team_of:
        return None
    team_of = {user: team_of[user] for user in tracked(workspace, team_of, await store.privacy.untracked(workspace))}
    members = Counter(team_of.values())
    ties: Counter[tuple[str, str]] = Counter()
    for a, b, *_ in pairs if pairs is not None else await store.graph.pair_summaries(workspace):
        x, y = team_of.get(a), team_of.get(b)
        if x is not None and y is not None:
            ties[(x, y) if x <= y else (y, x)] += 1

    def few(*teams: str) -> bool:
        return any(members[team] < SMALL for team in teams)

    return TeamTies(
        tuple((team, Count(n)) for team, n in sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple((a, b, Count(n, few(a, b))) for (a, b), n in sorted(ties.items())))
