"""From one message to the question graph: who asked whom, who answered, who was in contact.

`link()` is pure: it takes a message, the little context around it (a `Window`) and returns an `Outcome`
of metadata records. The text is read once, for `bot.questions`, and is not part of any record.

Addressing a question, first rule that applies:
1. the people it @mentions or names at its start ("bob: did you ...");
2. the author of the message it replies to;
3. in a thread: the thread's starter, or if the asker started it, the last other person who posted there;
4. in unthreaded chat, right after answering someone's question: that person (a question back);
5. otherwise it is open, addressed to whoever answers it first.

Linking an answer: a later message by the addressee (or, for an open question, by anyone but the asker)
- that replies to the question, or posts in the thread the question is in or started: within QUESTION_WINDOW;
- in unthreaded chat of the same channel: within CHAT_WINDOW, or within QUESTION_WINDOW if it replies to or
  mentions the asker. A message that @mentions only other people answers nobody's open question.
A question still unanswered at its deadline (asked_at + its window) counts as unanswered.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.events import MessagePosted
from bot.questions import addressed_by_name, is_question

QUESTION_WINDOW = timedelta(days=7)
CHAT_WINDOW = timedelta(minutes=20)
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
    open_questions: tuple[Question, ...] = ()  # unanswered in this channel, deadline not passed


def seen(event: MessagePosted, question: bool) -> SeenMessage:
    return SeenMessage(
        event.workspace, event.channel, event.message_id, event.author, event.at,
        event.thread_id, event.reply_to, question,
    )


def _answers(event: MessagePosted, window: Window, mentions: list[str]) -> list[Question]:
    answered: list[Question] = []
    for q in window.open_questions:
        if q.asker == event.author or q.answered_at is not None or event.at <= q.asked_at:
            continue
        if q.addressee not in (OPEN, event.author) or event.at > q.deadline:
            continue
        replies_to_q = event.reply_to == q.message_id or (
            event.thread_id is not None and event.thread_id in (q.message_id, q.thread_id)
        )
        explicit = replies_to_q or q.asker in mentions
        unthreaded = q.thread_id is None and event.thread_id is None and event.channel == q.channel
        if mentions and q.asker not in mentions:
            continue  # talking to someone else
        if explicit or (unthreaded and event.at - q.asked_at <= CHAT_WINDOW and event.reply_to is None):
            answered.append(q)
    return answered


def _addressees(event: MessagePosted, window: Window, mentions: list[str], answered: list[Question]) -> list[str]:
    if mentions:
        return mentions
    if window.parent and window.parent.author != event.author:
        return [window.parent.author]
    if event.thread_id is not None:
        if window.root and window.root.author != event.author:
            return [window.root.author]
        for message in reversed(window.recent):
            if message.author != event.author:
                return [message.author]
        return [OPEN]
    askers = list(dict.fromkeys(q.asker for q in answered))
    return askers[:1] or [OPEN]


def _window_for(event: MessagePosted, question: bool, mentions: list[str]) -> timedelta:
    explicit = event.thread_id is not None or event.reply_to is not None or bool(mentions)
    return QUESTION_WINDOW if explicit or not question else CHAT_WINDOW


def link(event: MessagePosted, window: Window, names: Mapping[str, str] | None = None) -> Outcome:
    question = is_question(event.text)
    mentions = [m for m in dict.fromkeys(event.mentions) if m != event.author]
    named = addressed_by_name(event.text, names or {})
    if named and named != event.author and named not in mentions:
        mentions.insert(0, named)
    answered = _answers(event, window, mentions)

    contacts: dict[str, str] = {}  # target -> kind; first reason wins

    def contact(target: str, kind: str) -> None:
        if target and target != event.author:
            contacts.setdefault(target, kind)

    questions: list[Question] = []
    if question:
        deadline = event.at + _window_for(event, question, mentions)
        for addressee in _addressees(event, window, mentions, answered):
            questions.append(Question(
                event.workspace, event.message_id, event.channel, event.thread_id, event.author,
                addressee, event.at, deadline,
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
    for mentioned in mentions:
        contact(mentioned, "mention")
    if event.thread_id is not None and window.root:
        contact(window.root.author, "thread")
    elif event.thread_id is None and window.recent:
        previous = window.recent[-1]
        if previous.author != event.author and event.at - previous.at <= ADJACENT_WINDOW:
            contact(previous.author, "chat")
    return Outcome(
        seen(event, question),
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


@dataclass
class Memory:
    """A conversation's recent past held in memory: how the importer and the in-memory store build Windows.

    Holds every message id seen (for replies to old messages) but only RECENT_LIMIT recent messages per
    thread or channel and the questions whose deadline has not passed.
    """

    messages: dict[tuple[str, str], SeenMessage] = field(default_factory=dict)
    recent: dict[tuple[str, str, str | None], deque[SeenMessage]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=RECENT_LIMIT))
    )
    open: dict[tuple[str, str], list[Question]] = field(default_factory=lambda: defaultdict(list))

    def window(self, event: MessagePosted) -> Window:
        ws = event.workspace
        parent = self.messages.get((ws, event.reply_to)) if event.reply_to else None
        root = self.messages.get((ws, event.thread_id)) if event.thread_id else None
        recent = tuple(
            m for m in self.recent.get((ws, event.channel, event.thread_id), ())
            if event.thread_id is not None or event.at - m.at <= CHAT_WINDOW
        )
        key = (ws, event.channel)
        still_open = [q for q in self.open.get(key, ()) if q.answered_at is None and q.deadline >= event.at]
        if key in self.open:
            self.open[key] = still_open
        return Window(parent, root, recent, tuple(still_open))

    def remember(self, outcome: Outcome) -> None:
        m = outcome.message
        self.messages[(m.workspace, m.message_id)] = m
        self.recent[(m.workspace, m.channel, m.thread_id)].append(m)
        key = (m.workspace, m.channel)
        if outcome.answers:
            self.open[key] = apply_answers(self.open[key], outcome.answers)
        self.open[key].extend(outcome.questions)
