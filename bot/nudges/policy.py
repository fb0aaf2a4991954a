"""When a nudge may reach a member, and which one. Every rule about nudge delivery lives here; no I/O.

- Working hours: only inside the member's working hours in their own time zone: their profile's time zone and
  hours, else their platform account's time zone, else UTC; hours default to 09-17 (overnight shifts allowed).
- Quiet hours (the member's, e.g. 22:00-08:00) and days off (default Saturday and Sunday, by local date) never.
- Outside those, a nudge waits for the next allowed moment, computed on local wall-clock time so that a
  daylight-saving change moves it with the member's day (`next_allowed`).
- A cap per member across all kinds (default CAP_PER_WEEK in any rolling 7 days) and at most PER_DAY a day, so
  nudges spread out and each day the most valuable due nudge wins (`VALUE`, `value_of`); the others wait.
  A nudge counts once, at its latest delivery: a snooze the member asked for re-delivers it without a new slot.
- Never the same nudge twice: each has a stable dedup key (its kind and what it is about: the pair episode, the
  question, the meeting), UNIQUE per recipient in storage; snoozing re-delivers the same nudge on request only.
- Never to someone who turned nudges off or muted that kind, who left the workspace (no longer a member), paused
  tracking or erased their data; a nudge about someone who paused or erased is dropped.
- A nudge that could not be delivered within EXPIRE_AFTER of when it became due is dropped: it is stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.nudges import Kind, NudgeSettings

MAX_CAP = 14
PER_DAY = 1
CAP_WINDOW = timedelta(days=7)
EXPIRE_AFTER = timedelta(days=7)
DEFAULT_HOURS = (9, 17)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 15  # how far ahead next_allowed looks: a member may take at most 6 days off a week


#: Base value of each kind: someone waiting on you, then a fresh meeting, then a fading relationship.
VALUE = {Kind.UNANSWERED: 50, Kind.FOLLOW_UP: 40, Kind.THANKS: 40, Kind.COOLING: 30, Kind.STAGE: 20, Kind.ASK_BACK: 10}


def value_of(kind: Kind, stage_rank: int = 0) -> int:
    """A nudge's value: its kind's, plus the rank of the relationship it is about (a closer one matters more)."""
    return VALUE[kind] + stage_rank


@dataclass(frozen=True)
class Hours:
    """When a member works: an IANA zone and local hours; `end <= start` means an overnight shift."""

    tz: str = "UTC"
    start: int = DEFAULT_HOURS[0]
    end: int = DEFAULT_HOURS[1]

    @property
    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC


def hours_of(profile_tz: str | None, work_start: int | None, work_end: int | None, member_tz: str | None) -> Hours:
    tz = profile_tz or member_tz or "UTC"
    if work_start is None or work_end is None:
        return Hours(tz)
    return Hours(tz, work_start, work_end)


def _within(minute: int, start: int, end: int) -> bool:
    """minute in [start, end) on a 24-hour clock; wraps past midnight when end <= start."""
    return start <= minute < end if start < end else minute >= start or minute < end


def allowed(at: datetime, hours: Hours, settings: NudgeSettings) -> bool:
    local = at.astimezone(hours.zone)
    minute = local.hour * 60 + local.minute
    if local.weekday() in settings.days_off:
        return False
    if not _within(minute, hours.start * 60, (hours.end % 24) * 60 if hours.end != 24 else 24 * 60):
        return False
    quiet = settings.quiet_start, settings.quiet_end
    if quiet[0] is not None and quiet[1] is not None and quiet[0] != quiet[1]:
        return not _within(minute, quiet[0], quiet[1])
    return True


def _local(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC moment of a local wall-clock time; a time skipped by a daylight-saving jump maps past the gap."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), zone)
    return wall.astimezone(UTC)


def next_allowed(at: datetime, hours: Hours, settings: NudgeSettings) -> datetime | None:
    """The first moment at or after `at` when a nudge may reach the member; None if they never allow one.

    An allowed stretch begins either at `at` itself or where a blocked one ends: the start of working hours or
    the end of quiet hours (midnight, for days off). Those boundaries are laid out on local dates and converted
    to UTC one by one, so a daylight-saving change shifts them with the member's clock.
    """
    if allowed(at, hours, settings):
        return at
    zone = hours.zone
    boundaries = {hours.start * 60, 0}
    if settings.quiet_end is not None:
        boundaries.add(settings.quiet_end)
    first = at.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        day = first + timedelta(days=offset)
        for candidate in sorted(_local(day, m, zone) for m in boundaries):
            if candidate > at and allowed(candidate, hours, settings):
                return candidate
    return None


def cap_frees_at(sent: Sequence[datetime], now: datetime, cap: int) -> datetime | None:
    """None when the member may get a nudge now; else when the weekly or daily cap frees a slot.

    `sent` are the delivery times of nudges to the member (those older than CAP_WINDOW may be left out).
    """
    window = sorted(s for s in sent if s > now - CAP_WINDOW)
    if cap <= 0:
        return now + CAP_WINDOW
    waits = []
    if len(window) >= cap:
        waits.append(window[len(window) - cap] + CAP_WINDOW)
    today = [s for s in window if s > now - timedelta(days=1)]
    if len(today) >= PER_DAY:
        waits.append(today[len(today) - PER_DAY] + timedelta(days=1))
    return max(waits) if waits else None


def stale(due_since: datetime, now: datetime) -> bool:
    return now - due_since > EXPIRE_AFTER


# --- the member's own settings, as they type them -------------------------------------------------------------


def parse_quiet(text: str) -> tuple[int, int] | None:
    """'22:00-08:00' -> (1320, 480); 'off' -> None; ValueError when it is neither."""
    text = text.strip().lower()
    if text in ("off", "none"):
        return None
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        raise ValueError(text)
    start, end = (_minutes(p) for p in parts)
    if start == end:
        raise ValueError(text)
    return start, end


def _minutes(text: str) -> int:
    hour, _, minute = text.strip().partition(":")
    h, m = int(hour), int(minute or 0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(text)
    return h * 60 + m


def parse_days(words: Sequence[str]) -> frozenset[int]:
    """['sat', 'sun'] or ['fri,sat'] -> weekdays; ['none'] -> no days off; ValueError otherwise."""
    names = [w.strip().lower()[:3] for word in words for w in word.split(",") if w.strip()]
    if names == ["non"]:
        return frozenset()
    if not names or any(n not in DAY_NAMES for n in names):
        raise ValueError(" ".join(words))
    days = frozenset(DAY_NAMES.index(n) for n in names)
    if len(days) == 7:
        raise ValueError("every day")
    return days


def describe_days(days: frozenset[int]) -> str:
    return ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days)) or "none"
