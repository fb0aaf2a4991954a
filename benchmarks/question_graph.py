"""How well Rapport reads chat: question detection and asker -> answerer links on labelled transcripts.

Run: python benchmarks/question_graph.py [--errors]

The transcripts are benchmarks/data/chat/*.jsonl: a header line (workspace, channel, style, split, members), then
one message per line with its labels. "threaded" files are Slack-style channels (replies go in threads, some
top-level back-and-forth); "unthreaded" files are Discord-style channels (interleaved conversations, "name: ..."
prefixes, @mentions, the odd reply reference). Files whose split is "heldout" (slack_ops, slack_random,
discord_help, discord_general) were written before the heuristics were tuned and were not looked at while tuning.

How the messages are labelled:
- is_question: the message asks someone for information, a decision or help, with or without a question mark
  ("anyone know where the runbook is"), including polite requests phrased as questions ("can you review?") and
  echo questions that get explained ("6 hours?"). Not questions: pure reactions phrased as questions
  ("lol what?", "right?", "huh?"), rhetorical ones ("who knew a restore could take 4 hours", "who needs sleep
  anyway"), self-answered ones ("Why? Because ..."), imperatives ("Do this first: ..."), and question marks in
  code or URLs.
- answers: for each question, the first message by which a person other than the asker responds to it (an answer,
  a "not me", a clarifying counter-question that contains the answer), as (answerer, answer message). A question
  put to named people can have one answer per person; an open question has only its first responder, as in the
  model. Reactions (":eyes:") and chatter that merely follows are not answers. When a person answers a question
  put to someone else, the label still names who really answered.

Scores: a question counts when its message is detected as one; a link counts when (question, answerer, answer
message) all match. The baseline detects a question by a sentence ending in "?" and links it to the next message
by someone else in the same conversation (its thread, or the unthreaded channel).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bot.events import Member, MessagePosted
from bot.graph.conversation import Memory, link_all
from bot.intake.ingest import name_index

DATA = Path(__file__).parent / "data" / "chat"

Link = tuple[str, str, str]  # (question message id, answerer, answer message id)


@dataclass(frozen=True)
class Labelled:
    event: MessagePosted
    is_question: bool
    answers: frozenset[tuple[str, str]] = frozenset()  # (answerer, answer message id)


@dataclass(frozen=True)
class Transcript:
    name: str
    style: str  # threaded | unthreaded
    split: str  # dev | heldout
    members: tuple[Member, ...]
    messages: tuple[Labelled, ...]

    @property
    def expected_questions(self) -> set[str]:
        return {m.event.message_id for m in self.messages if m.is_question}

    @property
    def expected_links(self) -> set[Link]:
        return {(m.event.message_id, who, answer) for m in self.messages for who, answer in m.answers}


def load(directory: Path = DATA) -> list[Transcript]:
    transcripts = []
    for path in sorted(directory.glob("*.jsonl")):
        header, *rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
        ws, channel = header["workspace"], header["channel"]
        members = tuple(Member(ws, m["user_id"], m["name"]) for m in header["members"])
        messages = tuple(
            Labelled(
                MessagePosted(
                    ws, channel, r["id"], r["author"], datetime.fromisoformat(r["at"]), r["text"],
                    r.get("reply_to"), r.get("thread_id"), tuple(r.get("mentions", ())),
                ),
                r["is_question"],
                frozenset((a["answerer"], a["answer_id"]) for a in r.get("answers", ())),
            )
            for r in rows
        )
        transcripts.append(Transcript(path.stem, header["style"], header["split"], members, messages))
    return transcripts


@dataclass(frozen=True)
class Prediction:
    questions: set[str]
    links: set[Link]


def in_time_order(transcript: Transcript) -> list[MessagePosted]:
    return sorted((m.event for m in transcript.messages), key=lambda e: e.at)


def rapport(transcript: Transcript) -> Prediction:
    """What bot.graph.conversation makes of the transcript, fed in time order as the importer does."""
    memory, names = Memory(), name_index(transcript.members)
    questions: set[str] = set()
    links: set[Link] = set()
    for outcome in link_all(memory, in_time_order(transcript), names):
        if outcome.message.is_question:
            questions.add(outcome.message.message_id)
        links.update((a.question_id, a.answerer, a.answer_id) for a in outcome.answers)
    return Prediction(questions, links)


_ENDS_WITH_MARK = re.compile(r"\?(\s|$)")


def baseline(transcript: Transcript) -> Prediction:
    """A sentence ending in "?" is a question; the next message by someone else in its conversation answers it."""
    events = in_time_order(transcript)
    questions = {e.message_id for e in events if e.text and _ENDS_WITH_MARK.search(e.text)}
    links: set[Link] = set()
    for i, event in enumerate(events):
        if event.message_id not in questions:
            continue
        conversation = {event.thread_id} if event.thread_id else {None, event.message_id}
        for later in events[i + 1:]:
            if later.author != event.author and later.thread_id in conversation:
                links.add((event.message_id, later.author, later.message_id))
                break
    return Prediction(questions, links)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set[str] | set[Link], expected: set[str] | set[Link]) -> None:
        self.tp += len(predicted & expected)  # type: ignore[operator]
        self.fp += len(predicted - expected)  # type: ignore[operator]
        self.fn += len(expected - predicted)  # type: ignore[operator]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    questions: Score = field(default_factory=Score)
    links: Score = field(default_factory=Score)


Predictor = Callable[[Transcript], Prediction]


def evaluate(transcripts: Iterable[Transcript], predictor: Predictor = rapport) -> Scores:
    scores = Scores()
    for transcript in transcripts:
        predicted = predictor(transcript)
        scores.questions.add(predicted.questions, transcript.expected_questions)
        scores.links.add(predicted.links, transcript.expected_links)
    return scores


GROUPS: dict[str, Callable[[Transcript], bool]] = {
    "threaded, dev": lambda t: t.style == "threaded" and t.split == "dev",
    "threaded, held-out": lambda t: t.style == "threaded" and t.split == "heldout",
    "unthreaded, dev": lambda t: t.style == "unthreaded" and t.split == "dev",
    "unthreaded, held-out": lambda t: t.style == "unthreaded" and t.split == "heldout",
    "all held-out": lambda t: t.split == "heldout",
    "all": lambda t: True,
}


def table(title: str, transcripts: list[Transcript], pick: Callable[[Scores], Score]) -> Table:
    t = Table(title=title)
    t.add_column("chat")
    t.add_column("msgs", justify="right")
    t.add_column("labelled", justify="right")
    for who in ("baseline", "Rapport"):
        for metric in ("P", "R", "F1"):
            t.add_column(f"{who} {metric}", justify="right")
    for group, member in GROUPS.items():
        chosen = [x for x in transcripts if member(x)]
        base, ours = pick(evaluate(chosen, baseline)), pick(evaluate(chosen, rapport))
        t.add_row(
            group, str(sum(len(x.messages) for x in chosen)), str(ours.tp + ours.fn),
            *(f"{v:.2f}" for s in (base, ours) for v in (s.precision, s.recall, s.f1)),
            end_section=group.startswith("unthreaded, held"),
        )
    return t


def print_errors(console: Console, transcripts: list[Transcript]) -> None:
    for transcript in transcripts:
        predicted = rapport(transcript)
        texts = {m.event.message_id: m.event.text for m in transcript.messages}
        authors = {m.event.message_id: m.event.author for m in transcript.messages}
        for mid in sorted(predicted.questions ^ transcript.expected_questions):
            kind = "missed question" if mid in transcript.expected_questions else "false question"
            console.print(f"{transcript.name} {mid} {kind}: {texts[mid]!r}", markup=False, highlight=False)
        for q, who, answer in sorted(predicted.links ^ transcript.expected_links):
            kind = "missed link" if (q, who, answer) in transcript.expected_links else "false link"
            console.print(f"{transcript.name} {q} {kind}: {authors[q]} -> {who} by {answer}: {texts[answer]!r}",
                          markup=False, highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every disagreement with the labels")
    args = parser.parse_args()
    transcripts = load()
    console = Console(emoji=False)  # print ":eyes:" as written
    console.print(table("Question detection", transcripts, lambda s: s.questions))
    console.print(table("Asker -> answerer links", transcripts, lambda s: s.links))
    if args.errors:
        print_errors(console, transcripts)


if __name__ == "__main__":
    main()
