"""From one message to the question graph: who asked whom, who answered, who was in contact.

`link()` is pure: it takes a message, the little context around it (a `Window`) and returns an `Outcome`
of metadata records. The text is read once, for `bot.questions`, and is not part of any record.
Measured on labelled transcripts: benchmarks/question_graph.py.

Addressing a question, first rule that applies:
1. the people it @mentions, or names at its start ("bob: did you ...", "yuki is that ...");
2. the author of the message it replies to;
3. in a thread where the asker and exactly one other person have posted (root included): that person, a
   conversation between two; otherwise open (a newcomer's question in an announcement's thread is for anyone);
4. in unthreaded chat, when the message also answers someone's question: that person (a question back);
5. otherwise it is open, addressed to whoever answers it first.

Answering a question: a later message by its addressee, or for an open question by anyone but the asker; never
chatter (thanks, "lol", "brb", see bot.questions.is_chatter), never a message that speaks at its start to someone
other than the asker ("<@cid> any idea?"); someone mentioned in passing ("tag <@gus>") does not count as spoken to.
- Replies and threads: a reply to the question, or a message in the thread the question is in or started,
  answers within QUESTION_WINDOW; emoji alone count here (a thumbs-up to "12:30 ok?").
- Unthreaded chat of the same channel (not a reply to another message; words, not emoji alone), at most one
  question per message, tried in this order:
  a. the addressee's first message after a question put to them, within ADDRESSED_WINDOW (it may be a question
     itself: "which PR?");
  b. a message that names or @mentions the asker at its start: the asker's latest open question within
     CHAT_WINDOW;
  c. a message that speaks to nobody in particular and is not itself a question: the latest open question
     within CHAT_WINDOW.
Every question's deadline is asked_at + QUESTION_WINDOW; unanswered then, it counts as unanswered.
Without the text (Discord without the content intent) nothing is a question and every mention counts as spoken to.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from bot.events import MessagePosted
from bot.questions import read

QUESTION_WINDOW = timedelta(days=7)
CHAT_WINDOW = timedelta(minutes=20)
ADDRESSED_WINDOW = timedelta(hours=4)  # a working session: how long a question put to someone waits in flat chat
ADJACENT_WINDOW = timedelta(minutes=5)
RECENT_LIMIT = 20
OPEN = ""  # the addressee of an open question until someone answers it


@dataclass(frozen=True)
class SeenMessage:
    workspace: str
    channel: str
    message_id: str
    author: str
    at: datetime
    thread_id: str | None = None
    reply_to: str | None = None
    is_question: bool = False


@dataclass(frozen=True)
class Question:
    workspace: str
    message_id: str
    channel: str
    thread_id: str | None
    asker: str
    addressee: str  # OPEN until answered
    asked_at: datetime
    deadline: datetime
    answered_at: datetime | None = None
    answer_id: str | None = None


@dataclass(frozen=True)
class Answer:
    workspace: str
    question_id: str
    addressee: str  # as the question was stored: a user id, or OPEN
    answerer: str
    at: datetime
    answer_id: str


@dataclass(frozen=True)
class Contact:
    workspace: str
    message_id: str
    source: str
    target: str
    at: datetime
    kind: str  # question, answer, reply, mention, thread, chat, meeting


@dataclass(frozen=True)
class Outcome:
    message: SeenMessage
    questions: tuple[Question, ...] = ()
    answers: tuple[Answer, ...] = ()
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class Window:
    """What `link` needs to know about the conversation around a message."""

    parent: SeenMessage | None = None  # the message it replies to
    root: SeenMessage | None = None  # the thread's starter
    recent: tuple[SeenMessage, ...] = ()  # same channel and thread (or unthreaded chat), oldest first
    # Unanswered in this channel, deadline not passed, oldest first. A store may leave out questions this message
    # cannot answer by the rules above (Memory gives only those in its thread, the one it replies to, those put to
    # its author and the unthreaded ones of the last CHAT_WINDOW).
    open_questions: tuple[Question, ...] = ()


def seen(event: MessagePosted, question: bool) -> SeenMessage:
    return SeenMessage(
        event.workspace, event.channel, event.message_id, event.author, event.at,
        event.thread_id, event.reply_to, question,
    )


class _Reading(NamedTuple):
    """What link() learned from the text."""

    question: bool
    mentions: list[str]  # everyone it @mentions or names at its start, in order
    spoken_to: frozenset[str]  # those it speaks to at its start
    chatter: bool
    wordless: bool


def _read(event: MessagePosted, names: Mapping[str, str]) -> _Reading:
    text = read(event.text, names)
    mentions = [m for m in dict.fromkeys(event.mentions) if m != event.author]
    named = text.named if text.named != event.author else None
    if named and named not in mentions:
        mentions.insert(0, named)
    # Without the text (Discord without the content intent) every mention counts as speaking to that person.
    spoken_to = set(mentions) if event.text is None else {*text.leading, *([named] if named else [])}
    spoken_to.discard(event.author)
    return _Reading(text.question, mentions, frozenset(spoken_to), text.chatter, text.wordless)


def _answers(event: MessagePosted, window: Window, reading: _Reading) -> list[Question]:
    if reading.chatter:
        return []
    explicit: list[Question] = []
    implicit: list[tuple[int, Question]] = []  # (rule a/b/c as 0/1/2, question)
    unthreaded_event = event.thread_id is None and event.reply_to is None
    for q in window.open_questions:
        if q.asker == event.author or q.answered_at is not None or not q.asked_at < event.at <= q.deadline:
            continue
        if q.addressee not in (OPEN, event.author) or (reading.spoken_to and q.asker not in reading.spoken_to):
            continue
        if event.reply_to == q.message_id or (event.thread_id is not None and event.thread_id in (
                q.thread_id or q.message_id, q.message_id)):
            explicit.append(q)
            continue
        if not unthreaded_event or q.thread_id is not None or q.channel != event.channel or reading.wordless:
            continue
        waited = event.at - q.asked_at
        if q.addressee == event.author and waited <= ADDRESSED_WINDOW:
            implicit.append((0, q))
        elif waited <= CHAT_WINDOW and q.asker in reading.spoken_to:
            implicit.append((1, q))
        elif waited <= CHAT_WINDOW and not reading.spoken_to and not reading.question:
            implicit.append((2, q))
    if implicit:
        rule = min(r for r, _ in implicit)
        explicit.append(max((q for r, q in implicit if r == rule), key=lambda q: q.asked_at))
    return explicit


def _addressees(event: MessagePosted, window: Window, mentions: list[str], answered: list[Question]) -> list[str]:
    if mentions:
        return mentions
    if window.parent and window.parent.author != event.author:
        return [window.parent.author]
    if event.thread_id is not None:
        posters = {m.author for m in (window.root, *window.recent) if m}
        others = posters - {event.author}
        return [others.pop()] if event.author in posters and len(others) == 1 else [OPEN]
    askers = list(dict.fromkeys(q.asker for q in answered))
    return askers[:1] or [OPEN]


def link(event: MessagePosted, window: Window, names: Mapping[str, str] | None = None) -> Outcome:
    reading = _read(event, names or {})
    answered = _answers(event, window, reading)

    contacts: dict[str, str] = {}  # target -> kind; first reason wins

    def contact(target: str, kind: str) -> None:
        if target and target != event.author:
            contacts.setdefault(target, kind)

    questions: list[Question] = []
    if reading.question:
        for addressee in _addressees(event, window, reading.mentions, answered):
            questions.append(Question(
                event.workspace, event.message_id, event.channel, event.thread_id, event.author,
                addressee, event.at, event.at + QUESTION_WINDOW,
            ))
            contact(addressee, "question")
    answers = tuple(
        Answer(event.workspace, q.message_id, q.addressee, event.author, event.at, event.message_id)
        for q in answered
    )
    for q in answered:
        contact(q.asker, "answer")
    if window.parent:
        contact(window.parent.author, "reply")
    for mentioned in reading.mentions:
        contact(mentioned, "mention")
    if event.thread_id is not None and window.root:
        contact(window.root.author, "thread")
    elif event.thread_id is None and window.recent:
        previous = window.recent[-1]
        if previous.author != event.author and event.at - previous.at <= ADJACENT_WINDOW:
            contact(previous.author, "chat")
    return Outcome(
        seen(event, reading.question),
        tuple(questions),
        answers,
        tuple(
            Contact(event.workspace, event.message_id, event.author, target, event.at, kind)
            for target, kind in contacts.items()
        ),
    )


def apply_answers(questions: Iterable[Question], answers: Iterable[Answer]) -> list[Question]:
    """Questions with these answers applied; the first answer to a question wins."""
    by_key = {(a.question_id, a.addressee): a for a in reversed(list(answers))}
    result = []
    for q in questions:
        answer = by_key.get((q.message_id, q.addressee))
        if answer and q.answered_at is None:
            q = replace(q, addressee=answer.answerer, answered_at=answer.at, answer_id=answer.answer_id)
        result.append(q)
    return result


_Key = tuple[str, str, str]  # (workspace, question message id, addressee)
SWEEP_EVERY = 10_000  # remembered messages between sweeps of expired questions


@dataclass
class Memory:
    """A conversation's recent past held in memory: how the importer and the in-memory store build Windows.

    Holds every message id seen (for replies to old messages) but only RECENT_LIMIT recent messages per
    thread or channel, and the open questions whose deadline has not passed, indexed by what can answer them.
    Remembering a message a second time changes nothing.
    """

    messages: dict[tuple[str, str], SeenMessage] = field(default_factory=dict)
    recent: dict[tuple[str, str, str | None], deque[SeenMessage]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=RECENT_LIMIT))
    )
    open: dict[_Key, Question] = field(default_factory=dict)
    # Indexes of `open` by what can answer a question; they keep answered and expired keys until a sweep.
    by_message: dict[tuple[str, ...], list[_Key]] = field(default_factory=lambda: defaultdict(list))
    by_thread: dict[tuple[str, ...], list[_Key]] = field(default_factory=lambda: defaultdict(list))
    put_to: dict[tuple[str, ...], list[_Key]] = field(default_factory=lambda: defaultdict(list))  # unthreaded
    chat: dict[tuple[str, ...], list[_Key]] = field(default_factory=lambda: defaultdict(list))  # unthreaded
    since_sweep: int = 0

    def window(self, event: MessagePosted) -> Window:
        ws = event.workspace
        parent = self.messages.get((ws, event.reply_to)) if event.reply_to else None
        root = self.messages.get((ws, event.thread_id)) if event.thread_id else None
        recent = self._recent(event)
        keys: list[_Key] = []
        if event.reply_to:
            keys += self.by_message.get((ws, event.reply_to), ())
        if event.thread_id:
            keys += self.by_thread.get((ws, event.thread_id), ())
        else:
            keys += self.put_to.get((ws, event.channel, event.author), ())
            for key in reversed(self.chat.get((ws, event.channel), ())):
                q = self.open.get(key)
                if q is None:
                    continue
                if event.at - q.asked_at > CHAT_WINDOW:
                    break
                keys.append(key)
        found = {key: q for key in keys if (q := self.open.get(key)) and q.asked_at < event.at <= q.deadline}
        questions = sorted(found.values(), key=lambda q: q.asked_at) if len(found) > 1 else found.values()
        return Window(parent, root, recent, tuple(questions))

    def _recent(self, event: MessagePosted) -> tuple[SeenMessage, ...]:
        scope = self.recent.get((event.workspace, event.channel, event.thread_id))
        if not scope:
            return ()
        horizon = event.at - CHAT_WINDOW if event.thread_id is None else None
        picked = []
        for m in reversed(scope):  # newest first; remember() keeps each deque in time order
            if horizon is not None and m.at < horizon:
                break
            if m.at <= event.at and m.message_id != event.message_id:
                picked.append(m)
        picked.reverse()
        return tuple(picked)

    @classmethod
    def seeded(cls, messages: Iterable[SeenMessage], questions: Iterable[Question]) -> Memory:
        """A Memory holding a stored snapshot: messages (those the open questions were asked in among them) and
        the questions still open, as if it had seen them happen. The live path starts every batch from one."""
        memory = cls()
        asked: dict[tuple[str, str], list[Question]] = defaultdict(list)
        for q in questions:
            asked[(q.workspace, q.message_id)].append(q)
        for m in sorted(messages, key=lambda m: m.at):
            memory.remember(Outcome(m, tuple(asked.pop((m.workspace, m.message_id), ()))))
        return memory

    def remember(self, outcome: Outcome) -> None:
        m = outcome.message
        if (m.workspace, m.message_id) in self.messages:
            return
        self.messages[(m.workspace, m.message_id)] = m
        scope = self.recent[(m.workspace, m.channel, m.thread_id)]
        if scope and m.at < scope[-1].at:  # a late delivery: keep the deque in time order
            if len(scope) == scope.maxlen:
                scope.popleft()
            scope.insert(sum(1 for seen_before in scope if seen_before.at <= m.at), m)
        else:
            scope.append(m)
        for a in outcome.answers:
            self.open.pop((a.workspace, a.question_id, a.addressee), None)
        for q in outcome.questions:
            key = (q.workspace, q.message_id, q.addressee)
            self.open[key] = q
            self.by_message[(q.workspace, q.message_id)].append(key)
            self.by_thread[(q.workspace, q.thread_id or q.message_id)].append(key)
            if q.thread_id is None:
                self.chat[(q.workspace, q.channel)].append(key)
                if q.addressee != OPEN:
                    self.put_to[(q.workspace, q.channel, q.addressee)].append(key)
        self.since_sweep += 1
        if self.since_sweep >= SWEEP_EVERY:
            self.sweep(m.at)

    def sweep(self, now: datetime) -> None:
        """Forget questions answered or past their deadline at `now`, so that memory stays bounded."""
        self.since_sweep = 0
        self.open = {key: q for key, q in self.open.items() if q.deadline >= now}
        for index in (self.by_message, self.by_thread, self.put_to, self.chat):
            for k, keys in list(index.items()):
                if alive := [key for key in keys if key in self.open]:
                    index[k] = alive
                else:
                    del index[k]
