"""Public, human-annotated chat read into Rapport's events, for training and for measuring on data nobody here wrote.

- Ubuntu IRC reply links (Kummerfeld et al., ACL 2019, github jkkummerfeld/irc-disentanglement, data CC-BY-4.0):
  `NAME.ascii.txt` holds one line a message (`[HH:MM] <nick> text`, `* nick action`, `=== system`),
  `NAME.annotation.txt` lines `a b -` say that line b replies to line a (a == b: b starts a conversation).
  Lines from 1,000 on are annotated; the first 1,000 are context.
- Molweni (Li et al., COLING 2020, github HIT-SCIR/Molweni, Apache-2.0): DP/*.json, dialogues of ~10 utterances
  with discourse relations, among them Question-answer_pair.

Each becomes what an adapter would hand the core for unthreaded chat with no reply references: a MessagePosted
per message, a leading "nick:" or "nick," naming a known speaker turned into an @mention (what a Discord user would
type), IRC's minute timestamps spread a few seconds apart inside the minute.
Only train splits are for fitting; dev splits for choosing and reporting; the rest is held out (see
../shared/notes/real-chat-data.md): nothing here reads a test split.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.events import Member, MessagePosted

ANNOTATED_FROM = 1000
_LINE = re.compile(r"^\[(\d\d):(\d\d)\] (?:<([^>]+)>|\* (\S+)) ?(.*)$")
_LEADING_NICK = re.compile(r"^\s*([^\s:,]+)\s*[:,]\s*")


@dataclass
class Channel:
    """One annotated chat log as events, with the human reply links between its messages."""

    name: str
    members: list[Member]
    events: list[MessagePosted]  # time order
    links: set[tuple[str, str]] = field(default_factory=set)  # (message id, the message id it replies to); no self
    starts: set[str] = field(default_factory=set)  # annotated messages linked to themselves
    annotated: set[str] = field(default_factory=set)  # message ids whose links are known


def _addressed(text: str, nicks: dict[str, str]) -> str | None:
    match = _LEADING_NICK.match(text)
    return nicks.get(match.group(1).lower()) if match else None


def irc_files(folder: Path) -> list[Path]:
    """The annotated samples of one split folder (data/train or data/dev)."""
    return sorted(folder.glob("*.annotation.txt"))


def read_irc(annotation: Path, only_annotated: bool = False) -> Channel:
    """One sample. `only_annotated` keeps the annotated region alone (what the product benchmark imports)."""
    stem = annotation.name[: -len(".annotation.txt")]
    ascii_file = annotation.with_name(stem + ".ascii.txt")
    lines = ascii_file.read_text(encoding="utf-8", errors="replace").split("\n")
    day = datetime.strptime(stem[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    workspace = re.sub(r"\D", "", stem)[:18] or "1"
    parsed: list[tuple[int, datetime, str, str]] = []  # (line, minute, nick, text)
    last_minute = None
    for number, line in enumerate(lines):
        match = _LINE.match(line)
        if not match:
            continue
        minute = day + timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
        if last_minute and minute < last_minute - timedelta(hours=1):  # past midnight
            day += timedelta(days=1)
            minute += timedelta(days=1)
        last_minute = minute
        parsed.append((number, minute, match.group(3) or match.group(4), match.group(5)))
    if only_annotated:
        parsed = [p for p in parsed if p[0] >= ANNOTATED_FROM]
    nicks = {nick.lower(): nick for _, _, nick, _ in parsed}
    ids = {nick: str(1000 + i) for i, nick in enumerate(sorted({nick for _, _, nick, _ in parsed}))}
    per_minute: dict[datetime, int] = {}
    for _, minute, _, _ in parsed:
        per_minute[minute] = per_minute.get(minute, 0) + 1
    seen_in_minute: dict[datetime, int] = {}
    events = []
    by_line: dict[int, str] = {}
    for number, minute, nick, text in parsed:
        k = seen_in_minute.get(minute, 0)
        seen_in_minute[minute] = k + 1
        at = minute + timedelta(seconds=k * 60 / per_minute[minute])
        addressed = _addressed(text, nicks)
        mentions: tuple[str, ...] = ()
        if addressed and addressed != nick:
            mentions = (ids[addressed],)
            text = "@" + text.lstrip()
        message_id = str(10_000_000 + number)
        by_line[number] = message_id
        events.append(MessagePosted(workspace, "1", message_id, ids[nick], at, text, mentions=mentions))
    channel = Channel(stem, [Member(workspace, uid, nick) for nick, uid in ids.items()], events)
    for row in annotation.read_text().split("\n"):
        parts = row.split()
        if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        parent, child = int(parts[0]), int(parts[1])
        if child not in by_line:
            continue
        channel.annotated.add(by_line[child])
        if parent == child:
            channel.starts.add(by_line[child])
        elif parent in by_line:
            channel.links.add((by_line[child], by_line[parent]))
    return channel


@dataclass
class Dialogue:
    """A Molweni dialogue as events, with its question-answer pairs as (question message, answer message) and the
    messages its annotators saw as questions: a question-answer pair's first, a clarification or follow-up question."""

    channel: Channel
    qa: set[tuple[str, str]]
    questions: set[str] = field(default_factory=set)
    relations: dict[tuple[str, str], str] = field(default_factory=dict)  # (message, its parent) -> relation type


def molweni_half(dialogues: Sequence[Channel], fit: bool) -> list[Channel]:
    """Molweni's train file is not available, so its dev file is split: even-numbered dialogues may be fitted,
    odd-numbered ones only measure."""
    return [d for i, d in enumerate(dialogues) if (i % 2 == 0) == fit]


def read_molweni(path: Path) -> Iterator[Dialogue]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for number, doc in enumerate(json.loads(path.read_text())):
        workspace = str(100_000 + number)
        speakers: dict[str, str] = {}
        for edu in doc["edus"]:
            speakers.setdefault(edu["speaker"], str(1000 + len(speakers)))
        nicks = {s.lower(): s for s in speakers}
        events = []
        for i, edu in enumerate(doc["edus"]):
            text = edu["text"]
            addressed = _addressed(text, nicks)
            mentions: tuple[str, ...] = ()
            if addressed and addressed != edu["speaker"]:
                mentions = (speakers[addressed],)
                text = "@" + text.lstrip()
            events.append(MessagePosted(workspace, "1", str(10_000_000 + i), speakers[edu["speaker"]],
                                        start + timedelta(seconds=20 * i), text, mentions=mentions))
        channel = Channel(f"molweni-{number}", [Member(workspace, uid, s) for s, uid in speakers.items()], events)
        channel.annotated = {e.message_id for e in events}
        qa, questions, relations = set(), set(), {}
        for relation in doc["relations"]:
            x, y = int(relation["x"]), int(relation["y"])
            if x < y and x < len(events) and y < len(events):
                channel.links.add((events[y].message_id, events[x].message_id))
                relations[(events[y].message_id, events[x].message_id)] = relation["type"]
                if relation["type"] in ("QAP", "Question-answer_pair"):
                    qa.add((events[x].message_id, events[y].message_id))
                    questions.add(events[x].message_id)
                elif relation["type"] in ("Clarification_question", "Q-Elab"):
                    questions.add(events[y].message_id)
        yield Dialogue(channel, qa, questions, relations)
