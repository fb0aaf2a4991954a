"""The rapport ladder: from who asks whom to a stage per pair. Every rule and threshold lives here.

Counts per ordered pair (a asks b) come from the question graph (bot/graph/conversation.py):
- asked_ab: questions a addressed to b (an open question counts for whoever answered it first);
- answered_ab: of those, how many b answered within the answer window;
- unanswered_ab: those whose window closed with no answer.
Contacts are any directed interaction between the two (a question, an answer, a reply, a mention, a
back-and-forth in unthreaded chat, a coffee meetup), counted by distinct days.

Stages of an unordered pair, checked top-down:
- trusted advisor: one side answered at least ADVISOR_MIN_ANSWERS of the other's questions and at least
  ADVISOR_RATIO times as many as it got answered back. Directed: `advisor` names who advises whom.
- peers: both have asked and both got answers.
- acquaintance: one side asks, the other answers (at least one answered question).
- talking: contact, but nobody has had a question answered yet (nobody receptive yet).
- strangers: no contact at all.
Cooling is a flag, not a stage: a pair with contact on at least COOLING_MIN_DAYS distinct days whose silence
is longer than COOLING_FACTOR times its own usual gap between contact days, and at least COOLING_MIN_SILENCE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ADVISOR_MIN_ANSWERS = 5
ADVISOR_RATIO = 3
COOLING_MIN_DAYS = 3
COOLING_FACTOR = 3.0
COOLING_MIN_SILENCE = timedelta(days=14)


class Stage(StrEnum):
    STRANGERS = "strangers"
    TALKING = "talking"
    ACQUAINTANCE = "acquaintance"
    PEERS = "peers"
    TRUSTED_ADVISOR = "trusted_advisor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


@dataclass(frozen=True)
class PairStats:
    """Everything the ladder needs about an unordered pair; a < b."""

    workspace: str
    a: str
    b: str
    asked_ab: int = 0
    asked_ba: int = 0
    answered_ab: int = 0
    answered_ba: int = 0
    unanswered_ab: int = 0
    unanswered_ba: int = 0
    contact_days: int = 0
    first_contact: datetime | None = None
    last_contact: datetime | None = None

    def other(self, user: str) -> str:
        return self.b if user == self.a else self.a

    def seen_from(self, user: str) -> tuple[int, int, int, int]:
        """(asked by user, answered for user, asked of user, answered by user) from user's side."""
        if user == self.a:
            return self.asked_ab, self.answered_ab, self.asked_ba, self.answered_ba
        return self.asked_ba, self.answered_ba, self.asked_ab, self.answered_ab


@dataclass(frozen=True)
class Assessment:
    stats: PairStats
    stage: Stage
    advisor: str | None
    cooling: bool


def stage_of(stats: PairStats) -> tuple[Stage, str | None]:
    ab, ba = stats.answered_ab, stats.answered_ba
    if ab >= ADVISOR_MIN_ANSWERS and ab >= ADVISOR_RATIO * max(ba, 1):
        return Stage.TRUSTED_ADVISOR, stats.b  # a keeps coming to b
    if ba >= ADVISOR_MIN_ANSWERS and ba >= ADVISOR_RATIO * max(ab, 1):
        return Stage.TRUSTED_ADVISOR, stats.a
    if ab and ba:
        return Stage.PEERS, None
    if ab or ba:
        return Stage.ACQUAINTANCE, None
    if stats.contact_days or stats.asked_ab or stats.asked_ba:
        return Stage.TALKING, None
    return Stage.STRANGERS, None


def is_cooling(stats: PairStats, now: datetime) -> bool:
    if stats.contact_days < COOLING_MIN_DAYS or not stats.first_contact or not stats.last_contact:
        return False
    usual_gap = (stats.last_contact - stats.first_contact) / (stats.contact_days - 1)
    silence = now - stats.last_contact
    return silence > max(usual_gap * COOLING_FACTOR, COOLING_MIN_SILENCE)


def assess(stats: PairStats, now: datetime) -> Assessment:
    stage, advisor = stage_of(stats)
    return Assessment(stats, stage, advisor, stage is not Stage.STRANGERS and is_cooling(stats, now))
