"""Fairness of virtual coffee over a year: `python benchmarks/fairness.py`.

52 weekly rounds for channels of 5, 12 and 40 members (time zones, teams, stages and interests from
benchmarks/pairing.py), in pairs and in groups of three, planned by the real planner (`plan_round`) with the
history `bot/coffee/rounds.py` gives it (meetings of the last HISTORY_ROUNDS rounds, pairs within no-repeat blocked,
the previous round's groups). Baseline in the same run: the round-robin (circle method) schedule, which
ignores every preference and simply rotates.

Columns: repeats = pair meetings within no-repeat rounds of the pair's previous meeting; longest run = most
consecutive rounds one pair met; same group = rounds that formed a group of the previous round again;
partners = distinct partners per member after 52 rounds (min / mean, of n - 1); pair met = how often any two
members met (max / min over all pairs); score = mean round total by the planner's own scoring.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table

from benchmarks.pairing import synthetic_channel
from bot.coffee.pairing import Candidate, PairFacts, plan_round, score_pair
from bot.coffee.rounds import HISTORY_ROUNDS
from bot.domain.coffee import DEFAULT_NO_REPEAT, PairKey, pair

ROUNDS = 52
Schedule = list[list[tuple[str, ...]]]


def facts_for(base: PairFacts, history: Schedule, no_repeat: int) -> PairFacts:
    """What `bot.coffee.rounds.plan` passes the planner after `history` (oldest first)."""
    meetings: dict[PairKey, list[int]] = {}
    for ago, groups in enumerate(reversed(history[-max(no_repeat, HISTORY_ROUNDS):]), start=1):
        for g in groups:
            for a, b in combinations(g, 2):
                meetings.setdefault(pair(a, b), []).append(ago)
    recent = frozenset(k for k, agos in meetings.items() if agos[0] <= no_repeat)
    previous = frozenset(frozenset(g) for g in history[-1]) if history else frozenset()
    return PairFacts(base.stages, base.interests, recent, base.avoid, base.cross_teams, base.reference_date,
                     {k: tuple(v) for k, v in meetings.items()}, previous)


def planner_schedule(cands: list[Candidate], base: PairFacts, size: int, no_repeat: int) -> tuple[Schedule, float]:
    history: Schedule = []
    started = time.perf_counter()
    for _ in range(ROUNDS):
        planned = plan_round(cands, facts_for(base, history, no_repeat), size)
        history.append([g.members for g in planned.groups])
    return history, (time.perf_counter() - started) / ROUNDS


def chunk(order: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """Cut a rotation into groups as the planner sizes them: pairs (a trio when odd), or threes (pairs when
    the count requires)."""
    n = len(order)
    if size == 2:
        groups = [tuple(order[i:i + 2]) for i in range(0, n - n % 2, 2)]
        if n % 2:
            groups[-1] = (*groups[-1], order[-1])
        return groups
    trios = n // 3 if n % 3 != 1 else (n - 4) // 3
    groups = [tuple(order[3 * i:3 * i + 3]) for i in range(trios)]
    rest = order[3 * trios:]
    return groups + [tuple(rest[i:i + 2]) for i in range(0, len(rest), 2)]


def round_robin_schedule(ids: list[str], size: int) -> Schedule:
    """Circle method: the first member stays, the others rotate one seat a round; seats are paired end to end
    (first with last), then cut into groups."""
    seats = list(ids) + ([None] if len(ids) % 2 else [])
    out: Schedule = []
    for r in range(ROUNDS):
        shift = r % (len(seats) - 1)
        ring = [seats[0], *seats[1 + shift:], *seats[1:1 + shift]]
        half = len(ring) // 2
        order = [m for k in range(half) for m in (ring[k], ring[-1 - k]) if m is not None]
        out.append(chunk(order, size))
    return out


def measure(schedule: Schedule, ids: list[str], no_repeat: int, cands: list[Candidate], base: PairFacts) -> dict:
    last: dict[PairKey, int] = {}
    run: dict[PairKey, int] = {}
    counts: dict[PairKey, int] = {pair(a, b): 0 for a, b in combinations(ids, 2)}
    repeats = longest = same_group = 0
    by_id = {c.user_id: c for c in cands}
    total = 0.0
    for r, groups in enumerate(schedule):
        if r and {frozenset(g) for g in groups} & {frozenset(g) for g in schedule[r - 1]}:
            same_group += 1
        for g in groups:
            for a, b in combinations(g, 2):
                key = pair(a, b)
                if key in last and r - last[key] <= no_repeat:
                    repeats += 1
                run[key] = run[key] + 1 if last.get(key) == r - 1 else 1
                longest = max(longest, run[key])
                last[key] = r
                counts[key] += 1
                total += score_pair(by_id[a], by_id[b], base).total
    partners = {u: sum(1 for k, c in counts.items() if c and u in k) for u in ids}
    return {
        "repeats": repeats,
        "longest": longest,
        "same": same_group,
        "partners": f"{min(partners.values())} / {sum(partners.values()) / len(ids):.1f} of {len(ids) - 1}",
        "met": f"{max(counts.values())} / {min(counts.values())}",
        "score": total / len(schedule),
    }


def main() -> None:
    console = Console(width=160)
    table = Table(title=f"Virtual coffee fairness over {ROUNDS} weekly rounds (planner vs round-robin baseline)")
    for col in ("members", "size", "no-repeat", "schedule", "repeats", "longest run", "same group",
                "partners (min / mean)", "pair met (max / min)", "score / round", "time / round"):
        table.add_column(col, justify="right")
    for n in (5, 12, 40):
        cands, facts = synthetic_channel(n, seed=3)
        base = PairFacts(facts.stages, facts.interests, frozenset(), facts.avoid, facts.cross_teams)
        ids = [c.user_id for c in cands]
        no_repeat = 3 if n == 5 else DEFAULT_NO_REPEAT  # 3: the channel of issue 15
        for size in (2, 3):
            planned, per_round = planner_schedule(cands, base, size, no_repeat)
            for name, schedule, timing in (("round-robin (baseline)", round_robin_schedule(ids, size), "-"),
                                           ("planner", planned, f"{per_round * 1000:.0f} ms")):
                m = measure(schedule, ids, no_repeat, cands, base)
                table.add_row(str(n), str(size), str(no_repeat), name, str(m["repeats"]), str(m["longest"]),
                              str(m["same"]), m["partners"], m["met"], f"{m['score']:.1f}", timing)
    console.print(table)


if __name__ == "__main__":
    main()
