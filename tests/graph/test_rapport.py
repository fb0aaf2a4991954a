"""Each rung of the ladder and the cooling flag, from the counts alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.graph.rapport import (
    ADVISOR_MIN_ANSWERS,
    COOLING_MIN_SILENCE,
    PairStats,
    Stage,
    assess,
    is_cooling,
    stage_of,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def stats(**kw) -> PairStats:
    return PairStats("T", "ana", "bob", **kw)


@pytest.mark.parametrize(("counts", "stage", "advisor"), [
    ({}, Stage.STRANGERS, None),
    ({"contact_days": 1}, Stage.TALKING, None),
    ({"asked_ab": 3, "unanswered_ab": 3, "contact_days": 2}, Stage.TALKING, None),
    ({"asked_ab": 1, "answered_ab": 1, "contact_days": 1}, Stage.ACQUAINTANCE, None),
    ({"asked_ba": 2, "answered_ba": 1, "contact_days": 1}, Stage.ACQUAINTANCE, None),
    ({"asked_ab": 1, "answered_ab": 1, "asked_ba": 1, "answered_ba": 1}, Stage.PEERS, None),
    ({"asked_ab": 1, "answered_ab": 1, "asked_ba": 3, "answered_ba": 0}, Stage.ACQUAINTANCE, None),
    ({"asked_ab": 6, "answered_ab": ADVISOR_MIN_ANSWERS}, Stage.TRUSTED_ADVISOR, "bob"),
    ({"asked_ba": 9, "answered_ba": 9, "asked_ab": 3, "answered_ab": 3}, Stage.TRUSTED_ADVISOR, "ana"),
    ({"asked_ba": 8, "answered_ba": 8, "asked_ab": 3, "answered_ab": 3}, Stage.PEERS, None),
    ({"asked_ab": 4, "answered_ab": ADVISOR_MIN_ANSWERS - 1}, Stage.ACQUAINTANCE, None),
])
def test_ladder(counts, stage, advisor) -> None:
    assert stage_of(stats(**counts)) == (stage, advisor)


def test_transitions_in_order() -> None:
    """A pair climbs: talking -> acquaintance -> peers, and asymmetric help makes an advisor."""
    s = stats(contact_days=1)
    seen = [stage_of(s)[0]]
    s = stats(contact_days=2, asked_ab=1, answered_ab=1)
    seen.append(stage_of(s)[0])
    s = stats(contact_days=3, asked_ab=1, answered_ab=1, asked_ba=1, answered_ba=1)
    seen.append(stage_of(s)[0])
    s = stats(contact_days=9, asked_ab=1, answered_ab=1, asked_ba=6, answered_ba=6)
    seen.append(stage_of(s)[0])
    assert seen == [Stage.TALKING, Stage.ACQUAINTANCE, Stage.PEERS, Stage.TRUSTED_ADVISOR]


def test_cooling_follows_the_pairs_own_rhythm() -> None:
    weekly = stats(contact_days=10, first_contact=NOW - timedelta(weeks=12), last_contact=NOW - timedelta(weeks=3),
                   asked_ab=1, answered_ab=1)
    # Usual gap is 1 week; 3 weeks of silence is not yet 3x the rhythm plus... exactly 3x: not beyond it.
    assert not is_cooling(weekly, NOW)
    assert is_cooling(weekly, NOW + timedelta(days=1))
    daily = stats(contact_days=30, first_contact=NOW - timedelta(days=45), last_contact=NOW - timedelta(days=16))
    assert is_cooling(daily, NOW)  # 16 days quiet, beyond the 14-day floor
    assert not is_cooling(daily, NOW - timedelta(days=3))  # 13 days: under the floor, however fast the rhythm


def test_cooling_needs_a_history() -> None:
    few = stats(contact_days=2, first_contact=NOW - timedelta(days=200), last_contact=NOW - timedelta(days=100))
    assert not is_cooling(few, NOW)
    assert COOLING_MIN_SILENCE.days == 14


def test_assess_flags_cooling_on_top_of_stage() -> None:
    s = stats(contact_days=5, asked_ab=2, answered_ab=2, first_contact=NOW - timedelta(days=40),
              last_contact=NOW - timedelta(days=30))
    result = assess(s, NOW)
    assert (result.stage, result.cooling) == (Stage.ACQUAINTANCE, True)


def test_a_cooling_advisor_is_told_to_reach_out_and_listed_with_both_notes() -> None:
    from bot.relationships import next_step

    quiet = stats(contact_days=12, asked_ab=8, answered_ab=ADVISOR_MIN_ANSWERS + 1,
                  first_contact=NOW - timedelta(days=120), last_contact=NOW - timedelta(days=60))
    result = assess(quiet, NOW)
    assert (result.stage, result.advisor, result.cooling) == (Stage.TRUSTED_ADVISOR, "bob", True)
    assert next_step(result, "ana").startswith("It has gone quiet: send <@bob>")
    assert next_step(assess(quiet, quiet.last_contact), "ana").startswith("Keep it up")  # not quiet then
