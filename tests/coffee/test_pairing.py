"""Virtual coffee pairing (bot/coffee/pairing.py)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from itertools import combinations

import networkx as nx
import pytest

from bot.coffee.pairing import (
    RECENT_FALLBACK_REASON,
    Candidate,
    PairFacts,
    Round,
    SharedInterest,
    plan_round,
    score_pair,
    suggest_meeting_time,
)
from bot.domain.coffee import pair

ZONES = ["America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", None]


def random_instance(n: int, seed: int, recent_share: float = 0.05) -> tuple[list[Candidate], PairFacts]:
    rng = random.Random(seed)
    cands = [
        Candidate(
            f"u{i}",
            rng.choice(ZONES),
            rng.choice([7, 8, 9, 10]),
            rng.choice([15, 16, 17, 18]),
            frozenset({f"t{rng.randrange(max(2, n // 6))}"}),
        )
        for i in range(n)
    ]
    ids = [c.user_id for c in cands]
    stages, interests, recent, avoid = {}, {}, set(), set()
    for a, b in combinations(ids, 2):
        r = rng.random()
        if r < 0.15:
            stages[pair(a, b)] = rng.randint(1, 4)
        if rng.random() < 0.1:
            interests[pair(a, b)] = SharedInterest(rng.random(), ("hiking",))
        if rng.random() < recent_share:
            recent.add(pair(a, b))
        elif rng.random() < 0.01:
            avoid.add(pair(a, b))
    return cands, PairFacts(stages, interests, frozenset(recent), frozenset(avoid), cross_teams=seed % 2 == 0)


def groups_pairs(rnd: Round) -> set[frozenset[str]]:
    return {pair(a, b) for g in rnd.groups for a, b in combinations(g.members, 2)}


def placed(rnd: Round) -> list[str]:
    return [m for g in rnd.groups for m in g.members]


def optimum(cands: list[Candidate], facts: PairFacts) -> float:
    graph = nx.Graph()
    for a, b in combinations(cands, 2):
        s = score_pair(a, b, facts)
        if s.blocked is None:
            graph.add_edge(a.user_id, b.user_id, weight=s.total)
    return sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph, maxcardinality=True))


# ---------------------------------------------------------------------------------------------- score_pair


def test_score_pair_reasons_and_overlap() -> None:
    berlin = Candidate("a", "Europe/Berlin", teams=frozenset({"x"}))
    new_york = Candidate("b", "America/New_York", teams=frozenset({"y"}))
    facts = PairFacts(
        interests={pair("a", "b"): SharedInterest(0.5, ("hiking",))},
        cross_teams=True,
        reference_date=date(2025, 1, 15),
    )
    s = score_pair(berlin, new_york, facts)
    # Berlin 9-17 is 08-16 UTC, New York 9-17 is 14-22 UTC in January: 2 h shared.
    assert s.reasons == ("strangers so far", "2 h of shared working hours", "both into hiking", "from different teams")
    assert s.total == pytest.approx(4.0 + 0.5 * 2 + 3.0 * 0.5 + 1.0)
    assert s.blocked is None


def test_score_pair_lower_stage_and_more_overlap_score_higher() -> None:
    a, b, c = Candidate("a", "Europe/London"), Candidate("b", "Europe/London"), Candidate("c", "Asia/Tokyo")
    peers = PairFacts(stages={pair("a", "b"): 3})
    assert score_pair(a, b, PairFacts()).total > score_pair(a, b, peers).total
    assert score_pair(a, b, PairFacts()).total > score_pair(a, c, PairFacts()).total
    assert "no shared working hours" in score_pair(a, c, PairFacts()).reasons
    assert score_pair(a, b, peers).reasons[0] == "already peers"


def test_score_pair_accepts_functions_and_flags_blocked_pairs() -> None:
    a, b = Candidate("a", "UTC"), Candidate("b", None)
    facts = PairFacts(stages=lambda x, y: 2, interests=lambda x, y: 0.25, avoid=frozenset({pair("a", "b")}))
    s = score_pair(a, b, facts)
    assert s.blocked == "avoid"
    assert s.total == pytest.approx(2.0 + 0.5 * 8 + 0.75)
    assert any("time zone unknown" in r for r in s.reasons)


# ---------------------------------------------------------------------------------------------- plan_round


@pytest.mark.parametrize(("n", "exact_limit"), [(40, 200), (40, 0), (600, 200)])
def test_never_repeats_recent_pair_nor_groups_avoid_pair(n: int, exact_limit: int) -> None:
    cands, facts = random_instance(n, seed=3, recent_share=0.2)
    rnd = plan_round(cands, facts, exact_limit=exact_limit)
    grouped = groups_pairs(rnd)
    assert not grouped & set(facts.recent)
    assert not grouped & set(facts.avoid)
    assert sorted(placed(rnd)) == sorted(c.user_id for c in cands)
    assert rnd.total == pytest.approx(sum(g.score for g in rnd.groups))


def test_avoid_pair_never_grouped_even_if_someone_is_left_out() -> None:
    cands = [Candidate(u, "UTC") for u in "abc"]
    facts = PairFacts(avoid=frozenset({pair("a", "b"), pair("a", "c")}))
    rnd = plan_round(cands, facts)
    assert [g.members for g in rnd.groups] == [("b", "c")]
    assert rnd.unpaired == ("a",)
    assert rnd.notes and rnd.notes[0].startswith("a:")


def test_recent_pair_only_as_last_resort_with_reason() -> None:
    cands = [Candidate("a", "UTC"), Candidate("b", "UTC")]
    rnd = plan_round(cands, PairFacts(recent=frozenset({pair("a", "b")})))
    assert [g.members for g in rnd.groups] == [("a", "b")]
    assert RECENT_FALLBACK_REASON in rnd.groups[0].reasons
    assert rnd.unpaired == ()


@pytest.mark.parametrize(("n", "exact_limit"), [(7, 200), (41, 0), (501, 200)])
def test_odd_count_gives_one_group_of_three(n: int, exact_limit: int) -> None:
    cands, facts = random_instance(n, seed=5)
    rnd = plan_round(cands, facts, exact_limit=exact_limit)
    sizes = sorted(len(g.members) for g in rnd.groups)
    assert sizes.count(3) == 1 and sizes.count(2) == (n - 3) // 2
    assert rnd.unpaired == ()
    assert sorted(placed(rnd)) == sorted(c.user_id for c in cands)


def test_prefers_strangers_over_peers() -> None:
    cands = [Candidate(u, "Europe/Paris") for u in "abcd"]
    facts = PairFacts(stages={pair("a", "b"): 3, pair("c", "d"): 4})
    rnd = plan_round(cands, facts)
    assert not groups_pairs(rnd) & {pair("a", "b"), pair("c", "d")}
    assert all(g.reasons[0] == "strangers so far" for g in rnd.groups)


def test_prefers_overlapping_working_hours() -> None:
    cands = [
        Candidate("tokyo1", "Asia/Tokyo"),
        Candidate("ny1", "America/New_York"),
        Candidate("tokyo2", "Asia/Tokyo"),
        Candidate("ny2", "America/New_York"),
    ]
    rnd = plan_round(cands, PairFacts())
    assert groups_pairs(rnd) == {pair("tokyo1", "tokyo2"), pair("ny1", "ny2")}
    assert all("8 h of shared working hours" in g.reasons for g in rnd.groups)


def test_cross_team_preference() -> None:
    cands = [
        Candidate("a1", "UTC", teams=frozenset({"a"})),
        Candidate("a2", "UTC", teams=frozenset({"a"})),
        Candidate("b1", "UTC", teams=frozenset({"b"})),
        Candidate("b2", "UTC", teams=frozenset({"b"})),
    ]
    rnd = plan_round(cands, PairFacts(cross_teams=True))
    assert not groups_pairs(rnd) & {pair("a1", "a2"), pair("b1", "b2")}
    assert all("from different teams" in g.reasons for g in rnd.groups)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exact_limit", [200, 0])
def test_within_two_percent_of_networkx_optimum(seed: int, exact_limit: int) -> None:
    cands, facts = random_instance(60, seed)
    rnd = plan_round(cands, facts, seed=seed, exact_limit=exact_limit)
    assert all(len(g.members) == 2 for g in rnd.groups)
    assert rnd.total >= 0.98 * optimum(cands, facts)


def test_sparse_heuristic_within_two_percent_of_optimum() -> None:
    # 250 members: the exact optimum (networkx) takes 25 s at 400 and 6 s here; benchmarks/pairing.py goes larger.
    cands, facts = random_instance(250, seed=11)
    rnd = plan_round(cands, facts, exact_limit=0)  # above DENSE_LIMIT: sampled candidate graph
    assert rnd.total >= 0.98 * optimum(cands, facts)


@pytest.mark.parametrize(("n", "trios", "pairs"), [(9, 3, 0), (10, 2, 2), (11, 3, 1), (4, 0, 2), (60, 20, 0)])
@pytest.mark.parametrize("exact_limit", [200, 0])
def test_group_size_three(n: int, trios: int, pairs: int, exact_limit: int) -> None:
    cands, facts = random_instance(n, seed=n)
    rnd = plan_round(cands, facts, group_size=3, exact_limit=exact_limit)
    sizes = [len(g.members) for g in rnd.groups]
    assert (sizes.count(3), sizes.count(2)) == (trios, pairs)
    assert sorted(placed(rnd)) == sorted(c.user_id for c in cands)
    assert not groups_pairs(rnd) & (set(facts.recent) | set(facts.avoid))


def test_group_size_three_large() -> None:
    cands, facts = random_instance(700, seed=2, recent_share=0.01)
    rnd = plan_round(cands, facts, group_size=3)
    sizes = [len(g.members) for g in rnd.groups]
    assert sizes.count(3) == 232 and sizes.count(2) == 2
    assert sorted(placed(rnd)) == sorted(c.user_id for c in cands)
    assert not groups_pairs(rnd) & (set(facts.recent) | set(facts.avoid))


def test_nobody_opted_in_gives_empty_round() -> None:
    assert plan_round([], PairFacts()) == Round((), (), 0.0)


def test_single_member_is_unpaired_with_reason() -> None:
    rnd = plan_round([Candidate("solo", "UTC")], PairFacts())
    assert rnd.groups == () and rnd.unpaired == ("solo",)
    assert "only member" in rnd.notes[0]


def test_duplicates_are_ignored_and_group_size_is_checked() -> None:
    c = Candidate("a", "UTC")
    assert plan_round([c, c, Candidate("b", "UTC")], PairFacts()).groups[0].members == ("a", "b")
    with pytest.raises(ValueError):
        plan_round([c], PairFacts(), group_size=4)


@pytest.mark.parametrize("n", [30, 600])
def test_deterministic_given_seed(n: int) -> None:
    cands, facts = random_instance(n, seed=9)
    assert plan_round(cands, facts, seed=1) == plan_round(cands, facts, seed=1)
    assert plan_round(cands, facts, group_size=3, seed=1) == plan_round(cands, facts, group_size=3, seed=1)


# ------------------------------------------------------------------------------------- suggest_meeting_time


def test_meeting_time_inside_everyones_hours() -> None:
    group = [Candidate("a", "Europe/Berlin"), Candidate("b", "America/New_York")]
    assert suggest_meeting_time(group, date(2025, 1, 15)) == datetime(2025, 1, 15, 14, 0, tzinfo=UTC)


def test_meeting_time_across_the_date_line() -> None:
    # Thursday 09:00 in Tokyo is Wednesday 16:00 in Los Angeles: 00:00-01:00 UTC on Thursday.
    group = [Candidate("a", "Asia/Tokyo"), Candidate("b", "America/Los_Angeles")]
    assert suggest_meeting_time(group, date(2025, 1, 16)) == datetime(2025, 1, 16, 0, 0, tzinfo=UTC)


def test_meeting_time_none_without_overlap_or_on_weekend() -> None:
    assert (
        suggest_meeting_time([Candidate("a", "Australia/Sydney"), Candidate("b", "Europe/London")], date(2025, 1, 15))
        is None
    )
    assert suggest_meeting_time([Candidate("a", "UTC"), Candidate("b", "UTC")], date(2025, 1, 18)) is None
    assert suggest_meeting_time([], date(2025, 1, 15)) is None


def test_when_every_pair_met_recently_the_longest_ago_meet_and_no_group_repeats() -> None:
    """Five people, every pair met within no-repeat: the planner used to give up on grading and return the
    previous round again."""
    people = ["a", "b", "c", "d", "e"]
    cands = [Candidate(u, "Europe/Berlin") for u in people]
    previous = {frozenset("ab"), frozenset("cde")}
    meetings: dict = {pair(x, y): (1,) for g in previous for x, y in combinations(sorted(g), 2)}
    for x, y in combinations(people, 2):
        meetings.setdefault(pair(x, y), (2,))
    facts = PairFacts(recent=frozenset(meetings), meetings=meetings, previous=frozenset(previous))
    for size in (2, 3):
        planned = plan_round(cands, facts, size)
        groups = {frozenset(g.members) for g in planned.groups}
        assert not groups & previous and sum(map(len, groups)) == 5, groups
        met_last = [p for g in groups for p in combinations(sorted(g), 2) if meetings[pair(*p)] == (1,)]
        # {a, b} x {c, d, e} holds no triangle, so one pair from the last round is the fewest possible.
        assert len(met_last) <= 1, groups


def test_pairs_that_met_longer_ago_score_higher_beyond_no_repeat() -> None:
    cands = [Candidate(u, "Europe/Berlin") for u in "abcd"]
    by_id = {c.user_id: c for c in cands}
    meetings = {pair("a", "b"): (5,), pair("c", "d"): (6, 12), pair("a", "c"): (20,)}
    facts = PairFacts(meetings=meetings)
    scores = {k: score_pair(by_id[min(k)], by_id[max(k)], facts) for k in [*meetings, pair("b", "d")]}
    assert scores[pair("b", "d")].total > scores[pair("a", "c")].total > scores[pair("a", "b")].total
    assert "met 5 rounds ago" in scores[pair("a", "b")].reasons and scores[pair("a", "b")].blocked is None
    planned = plan_round(cands, facts)
    assert {frozenset(g.members) for g in planned.groups} == {frozenset("ad"), frozenset("bc")}


@pytest.mark.parametrize("size", [2, 3])
def test_a_leftover_every_group_refuses_takes_a_grouped_members_place(size: int) -> None:
    # Found by random search: the matching leaves d over, every group holds someone d avoids, yet {a, c} and
    # {b, d} places everyone (a & c met recently, which is allowed rather than leaving d out).
    cands = [Candidate("a", "Asia/Kolkata"), Candidate("b", "Asia/Tokyo"), Candidate("c", "Asia/Tokyo"),
             Candidate("d", "Europe/Lisbon")]
    recent = frozenset({pair("a", "c"), pair("b", "c")})
    facts = PairFacts(recent=recent, avoid=frozenset({pair("a", "d"), pair("c", "d")}),
                      meetings={k: (1,) for k in recent})
    rnd = plan_round(cands, facts, size)
    assert rnd.unpaired == ()
    assert sorted(placed(rnd)) == ["a", "b", "c", "d"]
    assert not groups_pairs(rnd) & set(facts.avoid)


def test_a_small_round_places_everyone_when_two_moves_are_needed() -> None:
    # Found by random search: no single move places e, but {a, e, b} and {c, d} (or the like) place everyone.
    cands = [Candidate("a", "Asia/Tokyo"), Candidate("b", "Europe/Lisbon"), Candidate("c", "America/New_York"),
             Candidate("d", "Asia/Tokyo"), Candidate("e", "America/Los_Angeles")]
    avoid = frozenset({pair("a", "c"), pair("b", "d"), pair("c", "e"), pair("d", "e")})
    rnd = plan_round(cands, PairFacts(avoid=avoid), 2)
    assert rnd.unpaired == () and sorted(placed(rnd)) == list("abcde")
    assert not groups_pairs(rnd) & avoid
    assert sorted(len(g.members) for g in rnd.groups) == [2, 3]
