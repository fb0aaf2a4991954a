"""Benchmark of the virtual coffee planner (bot/coffee/pairing.py): `python benchmarks/pairing.py`.

For channels of 50, 500, 5,000 and 20,000 members with synthetic history (time zones over a few regions,
teams, some pairs at higher rapport stages, recent meetups, avoid pairs, shared interests), prints the time to
plan a round, the peak memory traced while planning, and the round's total as a ratio of the exact optimum
(networkx max_weight_matching on the full graph, for small channels) or of an upper bound (half the sum over
members of their best possible partner score) for large ones.

`python benchmarks/pairing.py --round` times whole rounds instead (benchmarks/coffee_round.py): what a round
runs before anything is sent, from the database to the groups with their suggested times, including the shared
interests scored from stored phrase vectors.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table

from bot.coffee.pairing import (
    CROSS_TEAM_POINTS,
    HOUR_POINTS,
    STAGE_POINTS,
    Candidate,
    PairFacts,
    SharedInterest,
    _overlap,
    _utc_window,
    plan_round,
    score_pair,
)
from bot.domain.coffee import pair

ZONES = [
    ("America/Los_Angeles", 12),
    ("America/Denver", 3),
    ("America/Chicago", 6),
    ("America/New_York", 15),
    ("America/Sao_Paulo", 5),
    ("Europe/London", 12),
    ("Europe/Berlin", 14),
    ("Europe/Helsinki", 4),
    ("Asia/Kolkata", 10),
    ("Asia/Singapore", 5),
    ("Asia/Tokyo", 6),
    ("Australia/Sydney", 4),
    (None, 1),
]
HOURS = [((9, 17), 60), ((8, 16), 15), ((10, 18), 15), ((10, 19), 5), ((7, 15), 5)]
TOPICS = [f"topic{i}" for i in range(40)]
EXACT_UP_TO = 500


def synthetic_channel(n: int, seed: int = 1) -> tuple[list[Candidate], PairFacts]:
    rng = random.Random(seed)
    zones, zw = zip(*ZONES, strict=True)
    hours, hw = zip(*HOURS, strict=True)
    n_teams = max(2, n // 8)
    cands: list[Candidate] = []
    for i in range(n):
        tz = rng.choices(zones, zw)[0]
        ws, we = rng.choices(hours, hw)[0]
        teams = {f"team{rng.randrange(n_teams)}"}
        if rng.random() < 0.1:
            teams.add(f"team{rng.randrange(n_teams)}")
        cands.append(Candidate(f"u{i}", tz, ws, we, frozenset(teams)))
    ids = [c.user_id for c in cands]
    by_team: dict[str, list[str]] = {}
    for c in cands:
        for t in c.teams:
            by_team.setdefault(t, []).append(c.user_id)

    stages: dict[frozenset[str], int] = {}
    for c in cands:  # relationships: mostly with teammates, a few across the company
        for _ in range(rng.randint(2, 6)):
            pool = by_team[next(iter(sorted(c.teams)))] if rng.random() < 0.7 else ids
            other = rng.choice(pool)
            if other != c.user_id:
                stages[pair(c.user_id, other)] = rng.choices([1, 2, 3, 4], [4, 3, 2, 1])[0]

    likes = {c.user_id: set(rng.sample(TOPICS, 3)) for c in cands}
    fans: dict[str, list[str]] = {}
    for uid, ts in likes.items():
        for t in ts:
            fans.setdefault(t, []).append(uid)
    interests: dict[frozenset[str], SharedInterest] = {}
    for uid in ids:  # each member's known interest matches (as a profile matcher would supply)
        for _ in range(3):
            other = rng.choice(fans[rng.choice(sorted(likes[uid]))])
            if other != uid:
                shared = tuple(sorted(likes[uid] & likes[other]))
                interests[pair(uid, other)] = SharedInterest(len(shared) / 3, shared)

    recent: set[frozenset[str]] = set()
    for _ in range(3):  # last three rounds, paired mostly within a region
        order = sorted(ids, key=lambda u: (cands[int(u[1:])].tz or "", rng.random()))
        for k in range(0, n - 1, 2):
            recent.add(pair(order[k], order[k + 1]))
    avoid = {pair(rng.choice(ids), rng.choice(ids)) for _ in range(max(1, n // 100))}
    avoid = {p for p in avoid if len(p) == 2}
    return cands, PairFacts(stages, interests, frozenset(recent), frozenset(avoid), cross_teams=True)


def exact_optimum(cands: list[Candidate], facts: PairFacts) -> float:
    import networkx as nx

    graph = nx.Graph()
    for i, a in enumerate(cands):
        for b in cands[i + 1 :]:
            s = score_pair(a, b, facts)
            if s.blocked is None:
                graph.add_edge(a.user_id, b.user_id, weight=s.total)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    return sum(graph[a][b]["weight"] for a, b in matching)


def upper_bound(cands: list[Candidate], facts: PairFacts) -> float:
    """Half the sum of every member's best partner score. Partners with stage/interest facts are scored one by
    one; any other partner is a stranger with no shared interest, worth at most STAGE_POINTS[0] plus the best
    working-hour overlap with anyone else plus the cross-team bonus."""
    on = facts.reference_date
    wins = [_utc_window(c.tz, c.work_start, c.work_end, on) for c in cands]
    by_win: dict[tuple[float, float, bool], int] = {}
    for w in wins:
        by_win[w] = by_win.get(w, 0) + 1
    best_overlap = {w: max(_overlap(w, o) for o, cnt in by_win.items() if o != w or cnt > 1) for w in by_win}
    index = {c.user_id: c for c in cands}
    best: dict[str, float] = {
        c.user_id: STAGE_POINTS[0] + HOUR_POINTS * best_overlap[w] + CROSS_TEAM_POINTS
        for c, w in zip(cands, wins, strict=True)
    }
    # The benchmark builds its facts as mappings (a lookup function could not be walked).
    assert isinstance(facts.stages, Mapping) and isinstance(facts.interests, Mapping)
    for key in set(facts.stages) | set(facts.interests):
        a, b = sorted(key)
        s = score_pair(index[a], index[b], facts)
        if s.blocked is None:
            for u in (a, b):
                best[u] = max(best[u], s.total)
    return sum(best.values()) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--round", action="store_true", help="time whole rounds (bot.rounds.plan) instead")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="channel sizes")
    args = parser.parse_args()
    if args.round:
        from benchmarks.coffee_round import whole_rounds

        asyncio.run(whole_rounds(args.sizes or [300, 2_000, 5_000, 20_000]))
        return
    planner(args.sizes or [50, 500, 5_000, 20_000])


def planner(sizes: list[int]) -> None:
    console = Console(width=140)
    table = Table(title="Virtual coffee pairing (group_size=2, cross_teams=True)")
    columns = ("members", "groups", "unpaired", "time (s)", "peak mem (MiB)", "total", "reference", "ratio")
    for col in (*columns, "time, threes (s)"):
        table.add_column(col, justify="right")
    for n in sizes:
        cands, facts = synthetic_channel(n)
        start = time.perf_counter()
        rnd = plan_round(cands, facts, seed=7)
        elapsed = time.perf_counter() - start
        tracemalloc.start()
        plan_round(cands, facts, seed=7)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        if n <= EXACT_UP_TO:
            ref, label = exact_optimum(cands, facts), "optimum"
        else:
            ref, label = upper_bound(cands, facts), "upper bound"
        start = time.perf_counter()
        plan_round(cands, facts, group_size=3, seed=7)
        elapsed3 = time.perf_counter() - start
        forced = sum(1 for g in rnd.groups if len(g.members) > 2)
        table.add_row(
            f"{n:,}",
            f"{len(rnd.groups):,} ({forced} of 3)",
            str(len(rnd.unpaired)),
            f"{elapsed:.2f}",
            f"{peak:.1f}",
            f"{rnd.total:,.1f}",
            f"{ref:,.1f} ({label})",
            f"{rnd.total / ref:.4f}",
            f"{elapsed3:.2f}",
        )
        console.print(f"{n:,} members done in {elapsed:.2f}s", style="dim")
    console.print(table)


if __name__ == "__main__":
    main()
