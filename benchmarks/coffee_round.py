"""Whole coffee rounds: `python benchmarks/pairing.py --round [--sizes 300 2000 5000 20000]`.

For each size, a SQLite database (benchmarks/coffee_round_data.py: members, profiles of about eight interest
phrases with stored vectors, a channel everyone joined) and `bot.rounds.plan`, timed from the first query to the
groups with their suggested times, split into shared-interest scoring, the planner, and the rest (reads, time
suggestions). Baseline, in the same run on the same database: the same round with the interest scoring of
commit 64c6061 (benchmarks/interest_baseline.py). Each round runs REPEATS times, baseline and current taking turns,
and the fastest of each is shown (other work on the machine swings single runs by 2x); `cpu` is the process's CPU
time for that run (all threads), steadier than the wall clock when the machine is shared.

Score: the round's total with every pair's interest scored exactly (not only the candidates the round scored), as
a ratio of the exact optimum (networkx max-weight matching over every pair, every interest exact) where that can
be computed (EXACT_UP_TO members); above it, as a ratio of the baseline round's total, scored the same way on the
union of both rounds' pairs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks import interest_baseline
from benchmarks.coffee_round_data import DUE, WS, populate
from bot.coffee import interest_pairs, rounds
from bot.coffee.pairing import PairFacts, SharedInterest, score_pair
from bot.domain.coffee import pair
from bot.interests.vectors import MatcherSource
from storage.store import SqlStore

EXACT_UP_TO = 300
REPEATS = 2


MATCHERS = MatcherSource()  # the embedding model, loaded once for every round timed here

async def _timed_plan(store: SqlStore, settings: Any, interests: Any) -> tuple[Any, dict[str, float]]:
    parts: dict[str, float] = {}
    planner = rounds.plan_round

    async def timed_interests(*args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        out = await interests(*args, **kw)
        parts["interests"] = time.perf_counter() - started
        return out

    def timed_planner(*args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        out = planner(*args, **kw)
        parts["planner"] = time.perf_counter() - started
        return out

    rounds.shared_interests, rounds.plan_round = timed_interests, timed_planner  # type: ignore[assignment]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        plan = await rounds.plan(store, MATCHERS, settings, DUE, DUE)
        parts["total"] = time.perf_counter() - started
        parts["cpu"] = time.process_time() - cpu
    finally:
        rounds.shared_interests, rounds.plan_round = interest_pairs.shared_interests, planner  # type: ignore[assignment]
    parts["rest"] = parts["total"] - parts["interests"] - parts["planner"]
    return plan, parts


async def _exact_facts(store: SqlStore, settings: Any, pairs: set[frozenset[str]] | None) -> tuple[dict, PairFacts]:
    """Candidates as the round sees them, and facts whose interests are scored exactly for `pairs` (None: all)."""
    memberships = await store.coffee.memberships(WS, settings.channel)
    users = sorted(m.user for m in memberships)
    zones, profiles = await rounds._zones_and_profiles(store, WS, users)
    cands = {m.user: rounds.candidate(m.user, zones[m.user], profiles.get(m.user), m.team) for m in memberships}
    listed = [profiles[u] for u in users if u in profiles and profiles[u].phrases()]
    matcher = await MATCHERS.aget()
    matrix = await interest_pairs.phrase_matrix(store, listed, matcher.name, matcher)
    index = {p.user_id: i for i, p in enumerate(listed)}
    if pairs is None:
        i, j = np.triu_indices(len(listed), 1)
        candidates = np.stack([i, j], axis=1)
    else:
        candidates = np.array(sorted((min(index[a], index[b]), max(index[a], index[b]))
                                     for a, b in (tuple(p) for p in pairs)), dtype=np.int64).reshape(-1, 2)
    strength, _ = interest_pairs.score_pairs(matcher.threshold, matrix, candidates)
    interests = {pair(listed[a].user_id, listed[b].user_id): SharedInterest(min(1.0, float(s) / 2))
                 for (a, b), s in zip(candidates.tolist(), strength.tolist(), strict=True) if s > 0}
    return cands, PairFacts({}, interests, frozenset(), frozenset(), settings.cross_teams, DUE.date())


def _total(plan: Any, cands: dict, facts: PairFacts) -> float:
    return sum(score_pair(cands[a], cands[b], facts).total
               for g in plan.groups if g.index >= 0 for a in g.members for b in g.members if a < b)


def _pairs(plan: Any) -> set[frozenset[str]]:
    return {pair(a, b) for g in plan.groups if g.index >= 0 for a in g.members for b in g.members if a < b}


def _optimum(cands: dict, facts: PairFacts) -> float:
    import networkx as nx

    graph = nx.Graph()
    users = sorted(cands)
    for x, a in enumerate(users):
        for b in users[x + 1:]:
            graph.add_edge(a, b, weight=score_pair(cands[a], cands[b], facts).total)
    return sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph, maxcardinality=True))


async def whole_rounds(sizes: list[int]) -> None:
    console = Console(width=160)
    table = Table(title="Whole coffee round (bot.rounds.plan on SQLite, groups of 2, cross-teams)")
    for col in ("members", "interest scoring", "round (s)", "cpu (s)", "interests (s)", "planner (s)", "rest (s)",
                "interest pairs", "score / reference"):
        table.add_column(col, justify="right")
    matcher = await MATCHERS.aget()
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            store = await SqlStore.open(f"sqlite:///{Path(folder) / f'round{n}.db'}")
            settings = await populate(store, n, matcher.name, 384)
            await rounds.plan(store, MATCHERS, settings, DUE, DUE)  # warm: the model is loaded, SQLite's pages cached
            runs: dict[str, Any] = {}
            scorers = (("64c6061 (baseline)", interest_baseline.shared_interests),
                       ("now", interest_pairs.shared_interests))
            for _ in range(REPEATS):
                for label, scorer in scorers:
                    run = await _timed_plan(store, settings, scorer)
                    if label not in runs or run[1]["total"] < runs[label][1]["total"]:
                        runs[label] = run
            for label, scorer in scorers:
                count = len(await scorer(store, MATCHERS, [p for p in await store.profiles.list(WS)]))
                runs[label] = (*runs[label], count)
            if n <= EXACT_UP_TO:
                cands, facts = await _exact_facts(store, settings, None)
                reference, label = _optimum(cands, facts), "of the optimum"
            else:
                union = _pairs(runs["now"][0]) | _pairs(runs["64c6061 (baseline)"][0])
                cands, facts = await _exact_facts(store, settings, union)
                reference, label = _total(runs["64c6061 (baseline)"][0], cands, facts), "of the baseline"
            for name, (plan, parts, count) in runs.items():
                ratio = _total(plan, cands, facts) / reference
                table.add_row(f"{n:,}", name, f"{parts['total']:.2f}", f"{parts['cpu']:.2f}",
                              f"{parts['interests']:.2f}", f"{parts['planner']:.2f}", f"{parts['rest']:.2f}",
                              f"{count:,}", f"{ratio:.3f} {label}")
            console.print(f"{n:,} members done", style="dim")
            await store.close()
    console.print(table)
