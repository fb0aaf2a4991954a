"""Virtual coffee pairing: who meets whom this round. Pure functions, no I/O, no platform imports.

Opted-in members of a channel are put in groups of two (or three when configured) so that the round's total
score is as high as possible. The score of a pair is defined in one place, `score_pair`:

    total = STAGE_POINTS[stage rank]              strangers 4, talking 3, acquaintance 2, peers 1, advisor 0.5
          + HOUR_POINTS * shared working hours    0.5 per hour of overlap (0..24 h) at the reference date
          + INTEREST_POINTS * shared interest      0..1 score supplied by the caller, times 3
          + CROSS_TEAM_POINTS                      1 if cross-team pairing is wanted and no team is shared
          - REPEAT_POINTS * sum(1 / sqrt(rounds ago)) over the pair's past meetings: 4 for last round, 2 for
                                                   four rounds ago, ... so the pair that met longest ago scores best

A group's score is the sum of the scores of every pair inside it; a round's total is the sum over groups.

Hard rules: a pair on the avoid list is never grouped; a pair that met in the last rounds is not grouped
again unless someone could not be placed otherwise (the group's reasons then say so). When that happens, the
pairs that met least recently and least often are used (`_Scorer.fallback`; swaps between groups may then
spread the repeats over more pairs rather than let one pair meet round after round), and a group of the
previous round is never formed again exactly while another arrangement exists (`_repair_repeats`).

Algorithm (`plan_round`): up to `exact_limit` members, an exact maximum-weight matching (networkx) on the
complete graph of allowed pairs. Above it, a sparse candidate graph (members bucketed by their UTC working
window; each member samples partners from the buckets overlapping most, plus every partner it shares an
interest with), a greedy matching on it, 2-opt swaps until no swap helps, and (up to `LNS_LIMIT`)
exact re-solving of blocks of neighbouring pairs. Leftovers (odd count, blocked
people) join the group where they add most; one that no group takes may take a grouped member's place, that
member moving on (`_rescue_unplaced`), and in a round of up to 10 whose avoid lists still leave someone out,
every split into groups of two and three is searched (`_place_everyone_exactly`). Groups of three are built
from a matching: the best pairs are kept as cores and members of the weakest pairs are attached as thirds.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from bot.domain.coffee import PairKey, pair

STAGE_POINTS: tuple[float, ...] = (4.0, 3.0, 2.0, 1.0, 0.5)
STAGE_REASONS: tuple[str, ...] = (
    "strangers so far",
    "only just started talking",
    "acquaintances with room to grow",
    "already peers",
    "already a trusted-advisor pair",
)
HOUR_POINTS = 0.5
INTEREST_POINTS = 3.0
CROSS_TEAM_POINTS = 1.0
DEFAULT_REFERENCE_DATE = date(2025, 1, 15)
RECENT_FALLBACK_REASON = "met in a recent round, but no one else could be paired with them"
REPEAT_POINTS = 4.0  # last round's partner loses what a stranger gains over a trusted advisor
# Recent pairs, when they must be used, are ranked by how recently and often they met before anything else:
# this many points per unit of recency outweighs the other terms (at most ~24 points apart).
FALLBACK_POINTS = 1000.0
FRESH_RECENCY = 10.0  # above any recent pair's (capped) squared recency: pairs that are not recent

# Tuning of the large-instance heuristic.
EXACT_LIMIT = 200  # members up to which the exact matching is used
DENSE_LIMIT = 300  # members up to which the heuristic considers every pair
SAMPLED_PARTNERS = 14  # partners sampled per member from the best-overlapping buckets
KEPT_PARTNERS = 8  # best sampled partners kept per member
INTEREST_PARTNERS = 8  # best interest partners kept per member
LOCAL_SEARCH_STEPS = 100  # at most this many rounds of simultaneous 2-opt swaps (a few dozen are usually enough)
LNS_LIMIT = 1000  # members up to which blocks of the heuristic matching are re-solved exactly
LNS_BLOCK = 60  # members per re-solved block
LNS_ROUNDS = 2
EXACT_THIRDS_LIMIT = 20_000  # singles x cores up to which thirds are assigned exactly
# Members up to which a leftover is placed by moving a grouped member (quadratic in groups per leftover; in a
# larger round some group almost always takes a leftover directly).
RESCUE_LIMIT = 1000
EXACT_PLACING_LIMIT = 10  # members up to which everyone's split is searched whole when a move placed nobody
REPAIR_PASSES = 4  # passes of swaps over groups that hold a recent pair or repeat a previous group

@dataclass(frozen=True)
class Candidate:
    """An opted-in member. Working hours are local hours; `work_end <= work_start` means an overnight shift."""

    user_id: str
    tz: str | None
    work_start: int = 9
    work_end: int = 17
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SharedInterest:
    """How much two people have in common (0..1) and the topics to mention."""

    score: float
    topics: tuple[str, ...] = ()


_EMPTY: Mapping[PairKey, object] = MappingProxyType({})

StageLookup = Mapping[PairKey, int] | Callable[[str, str], int]
InterestLookup = Mapping[PairKey, "float | SharedInterest"] | Callable[[str, str], "float | SharedInterest"]


@dataclass(frozen=True)
class PairFacts:
    """What callers know about pairs. Mappings are keyed by `pair(a, b)`; missing pairs are strangers with no
    shared interest. Functions are accepted too, but only mappings let the planner look for interest partners
    beyond the ones it samples by working hours."""

    stages: StageLookup = field(default_factory=lambda: _EMPTY)  # type: ignore[assignment]
    interests: InterestLookup = field(default_factory=lambda: _EMPTY)  # type: ignore[assignment]
    recent: Collection[PairKey] = frozenset()  # met in the last N rounds: not again
    avoid: Collection[PairKey] = frozenset()  # never grouped
    cross_teams: bool = False
    reference_date: date = DEFAULT_REFERENCE_DATE  # date whose UTC offsets define working-hour overlap
    # Rounds ago (1 = the previous round) of each time the pair met, as far back as the caller keeps history.
    meetings: Mapping[PairKey, tuple[int, ...]] = field(default_factory=lambda: _EMPTY)  # type: ignore[arg-type,return-value]
    previous: Collection[PairKey] = frozenset()  # member sets of the previous round's groups: not formed again

    def stage(self, a: str, b: str) -> int:
        s = self.stages
        rank = s.get(pair(a, b), 0) if isinstance(s, Mapping) else s(a, b)
        return min(max(int(rank or 0), 0), len(STAGE_POINTS) - 1)

    def interest(self, a: str, b: str) -> SharedInterest:
        i = self.interests
        value = i.get(pair(a, b), 0.0) if isinstance(i, Mapping) else i(a, b)
        if isinstance(value, SharedInterest):
            return SharedInterest(min(max(value.score, 0.0), 1.0), value.topics)
        return SharedInterest(min(max(float(value or 0.0), 0.0), 1.0))


@dataclass(frozen=True)
class Score:
    total: float
    reasons: tuple[str, ...]
    blocked: str | None = None  # "avoid" or "recent" when the pair must not (or should not) be grouped


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Round:
    groups: tuple[Group, ...]
    unpaired: tuple[str, ...]
    total: float
    notes: tuple[str, ...] = ()  # one "user: why" line per unpaired member


# --------------------------------------------------------------------------------------------------- scoring


@lru_cache(maxsize=4096)
def _utc_offset_hours(tz: str | None, on: date) -> float | None:
    if not tz:
        return None
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offset = datetime.combine(on, time(12), zone).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else None


@lru_cache(maxsize=8192)
def _utc_window(tz: str | None, start: int, end: int, on: date) -> tuple[float, float, bool]:
    """(start, length) of the working window in UTC hours, start in [0, 24); flag: time zone was known."""
    offset = _utc_offset_hours(tz, on)
    length = (end - start) % 24 or 24
    return ((start - (offset or 0.0)) % 24, float(length), offset is not None)


def _overlap(w1: tuple[float, float, bool], w2: tuple[float, float, bool]) -> float:
    """Hours both windows share on a 24 h clock."""
    s1, l1, _ = w1
    s2, l2, _ = w2
    total = 0.0
    for shift in (-24.0, 0.0, 24.0):
        lo = max(s1, s2 + shift)
        hi = min(s1 + l1, s2 + shift + l2)
        if hi > lo:
            total += hi - lo
    return min(total, 24.0)


def _combine(rank: int, hours: float, interest: float, cross: bool, recency: float = 0.0) -> float:
    """The score formula (see the module docstring); every score in this module goes through here."""
    return (STAGE_POINTS[rank] + HOUR_POINTS * hours + INTEREST_POINTS * interest
            + (CROSS_TEAM_POINTS if cross else 0.0) - REPEAT_POINTS * recency)


def _recency(meetings: tuple[int, ...] | None, power: float = 0.5) -> float:
    """How recently and often a pair met: a meeting k rounds ago counts 1/k**power. The score uses a slow
    decay (a pair that meets every few rounds keeps losing to pairs that rarely met), the fallback among
    recent pairs a fast one (what counts there is who met last round or the one before)."""
    return sum(1.0 / max(int(k), 1) ** power for k in meetings) if meetings else 0.0


def _met_text(meetings: tuple[int, ...]) -> str:
    ago = min(meetings)
    return "met last round" if ago <= 1 else f"met {ago} rounds ago"


def _is_cross(a: Candidate, b: Candidate) -> bool:
    return bool(a.teams) and bool(b.teams) and not (a.teams & b.teams)


def _hours_text(hours: float) -> str:
    return f"{hours:.1f}".rstrip("0").rstrip(".")


def score_pair(a: Candidate, b: Candidate, facts: PairFacts) -> Score:
    """Score how good it would be for `a` and `b` to meet, with human reasons.

    Lower rapport stage scores higher (the point is to meet new people), more shared working hours score
    higher (computed from the IANA time zones at `facts.reference_date`; an unknown zone counts as UTC),
    shared interests add, and being from different teams adds when `facts.cross_teams` is set.
    Pairs on the avoid list or met recently are flagged in `blocked`; the planner excludes them.
    """
    key = pair(a.user_id, b.user_id)
    rank = facts.stage(a.user_id, b.user_id)
    on = facts.reference_date
    wa = _utc_window(a.tz, a.work_start, a.work_end, on)
    wb = _utc_window(b.tz, b.work_start, b.work_end, on)
    hours = _overlap(wa, wb)
    shared = facts.interest(a.user_id, b.user_id)
    cross = facts.cross_teams and _is_cross(a, b)
    met = facts.meetings.get(key)

    reasons = [STAGE_REASONS[rank]]
    hours_reason = f"{_hours_text(hours)} h of shared working hours" if hours > 0 else "no shared working hours"
    if not (wa[2] and wb[2]):
        hours_reason += " (time zone unknown, assumed UTC)"
    reasons.append(hours_reason)
    if shared.score > 0:
        if shared.topics:
            topics = list(shared.topics)
            text = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " and " + topics[-1]
            reasons.append(f"both into {text}")
        else:
            reasons.append(f"shared interests ({shared.score:.0%})")
    if cross:
        reasons.append("from different teams")
    if met:
        reasons.append(_met_text(met))
    blocked = None
    if key in facts.avoid:
        blocked = "avoid"
        reasons.append("on the avoid list")
    elif key in facts.recent:
        blocked = "recent"
        reasons.append("met in a recent round")
    return Score(_combine(rank, hours, shared.score, cross, _recency(met)), tuple(reasons), blocked)


class _Scorer:
    """Fast numeric version of `score_pair` over candidate indices (same formula via `_combine`, no reason
    strings), with memoised pair scores and per-window-pair overlaps."""

    def __init__(self, candidates: Sequence[Candidate], facts: PairFacts) -> None:
        self.facts = facts
        self.ids = [c.user_id for c in candidates]
        on = facts.reference_date
        self.win = [_utc_window(c.tz, c.work_start, c.work_end, on) for c in candidates]
        windows: dict[tuple[float, float, bool], int] = {}
        self.bucket = [windows.setdefault(w, len(windows)) for w in self.win]
        self.windows = list(windows)
        self.n_windows = len(windows)
        self.overlaps: dict[int, float] = {}
        self.teams = [c.teams for c in candidates]
        self.cross = facts.cross_teams
        self.avoid = facts.avoid
        self.recent = facts.recent
        self.meetings = facts.meetings
        self.memo: dict[tuple[int, int], float | None] = {}
        stages, interests = facts.stages, facts.interests
        self.stage_map = stages if isinstance(stages, Mapping) else None
        self.interest_map = interests if isinstance(interests, Mapping) else None
        if self.n_windows <= 1024:
            self.table = [[_overlap(w1, w2) for w2 in self.windows] for w1 in self.windows]
        else:
            self.table = []
        # A stranger pair's score by the two working windows: most pairs the matching looks at are strangers.
        self.stranger = [[_combine(0, hours, 0.0, False) for hours in row] for row in self.table]
        self.n = len(self.ids)
        self.bucket_array = np.array(self.bucket, dtype=np.int64)
        self.stranger_array = np.array(self.stranger, dtype=np.float64)
        names: dict[str, int] = {}
        # One team each (the usual case) compares as integers; -2 marks someone in several, compared as sets.
        self.team_array = np.array([-1 if not t else names.setdefault(next(iter(t)), len(names)) if len(t) == 1
                                    else -2 for t in self.teams], dtype=np.int64)
        # Scores of the pairs with any fact (stage, interest, history, avoid), by code i * n + j (i < j), None
        # when blocked; every other pair is a plain stranger pair (fast path). Only when facts are mappings.
        self.known: dict[int, float | None] | None = None
        self.codes: np.ndarray = np.zeros(0, dtype=np.int64)
        self.values: np.ndarray = np.zeros(0, dtype=np.float64)
        self.liked = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))  # pairs with a shared interest
        if self.stage_map is not None and self.interest_map is not None:
            self._score_known(self.stage_map, self.interest_map)

    def _score_known(self, stages: Mapping[PairKey, int], interests: Mapping[PairKey, float | SharedInterest]
                     ) -> None:
        """The pairs with facts, scored over arrays (the formula of `raw`): 20,000 members bring some 120,000
        interest pairs, and a Python call each was a large part of planning."""
        n = self.n
        index = {cid: i for i, cid in enumerate(self.ids)}

        def code(key: PairKey) -> int | None:
            if len(key) != 2:
                return None
            a, b = key
            ia, ib = index.get(a), index.get(b)
            if ia is None or ib is None:
                return None
            return ia * n + ib if ia < ib else ib * n + ia

        top = len(STAGE_POINTS) - 1
        ranks = {c: 0 if not rank else min(max(int(rank), 0), top)
                 for key, rank in stages.items() if (c := code(key)) is not None}
        shared: dict[int, float] = {}
        for key, value in interests.items():
            if (c := code(key)) is not None:
                score = 0.0 if not value else value.score if isinstance(value, SharedInterest) else float(value)
                shared[c] = min(max(score, 0.0), 1.0)
        recency = {c: _recency(met) for key, met in self.meetings.items() if (c := code(key)) is not None}
        blocked = {c for keys in (self.avoid, self.recent) for key in keys if (c := code(key)) is not None}
        codes = np.array(sorted(ranks.keys() | shared.keys() | recency.keys() | blocked), dtype=np.int64)
        listed = codes.tolist()
        first, second = codes // max(n, 1), codes % max(n, 1)
        interest = np.array([shared.get(c, 0.0) for c in listed], dtype=np.float64)
        values = (np.array(STAGE_POINTS)[np.array([ranks.get(c, 0) for c in listed], dtype=np.int64)]
                  + HOUR_POINTS * self._hours(first, second) + INTEREST_POINTS * interest
                  + np.where(self._crosses(first, second), CROSS_TEAM_POINTS, 0.0)
                  - REPEAT_POINTS * np.array([recency.get(c, 0.0) for c in listed], dtype=np.float64))
        values[np.array([c in blocked for c in listed], dtype=bool)] = np.nan
        self.codes, self.values = codes, values
        self.known = {c: None if v != v else v for c, v in zip(listed, values.tolist(), strict=True)}
        self.liked = (first[interest > 0], second[interest > 0])

    def _hours(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.table:
            return np.array(self.table, dtype=np.float64)[self.bucket_array[i], self.bucket_array[j]]
        return np.array([self.overlap(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)], dtype=np.float64)

    def _crosses(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if not self.cross:
            return np.zeros(len(i), dtype=bool)
        ti, tj = self.team_array[i], self.team_array[j]
        cross = (ti >= 0) & (tj >= 0) & (ti != tj)
        for k in np.nonzero((ti == -2) | (tj == -2))[0].tolist():
            a, b = self.teams[int(i[k])], self.teams[int(j[k])]
            cross[k] = bool(a) and bool(b) and a.isdisjoint(b)
        return cross

    def many(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """`w` over arrays of member indices, NaN where the pair is blocked: stranger pairs (nearly all of those
        the sampled graph looks at) from the window table, pairs with facts looked up."""
        if self.known is None or not self.stranger:
            return np.array([np.nan if (v := self.w(a, b)) is None else v
                             for a, b in zip(i.tolist(), j.tolist(), strict=True)], dtype=np.float64)
        out = self.stranger_array[self.bucket_array[i], self.bucket_array[j]]
        out = out + np.where(self._crosses(i, j), CROSS_TEAM_POINTS, 0.0)
        codes = self.codes
        if len(codes):
            wanted = np.minimum(i, j) * self.n + np.maximum(i, j)
            at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
            hit = codes[at] == wanted
            out[hit] = self.values[at[hit]]
        return out

    def blocked(self, i: int, j: int) -> str | None:
        key = frozenset((self.ids[i], self.ids[j]))
        if key in self.avoid:
            return "avoid"
        if key in self.recent:
            return "recent"
        return None

    def overlap(self, i: int, j: int) -> float:
        bi, bj = self.bucket[i], self.bucket[j]
        if self.table:
            return self.table[bi][bj]
        k = bi * self.n_windows + bj if bi <= bj else bj * self.n_windows + bi
        v = self.overlaps.get(k)
        if v is None:
            v = self.overlaps[k] = _overlap(self.windows[bi], self.windows[bj])
        return v

    def raw(self, i: int, j: int, key: PairKey | None = None) -> float:
        """Score of the pair whether or not it is blocked."""
        if key is None:
            key = frozenset((self.ids[i], self.ids[j]))
        if self.stage_map is not None:
            rank = self.stage_map.get(key)
            rank = 0 if not rank else min(max(int(rank), 0), len(STAGE_POINTS) - 1)
        else:
            rank = self.facts.stage(self.ids[i], self.ids[j])
        if self.interest_map is not None:
            value = self.interest_map.get(key) if self.interest_map else None
            if not value:
                interest = 0.0
            else:
                score = value.score if isinstance(value, SharedInterest) else float(value)
                interest = min(max(score, 0.0), 1.0)
        else:
            interest = self.facts.interest(self.ids[i], self.ids[j]).score
        ti, tj = self.teams[i], self.teams[j]
        cross = self.cross and bool(ti) and bool(tj) and ti.isdisjoint(tj)
        recency = _recency(self.meetings.get(key)) if self.meetings else 0.0
        return _combine(rank, self.overlap(i, j), interest, cross, recency)

    def fallback(self, i: int, j: int) -> float | None:
        """Weight of a pair when recent pairs must be used: the less recently and often the pair met the better
        (pairs that are not recent best), then the usual score. None for avoid pairs. Always positive, so a
        maximum-weight matching on it still places everyone it can."""
        v = self.w(i, j)
        if v is not None:
            return FALLBACK_POINTS * FRESH_RECENCY + v
        key = frozenset((self.ids[i], self.ids[j]))
        if key in self.avoid:
            return None
        recency = _recency(self.meetings.get(key), 1.0) or 1.0  # recent without a date: as if met last round
        # Squared: one pair meeting in three rounds running costs more than two pairs meeting twice.
        return FALLBACK_POINTS * (FRESH_RECENCY - min(recency, 3.0) ** 2) + self.raw(i, j, key)

    def w(self, i: int, j: int) -> float | None:
        """Score of an allowed pair, None if the pair is blocked (avoid or recent)."""
        known = self.known
        if known is not None:
            k = i * self.n + j if i < j else j * self.n + i
            if k in known:
                return known[k]
            ti, tj = self.teams[i], self.teams[j]
            cross = self.cross and bool(ti) and bool(tj) and ti.isdisjoint(tj)
            if self.stranger:
                return self.stranger[self.bucket[i]][self.bucket[j]] + (CROSS_TEAM_POINTS if cross else 0.0)
            return _combine(0, self.overlap(i, j), 0.0, cross)
        pk = (i, j) if i < j else (j, i)
        memo = self.memo
        if pk in memo:
            return memo[pk]
        key = frozenset((self.ids[i], self.ids[j]))
        v = None if key in self.avoid or key in self.recent else self.raw(i, j, key)
        memo[pk] = v
        return v


# -------------------------------------------------------------------------------------------------- matching


def _exact_matching(n: int, scorer: _Scorer) -> list[tuple[int, int]]:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i in range(n):
        for j in range(i + 1, n):
            v = scorer.w(i, j)
            if v is not None:
                graph.add_edge(i, j, weight=v)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted((min(a, b), max(a, b)) for a, b in matching)


def _interest_neighbours(scorer: _Scorer, index: dict[str, int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if not scorer.interest_map:
        return out
    for key, value in scorer.interest_map.items():
        score = value.score if isinstance(value, SharedInterest) else float(value or 0.0)
        if score <= 0 or len(key) != 2:
            continue
        a, b = tuple(key)
        ia, ib = index.get(a), index.get(b)
        if ia is None or ib is None:
            continue
        out.setdefault(ia, []).append(ib)
        out.setdefault(ib, []).append(ia)
    return out


def _sparse_graph(n: int, scorer: _Scorer, rng: random.Random
                  ) -> tuple[list[dict[int, float]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Weighted neighbours of each member (allowed pairs only, symmetric): the best of a sample of partners
    from the buckets whose working window overlaps most, plus its best interest partners. Complete graph for
    small channels."""
    w = scorer.w
    nw: list[dict[int, float]] = [{} for _ in range(n)]
    if n <= DENSE_LIMIT:
        for i in range(n):
            for j in range(i + 1, n):
                v = w(i, j)
                if v is not None:
                    nw[i][j] = nw[j][i] = v
        edges = [(i, j, v) for i in range(n) for j, v in nw[i].items() if i < j]
        first = np.array([e[0] for e in edges], dtype=np.int64)
        second = np.array([e[1] for e in edges], dtype=np.int64)
        return nw, (first, second, np.array([e[2] for e in edges], dtype=np.float64))

    first, second, weight = _sampled_edges(n, scorer, rng)
    for i, j, v in zip(first.tolist(), second.tolist(), weight.tolist(), strict=True):
        nw[i][j] = nw[j][i] = v
    return nw, (first, second, weight)


def _top_per_member(owner: np.ndarray, other: np.ndarray, value: np.ndarray, k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best-valued rows of each owner (NaN values, blocked pairs, dropped)."""
    keep = ~np.isnan(value)
    owner, other, value = owner[keep], other[keep], value[keep]
    order = np.lexsort((-value, owner))
    owner, other, value = owner[order], other[order], value[order]
    starts = np.searchsorted(owner, owner, side="left")
    top = np.arange(len(owner)) - starts < k
    return owner[top], other[top], value[top]


def _sampled_edges(n: int, scorer: _Scorer, rng: random.Random) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, weight) with i < j, each pair once: each member's KEPT_PARTNERS best of SAMPLED_PARTNERS partners
    sampled from the buckets whose working window overlaps most (the whole of the better buckets, a random run
    of the last one needed), plus its INTEREST_PARTNERS best interest partners. Scored over arrays: a Python
    call per sampled pair was most of a 20,000-member round's planning."""
    gen = np.random.default_rng(rng.randrange(2**32))
    buckets: dict[tuple[float, float], list[int]] = {}
    for i, (start, length, _) in enumerate(scorer.win):
        buckets.setdefault((start, length), []).append(i)
    keys = sorted(buckets)
    owners: list[np.ndarray] = []
    partners: list[np.ndarray] = []
    width = SAMPLED_PARTNERS + 1  # one more than wanted: a member may draw itself
    for k in keys:
        wk = (k[0], k[1], True)
        ranked = sorted(keys, key=lambda o, wk=wk: (-_overlap(wk, (o[0], o[1], True)), -len(buckets[o]), o))  # type: ignore[misc]
        head: list[int] = []
        tail: np.ndarray | None = None
        for o in ranked:
            if len(head) + len(buckets[o]) <= width:
                head.extend(buckets[o])
                continue
            tail = gen.permutation(np.array(buckets[o], dtype=np.int64))
            break
        mine = np.array(buckets[k], dtype=np.int64)
        drawn = np.broadcast_to(np.array(head, dtype=np.int64), (len(mine), len(head)))
        if tail is not None:
            run = width - len(head)
            at = gen.integers(len(tail), size=len(mine))[:, None] + np.arange(run)
            drawn = np.concatenate([drawn, tail[at % len(tail)]], axis=1)
        # A member that drew itself loses that draw; the others lose their last one.
        last = np.argsort(drawn == mine[:, None], axis=1, kind="stable")[:, :SAMPLED_PARTNERS]
        drawn = np.take_along_axis(drawn, last, axis=1)
        owners.append(np.repeat(mine, drawn.shape[1]))
        partners.append(drawn.ravel())
    owner = np.concatenate(owners)
    other = np.concatenate(partners)
    mask = owner != other
    owner, other = owner[mask], other[mask]
    found = [_top_per_member(owner, other, scorer.many(owner, other), KEPT_PARTNERS)]

    if scorer.known is not None:
        owner = np.concatenate(scorer.liked)
        other = np.concatenate(scorer.liked[::-1])
    else:
        liked = _interest_neighbours(scorer, {cid: i for i, cid in enumerate(scorer.ids)})
        owner = np.array([i for i, js in liked.items() for _ in js], dtype=np.int64)
        other = np.array([j for js in liked.values() for j in js], dtype=np.int64)
    mask = owner != other
    owner, other = owner[mask], other[mask]
    if len(owner):
        found.append(_top_per_member(owner, other, scorer.many(owner, other), INTEREST_PARTNERS))
    first = np.concatenate([np.minimum(a, b) for a, b, _ in found])
    second = np.concatenate([np.maximum(a, b) for a, b, _ in found])
    weight = np.concatenate([v for _, _, v in found])
    _, unique = np.unique(first * n + second, return_index=True)
    return first[unique], second[unique], weight[unique]


def _heuristic_matching(
    n: int, scorer: _Scorer, rng: random.Random
) -> tuple[list[tuple[int, int]], list[dict[int, float]]]:
    nw, (first, second, weight) = _sparse_graph(n, scorer, rng)
    tiebreak = np.array(rng.sample(range(n), n), dtype=np.int64)
    order = np.lexsort((tiebreak[first] + tiebreak[second], -weight))
    mate = [-1] * n
    for i, j in zip(first[order].tolist(), second[order].tolist(), strict=True):
        if mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j] = j, i

    # Augment: an unmatched u takes a matched neighbour c whose partner d can pair with another unmatched e.
    for u in range(n):
        if mate[u] >= 0:
            continue
        for c in nw[u]:
            if mate[u] >= 0:
                break
            d = mate[c]
            if d < 0:
                mate[u], mate[c] = c, u
                continue
            for e in nw[d]:
                if e != u and mate[e] < 0:
                    mate[u], mate[c], mate[d], mate[e] = c, u, e, d
                    break

    mate = _two_opt(np.array(mate, dtype=np.int64), first, second, weight, scorer, nw)
    if n <= LNS_LIMIT:
        _reoptimise_blocks(mate, nw, rng)
    return [(i, mate[i]) for i in range(n) if mate[i] > i], nw


def _two_opt(mate: np.ndarray, first: np.ndarray, second: np.ndarray, weight: np.ndarray, scorer: _Scorer,
             nw: list[dict[int, float]]) -> list[int]:
    """2-opt over arrays: replace (i, b) + (c, d) by (i, c) + (b, d) for a graph edge (i, c) whenever it raises
    the total. Every improving swap is found at once; of those touching the same pair only the best is made
    (each pair's best swap is made when it is also the best of the other pair it touches), and the next step
    looks only at edges whose ends were in an improving swap, until none is left. The new pairs join `nw`."""
    n = len(mate)
    ends = np.concatenate([first, second])
    others = np.concatenate([second, first])
    values = np.concatenate([weight, weight])
    everyone = np.arange(n)
    matched = mate >= 0
    mw = np.zeros(n, dtype=np.float64)
    mw[matched] = scorer.many(everyone[matched], mate[matched])
    active = np.ones(n, dtype=bool)
    for _ in range(LOCAL_SEARCH_STEPS):
        look = active[ends] | active[others]
        i, c, wic = ends[look], others[look], values[look]
        b, d = mate[i], mate[c]
        ok = (b >= 0) & (d >= 0) & (c != b)
        i, c, wic, b, d = i[ok], c[ok], wic[ok], b[ok], d[ok]
        wbd = scorer.many(b, d)
        gain = wic + wbd - mw[i] - mw[c]
        good = gain > 1e-9  # False where (b, d) is blocked (NaN)
        if not good.any():
            break
        i, c, wic, b, d, wbd, gain = i[good], c[good], wic[good], b[good], d[good], wbd[good], gain[good]
        swap = np.arange(len(i))
        touched = np.concatenate([np.minimum(i, b), np.minimum(c, d)])  # the two pairs, by their lower member
        ranked = np.lexsort((np.concatenate([swap, swap]), -np.concatenate([gain, gain]), touched))
        firsts = ranked[np.r_[True, touched[ranked][1:] != touched[ranked][:-1]]]
        best = np.full(n, -1, dtype=np.int64)
        best[touched[firsts]] = np.concatenate([swap, swap])[firsts]
        won = (best[np.minimum(i, b)] == swap) & (best[np.minimum(c, d)] == swap)
        active[:] = False
        active[np.concatenate([i, c, b, d])] = True
        i, c, b, d, wic, wbd = i[won], c[won], b[won], d[won], wic[won], wbd[won]
        mate[i], mate[c], mate[b], mate[d] = c, i, d, b
        mw[i], mw[c], mw[b], mw[d] = wic, wic, wbd, wbd
    out = mate.tolist()
    for x, y, v in zip(everyone[matched].tolist(), mate[matched].tolist(), mw[matched].tolist(), strict=True):
        nw[x][y] = v
    return out


def _reoptimise_blocks(mate: list[int], nw: list[dict[int, float]], rng: random.Random) -> None:
    """Large-neighbourhood search: re-solve blocks of neighbouring matched pairs exactly (networkx). A block's
    current pairs are a perfect matching of it, so the exact solution can only raise the total."""
    import networkx as nx

    n = len(mate)
    for _ in range(LNS_ROUNDS):
        starts = [i for i in range(n) if mate[i] > i]
        rng.shuffle(starts)
        done: set[int] = set()
        for start in starts:
            if start in done:
                continue
            block: list[int] = []
            frontier = deque([start])
            while frontier and len(block) < LNS_BLOCK:
                x = frontier.popleft()
                if x in done or mate[x] < 0:
                    continue
                for y in (x, mate[x]):
                    done.add(y)
                    block.append(y)
                    frontier.extend(z for z in nw[y] if z not in done)
            members = set(block)
            graph = nx.Graph()
            graph.add_weighted_edges_from(
                (x, y, v) for x in sorted(members) for y, v in nw[x].items() if x < y and y in members
            )
            solved = nx.max_weight_matching(graph, maxcardinality=True)
            if 2 * len(solved) != len(block):
                continue
            old = sum(nw[x][mate[x]] for x in block) / 2
            new = sum(graph[x][y]["weight"] for x, y in solved)
            if new > old + 1e-9:
                for x, y in solved:
                    mate[x], mate[y] = y, x


# ---------------------------------------------------------------------------------------------------- rounds


def _group_of(members: Sequence[int], candidates: Sequence[Candidate], facts: PairFacts) -> Group:
    ids = tuple(candidates[m].user_id for m in members)
    total = 0.0
    reasons: list[str] = []
    fallback = False
    for x in range(len(members)):
        for y in range(x + 1, len(members)):
            s = score_pair(candidates[members[x]], candidates[members[y]], facts)
            total += s.total
            fallback = fallback or s.blocked == "recent"
            pair_reasons = tuple(r for r in s.reasons if r != "met in a recent round")
            if len(members) == 2:
                reasons.extend(pair_reasons)
            else:
                reasons.extend(f"<@{ids[x]}> & <@{ids[y]}>: {r}" for r in pair_reasons)
    if fallback:
        reasons.append(RECENT_FALLBACK_REASON)
    return Group(ids, total, tuple(reasons))


def describe_group(members: Sequence[Candidate], facts: PairFacts) -> Group:
    """A group's score and reasons as a round gives them (score_pair over every two of its members)."""
    return _group_of(range(len(members)), members, facts)


def _place_leftovers(
    leftovers: list[int],
    groups: list[list[int]],
    scorer: _Scorer,
    max_size: int,
    allow_new_pairs: bool,
    groups_wanted: int | None = None,
) -> list[int]:
    """Put leftovers into groups (or new pairs) where they add most: first without any blocked pair, then
    accepting recently met pairs, those that met longest ago first. Avoid pairs are never accepted. Returns who
    could not be placed."""

    def add_score(x: int, g: list[int], allow_recent: bool) -> float | None:
        weight = scorer.fallback if allow_recent else scorer.w
        total = 0.0
        for m in g:
            v = weight(x, m)
            if v is None:
                return None
            total += v
        return total

    def best_place(x: int, places: Sequence[list[int]], allow_recent: bool) -> int | None:
        """The first of the places (groups, or lone members) with room where x adds most; None if none takes x."""
        best: tuple[float, int] | None = None
        for k, g in enumerate(places):
            if len(g) >= max_size:
                continue
            v = add_score(x, g, allow_recent)
            if v is not None and (best is None or v > best[0]):
                best = (v, k)
        return None if best is None else best[1]

    remaining = list(leftovers)
    for allow_recent in (False, True):
        still: list[int] = []
        if allow_new_pairs and allow_recent and 1 < len(remaining) <= EXACT_LIMIT:
            # Everyone left has met all their allowed partners lately (a small channel): pair them optimally
            # by how long ago they met, so the rounds rotate instead of settling on the same pairs.
            wanted = len(remaining) if groups_wanted is None else max(groups_wanted - len(groups), 0)
            remaining = _fallback_pairs(remaining, groups, scorer, wanted)
        elif allow_new_pairs:
            # Leftovers pair among themselves first (keeps groups small).
            free = list(remaining)
            remaining = []
            while free:
                x = free.pop(0)
                if (pos := best_place(x, [[y] for y in free], allow_recent)) is None:
                    remaining.append(x)
                else:
                    groups.append([x, free.pop(pos)])
        for x in remaining:
            if (gi := best_place(x, groups, allow_recent)) is None:
                still.append(x)
            else:
                groups[gi].append(x)
        remaining = still
    return remaining


def _rescue_unplaced(unplaced: list[int], groups: list[list[int]], scorer: _Scorer, max_size: int) -> list[int]:
    """Place whoever `_place_leftovers` could not, by moving one grouped member: the matching chose who is left
    over without looking at their avoid list, so a leftover whom every group refuses may still fit where a
    grouped member is, that member then going elsewhere (another group with room, a pair with another leftover)
    or pairing with the leftover out of a group of three. Avoid pairs are never formed; recent pairs only as in
    `_place_leftovers`' last resort (fallback weights). Returns who is still left out."""

    fits = partial(_fallback_total, scorer)
    still = list(unplaced)
    for x in list(still):
        if x not in still:  # placed meanwhile, with an earlier leftover
            continue
        # (gain, group index, that group's new members, extra changes: (group index or -1 for new, members))
        best: tuple[float, int, list[int], int, list[int]] | None = None
        for gi, g in enumerate(groups):
            before = fits(g) or 0.0
            for y in g:
                rest = [m for m in g if m != y]
                if len(g) == 3 and (paired := fits([x, y])) is not None and (kept := fits(rest)) is not None:
                    gain = kept + paired - before  # y leaves the three to pair with x
                    if best is None or gain > best[0]:
                        best = (gain, gi, rest, -1, [x, y])
                taken = fits([*rest, x])
                if taken is None:
                    continue
                for hi, h in enumerate(groups):  # x takes y's place, y joins a group with room
                    if hi == gi or len(h) >= max_size or (joined := fits([*h, y])) is None:
                        continue
                    gain = taken + joined - before - (fits(h) or 0.0)
                    if best is None or gain > best[0]:
                        best = (gain, gi, [*rest, x], hi, [*h, y])
                for z in still:  # x takes y's place, y pairs with another leftover
                    if z != x and (paired := fits([y, z])) is not None:
                        gain = taken + paired - before
                        if best is None or gain > best[0]:
                            best = (gain, gi, [*rest, x], -1, [y, z])
        if best is None:
            continue
        _, gi, changed, hi, other = best
        groups[gi] = changed
        if hi < 0:
            groups.append(other)
        else:
            groups[hi] = other
        still = [m for m in still if m not in changed and m not in other]
    return still


def _partitions(people: list[int]) -> Iterable[list[list[int]]]:
    """Every way to split `people` into groups of two and three."""
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    for size in (2, 3):
        for x in range(len(rest)):
            for y in ([None] if size == 2 else range(x + 1, len(rest))):
                group = [first, rest[x]] if y is None else [first, rest[x], rest[y]]
                left = [m for m in rest if m not in group]
                for others in _partitions(left):
                    yield [group, *others]


def _place_everyone_exactly(n: int, scorer: _Scorer, trios_wanted: int) -> list[list[int]] | None:
    """For a small round where moving one member placed nobody left out: the split of everyone into groups of
    two and three with no avoid pair, nearest the round's shape (`trios_wanted` groups of three), then best by
    fallback weight (recent pairs only where needed). None when avoid lists allow no such split."""
    def weight(split: list[list[int]]) -> float | None:
        totals = [_fallback_total(scorer, g) for g in split]
        return None if None in totals else sum(t for t in totals if t is not None)

    best: tuple[tuple[int, float], list[list[int]]] | None = None
    for split in _partitions(list(range(n))):
        if (total := weight(split)) is not None:
            key = (-abs(sum(len(g) == 3 for g in split) - trios_wanted), total)
            if best is None or key > best[0]:
                best = (key, split)
    return None if best is None else best[1]


def _fallback_pairs(people: list[int], groups: list[list[int]], scorer: _Scorer, limit: int) -> list[int]:
    """Pair `people` by a maximum-weight matching on `_Scorer.fallback`; append the best `limit` pairs to
    `groups` (the rest become thirds, as in `plan_round`) and return who is left."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(people)
    for x, a in enumerate(people):
        for b in people[x + 1:]:
            v = scorer.fallback(a, b)
            if v is not None:
                graph.add_edge(a, b, weight=v)
    matched = sorted((min(e), max(e)) for e in nx.max_weight_matching(graph, maxcardinality=True))
    matched.sort(key=lambda e: -graph[e[0]][e[1]]["weight"])
    paired: set[int] = set()
    for a, b in matched[:limit]:
        groups.append([a, b])
        paired.update((a, b))
    return [x for x in people if x not in paired]


def _fallback_total(scorer: _Scorer, g: Sequence[int]) -> float | None:
    """A group's fallback weight: the sum over its pairs, None when one of them may not meet."""
    total = 0.0
    for x in range(len(g)):
        for y in range(x + 1, len(g)):
            v = scorer.fallback(g[x], g[y])
            if v is None:
                return None
            total += v
    return total


def _repair_repeats(groups: list[list[int]], scorer: _Scorer, previous: Collection[PairKey]) -> None:
    """Improve groups that hold a recent pair or are exactly a group of the previous round, by swapping one
    of their members with a member of another group while the fallback weight rises. A previous group is
    worth nothing, so any swap that breaks it up without an avoid pair is taken: it stays only when no such
    swap exists (a channel of two or three, or avoid lists leave no other way). Placing leftovers one by one
    cannot see these swaps."""
    if len(groups) < 2:
        return
    ids = scorer.ids
    none = float("-inf")

    def value(g: list[int]) -> float:
        total = None if frozenset(ids[m] for m in g) in previous else _fallback_total(scorer, g)
        return none if total is None else total

    def needs_repair(g: list[int]) -> bool:
        return frozenset(ids[m] for m in g) in previous or any(
            scorer.w(g[x], g[y]) is None for x in range(len(g)) for y in range(x + 1, len(g)))

    for _ in range(REPAIR_PASSES):
        improved = False
        for gi in range(len(groups)):
            g = groups[gi]
            if not needs_repair(g):
                continue
            vg = value(g)
            best: tuple[float, int, list[int], list[int]] | None = None
            for hi, h in enumerate(groups):
                if hi == gi:
                    continue
                current = vg + value(h)
                for x in g:
                    for y in h:
                        ng = [y if m == x else m for m in g]
                        nh = [x if m == y else m for m in h]
                        new = value(ng) + value(nh)
                        if new > none and new > current + 1e-9 and (best is None or new - current > best[0]):
                            best = (new - current, hi, ng, nh)
            if best is not None:
                _, hi, groups[gi], groups[hi] = best
                improved = True
        if not improved:
            break


def _unpaired_note(x: int, n: int, scorer: _Scorer) -> str:
    who = scorer.ids[x]
    if n == 1:
        return f"{who}: the only member opted in this round"
    return f"{who}: everyone else is on their avoid list or already in a full group"


def _assign_thirds(
    singles: list[int],
    cores: list[list[int]],
    scorer: _Scorer,
    rng: random.Random,
    nbrs: list[dict[int, float]] | None,
) -> list[int]:
    """Attach each single to a different core pair, maximising the score each adds: exactly (bipartite
    matching) on small instances, else greedily over the cores of each single's graph neighbours plus a
    random sample of cores. Returns the singles that could not be placed."""
    w = scorer.w

    def gain(s: int, core: list[int]) -> float | None:
        a, b = w(s, core[0]), w(s, core[1])
        return None if a is None or b is None else a + b

    if not singles or not cores:
        return singles
    if nbrs is None or len(singles) * len(cores) <= EXACT_THIRDS_LIMIT:
        import networkx as nx

        graph = nx.Graph()
        for s in singles:
            for ci, core in enumerate(cores):
                g = gain(s, core)
                if g is not None:
                    graph.add_edge(("s", s), ("c", ci), weight=g)
        taken = set()
        for u, v in sorted(nx.max_weight_matching(graph, maxcardinality=True)):
            (_, s), (_, ci) = (u, v) if u[0] == "s" else (v, u)
            cores[ci].append(s)
            taken.add(s)
        return [s for s in singles if s not in taken]

    core_of: dict[int, int] = {m: ci for ci, core in enumerate(cores) for m in core}
    options: list[tuple[float, int, int]] = []
    for s in singles:
        probe = {core_of[j] for j in nbrs[s] if j in core_of}
        probe.update(rng.randrange(len(cores)) for _ in range(KEPT_PARTNERS))
        for ci in probe:
            g = gain(s, cores[ci])
            if g is not None:
                options.append((-g, s, ci))
    options.sort()
    placed: set[int] = set()
    full: set[int] = set()
    for _, s, ci in options:
        if s not in placed and ci not in full:
            cores[ci].append(s)
            placed.add(s)
            full.add(ci)
    open_cores = [ci for ci in range(len(cores)) if ci not in full]
    still = []
    for s in singles:
        if s in placed:
            continue
        best: tuple[float, int] | None = None
        for ci in open_cores:
            if ci in full:
                continue
            g = gain(s, cores[ci])
            if g is not None and (best is None or g > best[0]):
                best = (g, ci)
        if best is None:
            still.append(s)
        else:
            cores[best[1]].append(s)
            full.add(best[1])
    return still


def plan_round(
    candidates: Iterable[Candidate],
    facts: PairFacts,
    group_size: int = 2,
    *,
    seed: int = 0,
    exact_limit: int = EXACT_LIMIT,
) -> Round:
    """Group `candidates` so that the round's total score is as high as possible.

    group_size=2: pairs, plus one group of three when the count is odd (the leftover joins the pair where it
    adds most). group_size=3: groups of three, with pairs only where the count requires. Nobody is left out
    unless avoid pairs make it impossible; recently met pairs are only used as a last resort. Deterministic
    for a given `seed` and input order.
    """
    if group_size not in (2, 3):
        raise ValueError("group_size must be 2 or 3")
    seen: set[str] = set()
    cands: list[Candidate] = []
    for c in candidates:
        if c.user_id not in seen:
            seen.add(c.user_id)
            cands.append(c)
    n = len(cands)
    if n == 0:
        return Round((), (), 0.0)
    scorer = _Scorer(cands, facts)
    rng = random.Random(seed)
    if n == 1:
        return Round((), (cands[0].user_id,), 0.0, (_unpaired_note(0, 1, scorer),))

    nbrs: list[dict[int, float]] | None = None
    if n <= exact_limit:
        matching = _exact_matching(n, scorer)
    else:
        matching, nbrs = _heuristic_matching(n, scorer, rng)
    groups: list[list[int]] = [[a, b] for a, b in matching]
    matched = {m for g in groups for m in g}
    leftovers = [i for i in range(n) if i not in matched]

    if group_size == 3:
        trios = n // 3 if n % 3 != 1 else (n - 4) // 3
        pairs_needed = (n - 3 * trios) // 2
        cores_wanted = trios + pairs_needed
        if len(groups) > cores_wanted:
            groups.sort(key=lambda g: -(scorer.w(g[0], g[1]) or 0.0))
            for g in groups[cores_wanted:]:
                leftovers.extend(g)
            groups = groups[:cores_wanted]
        leftovers = _assign_thirds(leftovers, groups, scorer, rng, nbrs)
        unplaced = _place_leftovers(leftovers, groups, scorer, 3, allow_new_pairs=True, groups_wanted=cores_wanted)
    else:
        trios = n % 2  # pairs, and one group of three for an odd count
        unplaced = _place_leftovers(leftovers, groups, scorer, 3, allow_new_pairs=True)
    if n <= RESCUE_LIMIT:
        unplaced = _rescue_unplaced(unplaced, groups, scorer, 3)
    if unplaced and n <= EXACT_PLACING_LIMIT and (split := _place_everyone_exactly(n, scorer, trios)):
        groups, unplaced = split, []
    if unplaced:
        unplaced = _place_leftovers(unplaced, groups, scorer, 4, allow_new_pairs=False)

    _repair_repeats(groups, scorer, facts.previous)
    built = [_group_of(g, cands, facts) for g in groups]
    built.sort(key=lambda g: (-g.score, g.members))
    return Round(
        groups=tuple(built),
        unpaired=tuple(cands[x].user_id for x in unplaced),
        total=sum(g.score for g in built),
        notes=tuple(_unpaired_note(x, n, scorer) for x in unplaced),
    )


# ----------------------------------------------------------------------------------------------- scheduling


def _work_intervals_utc(c: Candidate, on_date: date) -> list[tuple[datetime, datetime]]:
    try:
        zone = ZoneInfo(c.tz) if c.tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    out = []
    for delta in (-1, 0, 1):
        local_day = on_date + timedelta(days=delta)
        if local_day.weekday() >= 5:
            continue
        start = datetime.combine(local_day, time(c.work_start % 24), zone)
        end_day = local_day if c.work_end % 24 > c.work_start % 24 else local_day + timedelta(days=1)
        end = datetime.combine(end_day, time(c.work_end % 24), zone)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        out.append((start, end))
    return out


def suggest_meeting_time(candidates_in_group: Sequence[Candidate], on_date: date) -> datetime | None:
    """A UTC time on `on_date` (UTC day) inside every member's working hours (local weekdays only), or None.

    Picks the longest common window and returns its start rounded up to the quarter hour, keeping 30 minutes
    before the window closes when the window allows it.
    """
    if not candidates_in_group:
        return None
    day_start = datetime.combine(on_date, time(0), UTC)
    common = [(day_start, day_start + timedelta(days=1))]
    for c in candidates_in_group:
        nxt = []
        for s1, e1 in common:
            for s2, e2 in _work_intervals_utc(c, on_date):
                lo, hi = max(s1, s2), min(e1, e2)
                if hi > lo:
                    nxt.append((lo, hi))
        common = nxt
        if not common:
            return None
    start, end = max(common, key=lambda iv: (iv[1] - iv[0], -iv[0].timestamp()))
    minutes = (start.minute + 14) // 15 * 15
    rounded = start.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)
    if rounded + timedelta(minutes=30) <= end:
        return rounded
    return rounded if rounded < end else start
