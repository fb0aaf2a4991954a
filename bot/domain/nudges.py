"""Nudges as storage keeps them: their kinds, a planned nudge (ids, kinds and times only; the words are composed
when it is sent), and a member's nudge settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

PENDING, SENT, DONE, DROPPED, EXPIRED, FAILED = "pending", "sent", "done", "dropped", "expired", "failed"
CAP_PER_WEEK = 3
DEFAULT_DAYS_OFF = frozenset({5, 6})  # date.weekday(): Saturday, Sunday


class Kind(StrEnum):
    FOLLOW_UP = "follow_up"  # after a coffee meetup: give something
    THANKS = "thanks"  # after an introduction: thank the person who made it
    UNANSWERED = "unanswered"  # a question to you is still waiting
    COOLING = "cooling"  # a relationship that mattered is going quiet
    STAGE = "stage"  # you and someone reached a new stage (peers, trusted advisor)
    ASK_BACK = "ask_back"  # you talk with someone often but never ask them anything

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Kind.FOLLOW_UP: "follow-ups after a coffee",
    Kind.THANKS: "thanks after an introduction",
    Kind.UNANSWERED: "unanswered questions",
    Kind.COOLING: "relationships going quiet",
    Kind.STAGE: "new stages with someone",
    Kind.ASK_BACK: "ideas to ask a question back",
}


@dataclass(frozen=True)
class Nudge:
    workspace: str
    recipient: str
    kind: Kind
    subject: str  # the other person ('' when none)
    ref: str  # what it is about: the question's message id, the meeting, the cooling episode, the stage
    value: int
    created_at: datetime
    due_at: datetime
    deliver_at: datetime
    channel: str | None = None
    status: str = PENDING
    sent_at: datetime | None = None
    attempt: int = 0
    id: int | None = None

    @property
    def dedup(self) -> str:
        return f"{self.kind.value}:{self.subject}:{self.ref}"[:200]


@dataclass(frozen=True)
class NudgeSettings:
    workspace: str
    user_id: str
    enabled: bool = True
    quiet_start: int | None = None  # minutes after local midnight
    quiet_end: int | None = None
    cap: int = CAP_PER_WEEK
    days_off: frozenset[int] = DEFAULT_DAYS_OFF
    muted: frozenset[str] = field(default_factory=frozenset)  # kinds the member asked for no more of

    def wants(self, kind: str) -> bool:
        return self.enabled and kind not in self.muted

    @property
    def quiet(self) -> str:
        if self.quiet_start is None or self.quiet_end is None:
            return ""
        return f"{_hhmm(self.quiet_start)}-{_hhmm(self.quiet_end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class SentNudge:
    """A nudge that went out, and what followed it: the figures for leads count how many were acted on."""

    kind: str
    recipient: str
    sent_at: datetime
    status: str
    # The recipient's first contact with the person the nudge was about (a question, answer, reply, mention,
    # chat or meetup), or link shared with them, after it went out; None when none yet or it was about nobody.
    reached_out_at: datetime | None
