"""A planned nudge as storage keeps it: ids, kinds and times only; the words are composed when it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.nudge_policy import Kind

PENDING, SENT, DONE, DROPPED, EXPIRED, FAILED = "pending", "sent", "done", "dropped", "expired", "failed"


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
