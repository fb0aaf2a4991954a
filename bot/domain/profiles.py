"""A member's profile and the interest phrases read from it (split on commas, "and", newlines; looking_for
phrases carry an intent such as mentee or learn, and a topic)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

LEVELS = ("environment", "behaviour", "capability", "beliefs", "identity", "spirit")
TEXT_FIELDS = (*LEVELS, "looking_for")
PHRASE_MAX = 120  # characters per interest phrase (longer ones are cut)
PHRASES_MAX = 40  # interest phrases per profile that get embedded


def normalise_phrase(phrase: str) -> str:
    """The cache key: case and spacing do not change the meaning (the tokenizer lowercases anyway)."""
    return " ".join(phrase.lower().split())


@dataclass(frozen=True)
class Phrase:
    """One interest: `text` as the member wrote it (plain), `key` what it is embedded and cached under."""

    text: str
    level: str  # one of LEVELS, or "looking_for"
    intent: str | None = None  # for looking_for: mentee, mentor, learn, known, clients, job, friends, other

    @cached_property
    def key(self) -> str:
        return normalise_phrase(self.text)

    @property
    def wanted(self) -> bool:
        """Something the member wants to get (rather than something they have or offer)."""
        return self.intent in ("mentee", "learn")


@dataclass(frozen=True)
class Profile:
    workspace: str
    user_id: str
    environment: str = ""
    behaviour: str = ""
    capability: str = ""
    beliefs: str = ""
    identity: str = ""
    spirit: str = ""
    looking_for: str = ""
    tz: str | None = None  # IANA name; coffee pairing and nudges fall back to Member.tz
    work_start: int | None = None  # local hour 0..23
    work_end: int | None = None  # local hour 1..24; <= work_start means an overnight shift
    updated_at: datetime | None = None

    def text(self, name: str) -> str:
        return str(getattr(self, name))

    @property
    def working_hours(self) -> str:
        if self.work_start is None or self.work_end is None:
            return ""
        return f"{self.work_start:02d}-{self.work_end:02d}"

    @property
    def is_empty(self) -> bool:
        return not any(self.text(n) for n in TEXT_FIELDS) and self.tz is None and self.work_start is None

    def phrases(self) -> list[Phrase]:
        """The interests to match on, distinct by key; looking_for phrases carry their intent and topic."""
        return list(self._phrases)

    @cached_property
    def _phrases(self) -> tuple[Phrase, ...]:
        found: dict[str, Phrase] = {}
        for level in TEXT_FIELDS:
            for phrase in _field_phrases(level, self.text(level)):
                found.setdefault(phrase.key, phrase)
        return tuple(found.values())[:PHRASES_MAX]

    def intents(self) -> set[str]:
        return {looking_for(t)[0] for t in split_phrases(self.looking_for)}


@lru_cache(maxsize=65_536)  # `/rapport match` reads every profile; their fields rarely change
def _field_phrases(level: str, text: str) -> tuple[Phrase, ...]:
    phrases = []
    for part in split_phrases(text):
        if level != "looking_for":
            phrases.append(Phrase(part, level))
            continue
        intent, topic = looking_for(part)
        if topic:  # "clients", "a job": no topic to match on
            phrases.append(Phrase(topic, level, intent))
    return tuple(phrases)


_SPLIT = re.compile(r"[,;\n\r•·|]+|\s+(?:and|&|\+)\s+", re.IGNORECASE)
_BULLET = re.compile(r"^[\s\-*•·.]+|[\s.!]+$")


def split_phrases(text: str) -> list[str]:
    """'trail running, sourdough and board games' -> ['trail running', 'sourdough', 'board games']."""
    out: list[str] = []
    for part in _SPLIT.split(text or ""):
        part = _BULLET.sub("", " ".join(part.split()))[:PHRASE_MAX].strip()
        if part and any(c.isalnum() for c in part):
            out.append(part)
    return out


_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((intent, re.compile(p, re.IGNORECASE)) for intent, p in (
    ("mentee", r"^(?:someone to (?:mentor|coach|teach) me|(?:(?:find|finding|get|getting)\s+)?(?:an?\s+)?"
               r"(?:mentor|coach)(?:ship)?\b)(?:\s+(?:in|for|on|with|about|around))?\s*(?P<topic>.*)$"),
    ("mentor", r"^(?:to\s+)?(?:mentor|mentoring|coach|coaching|teach|teaching)\b(?:\s+(?:others|people|someone|"
               r"juniors|newcomers))?(?:\s+(?:in|on|with|about))?\s*(?P<topic>.*)$"),
    ("learn", r"^(?:to\s+)?(?:learn|learning|study|studying|practise|practice)\s+(?P<topic>.+?)"
              r"(?:\s+(?:together\s+)?with\s+(?:others|other people|people|someone|peers|a group))?$"),
    ("learn", r"^(?:an?\s+)?(?:study|learning) (?:buddy|buddies|partner|group) (?:for|in) (?P<topic>.+)$"),
    ("known", r"^(?:to\s+)?(?:be\s+)?(?:known|recognised|recognized)\s+(?:for|as)\s+(?P<topic>.+)$"),
    ("clients", r"^(?:new\s+|more\s+)?(?:clients?|customers?)\b(?P<topic>)"),
    ("job", r"^(?:an?\s+)?(?:new\s+)?(?:job|role|position)\b(?P<topic>)"),
    ("friends", r"^(?:old|new)?\s*friends?\b(?P<topic>)"),
))
_ARTICLE = re.compile(r"^(?:an?|the|my|some)\s+", re.IGNORECASE)


def looking_for(phrase: str) -> tuple[str, str]:
    """(intent, topic): 'a mentor in public speaking' -> ('mentee', 'public speaking'); topic may be ''."""
    for intent, pattern in _INTENTS:
        match = pattern.match(phrase.strip())
        if match:
            return intent, _ARTICLE.sub("", match.group("topic").strip())
    return "other", phrase.strip()
