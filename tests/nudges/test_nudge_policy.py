"""The delivery rules of bot/nudges/policy.py, one by one, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.nudges import Kind, NudgeSettings
from bot.nudges.policy import (
    CAP_WINDOW,
    VALUE,
    Hours,
    allowed,
    cap_frees_at,
    hours_of,
    next_allowed,
    parse_days,
    parse_quiet,
    stale,
    value_of,
)

DEFAULT = NudgeSettings("T1", "ana")
NY = Hours("America/New_York")
TOKYO = Hours("Asia/Tokyo")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_hours_come_from_the_profile_then_the_account_then_utc_9_to_17() -> None:
    assert hours_of("Asia/Tokyo", 10, 18, "Europe/Berlin") == Hours("Asia/Tokyo", 10, 18)
    assert hours_of(None, None, None, "Europe/Berlin") == Hours("Europe/Berlin", 9, 17)
    assert hours_of(None, None, None, None) == Hours("UTC", 9, 17)
    assert Hours("Not/AZone").zone is UTC


def test_only_inside_working_hours_in_the_members_own_time_zone() -> None:
    monday = utc(2026, 3, 2)
    assert not allowed(monday.replace(hour=9), NY, DEFAULT)  # 04:00 in New York
    assert allowed(monday.replace(hour=14), NY, DEFAULT)  # 09:00 in New York
    assert not allowed(monday.replace(hour=22), NY, DEFAULT)  # 17:00: working hours end
    assert allowed(monday.replace(hour=0), TOKYO, DEFAULT)  # 09:00 in Tokyo
    assert not allowed(monday.replace(hour=9), TOKYO, DEFAULT)  # 18:00 in Tokyo


def test_an_overnight_shift_wraps_past_midnight() -> None:
    night = Hours("UTC", 22, 6)
    settings = NudgeSettings("T1", "ana", days_off=frozenset())
    assert allowed(utc(2026, 3, 2, 23), night, settings)
    assert allowed(utc(2026, 3, 3, 5, 59), night, settings)
    assert not allowed(utc(2026, 3, 3, 6), night, settings)
    assert not allowed(utc(2026, 3, 3, 12), night, settings)


def test_never_in_quiet_hours() -> None:
    quiet = NudgeSettings("T1", "ana", quiet_start=12 * 60, quiet_end=14 * 60 + 30)
    assert not allowed(utc(2026, 3, 2, 13), Hours(), quiet)
    assert not allowed(utc(2026, 3, 2, 14, 29), Hours(), quiet)
    assert allowed(utc(2026, 3, 2, 14, 30), Hours(), quiet)
    assert next_allowed(utc(2026, 3, 2, 12, 5), Hours(), quiet) == utc(2026, 3, 2, 14, 30)


def test_quiet_hours_across_midnight_block_the_whole_night() -> None:
    night_owl = Hours("UTC", 0, 24)
    quiet = NudgeSettings("T1", "ana", quiet_start=22 * 60, quiet_end=8 * 60, days_off=frozenset())
    assert not allowed(utc(2026, 3, 2, 23), night_owl, quiet)
    assert not allowed(utc(2026, 3, 3, 7), night_owl, quiet)
    assert next_allowed(utc(2026, 3, 2, 23), night_owl, quiet) == utc(2026, 3, 3, 8)


def test_never_on_days_off_by_local_date() -> None:
    friday_evening_utc = utc(2026, 3, 6, 23)  # Saturday 08:00 in Tokyo
    assert not allowed(friday_evening_utc + timedelta(hours=1), TOKYO, DEFAULT)
    assert next_allowed(friday_evening_utc, TOKYO, DEFAULT) == utc(2026, 3, 9, 0)  # Monday 09:00 Tokyo
    fridays_off = NudgeSettings("T1", "ana", days_off=frozenset({4, 5}))
    assert allowed(utc(2026, 3, 8, 10), Hours(), fridays_off)  # a Sunday worker
    assert not allowed(utc(2026, 3, 6, 10), Hours(), fridays_off)


def test_outside_hours_it_waits_for_the_next_allowed_moment() -> None:
    assert next_allowed(utc(2026, 3, 2, 10), NY, DEFAULT) == utc(2026, 3, 2, 14)
    inside = utc(2026, 3, 2, 15, 7)
    assert next_allowed(inside, NY, DEFAULT) == inside


def test_next_allowed_follows_the_daylight_saving_change_in_new_york() -> None:
    # US clocks go forward on Sunday 8 March 2026: 09:00 is 14:00 UTC on Friday but 13:00 UTC on Monday.
    friday_after_work = utc(2026, 3, 6, 23)
    assert next_allowed(friday_after_work, NY, DEFAULT) == utc(2026, 3, 9, 13)
    # ... and back on Sunday 1 November 2026: Monday 09:00 EST is 14:00 UTC again.
    assert next_allowed(utc(2026, 10, 30, 22), NY, DEFAULT) == utc(2026, 11, 2, 14)


def test_a_working_day_that_starts_inside_the_skipped_hour_starts_after_the_jump() -> None:
    early = Hours("America/New_York", 2, 10)
    every_day = NudgeSettings("T1", "ana", days_off=frozenset())
    found = next_allowed(utc(2026, 3, 8, 5), early, every_day)  # 00:00 EST on the day of the jump
    assert found == utc(2026, 3, 8, 7)  # 02:00 does not exist; 03:00 EDT is the first moment
    assert allowed(found, early, every_day)


def test_someone_who_allows_no_moment_gets_none() -> None:
    never = NudgeSettings("T1", "ana", quiet_start=0, quiet_end=23 * 60 + 59)
    assert next_allowed(utc(2026, 3, 2, 10), Hours("UTC", 9, 17), never) is None


def test_the_weekly_cap_frees_a_slot_when_the_oldest_send_leaves_the_week() -> None:
    now = utc(2026, 3, 9, 10)
    sent = [utc(2026, 3, 3, 10), utc(2026, 3, 4, 10), utc(2026, 3, 5, 10)]
    assert cap_frees_at(sent, now, 3) == utc(2026, 3, 3, 10) + CAP_WINDOW
    assert cap_frees_at(sent, now, 4) is None
    assert cap_frees_at(sent[:1], utc(2026, 3, 11, 10), 1) is None  # left the window


def test_at_most_one_a_day() -> None:
    now = utc(2026, 3, 2, 15)
    assert cap_frees_at([utc(2026, 3, 2, 10)], now, 3) == utc(2026, 3, 3, 10)
    assert cap_frees_at([utc(2026, 3, 1, 14)], now, 3) is None


def test_the_most_valuable_kind_wins_and_a_closer_relationship_adds_value() -> None:
    ranked = sorted(Kind, key=lambda k: -VALUE[k])
    assert ranked[0] is Kind.UNANSWERED and ranked[-1] is Kind.ASK_BACK
    assert value_of(Kind.COOLING, 3) > value_of(Kind.COOLING, 2)
    assert value_of(Kind.COOLING, 4) < value_of(Kind.FOLLOW_UP)


def test_opt_out_of_one_kind_or_all() -> None:
    assert DEFAULT.wants(Kind.COOLING)
    muted = NudgeSettings("T1", "ana", muted=frozenset({Kind.COOLING.value}))
    assert not muted.wants(Kind.COOLING) and muted.wants(Kind.UNANSWERED)
    assert not NudgeSettings("T1", "ana", enabled=False).wants(Kind.UNANSWERED)


def test_stale_after_a_week() -> None:
    assert not stale(utc(2026, 3, 2), utc(2026, 3, 8))
    assert stale(utc(2026, 3, 2), utc(2026, 3, 9, 1))


def test_members_write_their_settings_in_plain_words() -> None:
    assert parse_quiet("22:00-08:00") == (22 * 60, 8 * 60)
    assert parse_quiet("12-13:30") == (12 * 60, 13 * 60 + 30)
    assert parse_quiet("off") is None
    for bad in ("22:00", "25:00-08:00", "10-10", "soon"):
        with pytest.raises(ValueError):
            parse_quiet(bad)
    assert parse_days(["fri,sat"]) == frozenset({4, 5})
    assert parse_days(["Sunday"]) == frozenset({6})
    assert parse_days(["none"]) == frozenset()
    for bad_days in (["funday"], [], ["mon,tue,wed,thu,fri,sat,sun"]):
        with pytest.raises(ValueError):
            parse_days(bad_days)
