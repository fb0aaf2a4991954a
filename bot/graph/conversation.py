"""From one message to the question graph: who asked whom, who answered, who was in contact.

`link()` is pure: it takes a message, the little context around it (a `Window`) and returns an `Outcome`
of metadata records. The text is read once, for `bot.questions`, and is not part of any record.
Measured on labelled transcripts: benchmarks/question_graph.py.

Addressing a question, first rule that applies:
1. the people it @mentions, or names at its start ("bob: did you ...", "yuki is that ...");
2. the author of the message it replies to;
3. in a thread where the asker and exactly one other person have posted (root included): that person, a
   conversation between two; otherwise open (a newcomer's question in an announcement's thread is for anyone);
4. in unthreaded chat, when the message also answers someone's question: that person (a question back), and open
   as well, so that someone else who replies to it answers it too ("which driver?" answered by a bystander; the
   ranker's link is a guess, and the one it was put to need not be the one who knows);
5. otherwise it is open, for anyone to answer. A flat-chat question that calls on the room ("lunch at noon,
   anyone?") is not given to the ranker at all: it starts something, it replies to nothing.

Answering a question: a later message by its addressee, or for an open question by anyone but the asker, that
replies to it. An open question may have several answerers, each an asker -> answerer edge (on Molweni several
people answer the same question); once it has one, a further answer must reply to it (in a thread, talk moves on)
and not be a question back (in flat chat one that opens as an acknowledgement, "ok, can you open the log?",
asks back too). Never chatter (thanks, "lol", "brb", see bot.questions.is_chatter), never a message
that speaks at its start to someone other than the asker ("<@cid> any idea?"); someone mentioned in passing
("tag <@gus>") does not count as spoken to. What a message replies to:
- in a thread or a reply chain, what the platform says: a reply to the question, or a message in the thread the
  question is in or started, within QUESTION_WINDOW; emoji alone count here (a thumbs-up to "12:30 ok?");
- in unthreaded chat, the earlier message that the reply ranker (bot.reply_model, trained on human-annotated chat)
  picks with confidence, or none. Being next to someone in a busy channel is not a reply.
Every question's deadline is asked_at + QUESTION_WINDOW; unanswered then, it counts as unanswered.
Without the text (Discord without the content intent) nothing is a question and every mention counts as spoken to.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import islice
from typing import NamedTuple

from bot.events import MessagePosted
from bot.graph import reply_model
from bot.graph.questions import read
from bot.graph.reply_model import CANDIDATES, HORIZON, Said

QUESTION_WINDOW = timedelta(days=7)
RECENT_LIMIT = 20  # messages of a thread kept for "a conversation between two"
OPEN = ""  # the addressee of an open question: whoever answers it (each answerer gets a question of their own)
RANK_BATCH = 512  # flat-chat messages scored in one call of the reply ranker
# Openings that acknowledge rather than answer: in flat chat "ok, can you open the log?" asks back, "yes, since 9.
# are you deploying?" answers first (on Molweni's fitting half the first kind are not annotated as answers). Threads
# and replies keep reading both as answers.
_ACKNOWLEDGING = frozenset({"ok", "okay", "k", "thanks", "thx", "ty", "np"})

# (message, its candidate parents oldest first) -> the id each replies to, or None.
Ranker = Callable[[Sequence[tuple[Said, Sequence[Said]]]], list[str | None]]


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
    # Flat chat only, where the message can be a candidate parent: whom it speaks to at its start and whom it
    # mentions or names. Kept (as ids) so that the reply ranker sees them in another process or after a restart.
    to: frozenset[str] = frozenset()
    mentions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Question:
    workspace: str
    message_id: str
    channel: str
    thread_id: str | None
    asker: str
    addressee: str  # OPEN for anyone; each answerer of an open question has a Question of their own
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
    recent: tuple[SeenMessage, ...] = ()  # the thread's latest messages, oldest first
    # Unanswered questions this message could answer (those it replies to, those of its thread), oldest first.
    open_questions: tuple[Question, ...] = ()
    inferred: bool = False  # the parent is the reply ranker's pick in flat chat, not the platform's


def seen(event: MessagePosted, text: Reading) -> SeenMessage:
    addressing = flat(event)
    return SeenMessage(
        event.workspace, event.channel, event.message_id, event.author, event.at,
        event.thread_id, event.reply_to, text.question,
        text.spoken_to if addressing else frozenset(), frozenset(text.mentions) if addressing else frozenset(),
    )


class Reading(NamedTuple):
    """What link() learned from the text, and the message as the reply ranker sees it."""

    question: bool
    mentions: list[str]  # everyone it @mentions or names at its start, in order
    spoken_to: frozenset[str]  # those it speaks to at its start
    chatter: bool
    wordless: bool
    said: Said


def reading(event: MessagePosted, names: Mapping[str, str]) -> Reading:
    text = read(event.text, names)
    mentions = [m for m in dict.fromkeys(event.mentions) if m != event.author]
    named = text.named if text.named != event.author else None
    if named and named not in mentions:
        mentions.insert(0, named)
    # Without the text (Discord without the content intent) every mention counts as speaking to that person.
    spoken_to = set(mentions) if event.text is None else {*text.leading, *([named] if named else [])}
    spoken_to.discard(event.author)
    return Reading(text.question, mentions, frozenset(spoken_to), text.chatter, text.wordless,
                   reply_model.said(event, text, frozenset(spoken_to), mentions))


def _asks(reading: Reading, inferred: bool) -> bool:
    """A question that does not open as an answer ("which version?"; not "yes, since 9. are you deploying?"). In flat
    chat (`inferred`: linked by the ranker) one that opens with an acknowledgement asks too ("ok, which one?")."""
    said = reading.said
    opens = reply_model.opens_as_answer(said) and not (inferred and said.opening in _ACKNOWLEDGING)
    return reading.question and not opens


def _answers(event: MessagePosted, window: Window, reading: Reading) -> list[Question]:
    if reading.chatter or (window.inferred and reading.wordless):
        return []
    replied = event.reply_to or (window.parent.message_id if window.inferred and window.parent else None)
    # Who has answered the open questions in view already (their own answered questions come with them).
    already = {(q.message_id, q.addressee) for q in window.open_questions if q.addressee != OPEN and q.answered_at}
    found = []
    for q in window.open_questions:
        if q.asker == event.author or not q.asked_at < event.at <= q.deadline:
            continue
        if q.addressee == OPEN and (q.message_id, event.author) in already:
            continue
        # A further answer to an open question replies to it, not merely in its thread (where talk moves on), and
        # is not a question back.
        if q.answered_at is not None and (q.addressee != OPEN or replied != q.message_id or (
                _asks(reading, window.inferred))):
            continue
        if q.addressee not in (OPEN, event.author) or (reading.spoken_to and q.asker not in reading.spoken_to):
            continue
        if replied == q.message_id or (event.thread_id is not None and event.thread_id in (
                q.thread_id or q.message_id, q.message_id)):
            found.append(q)
    # A question back is put to someone and open too: the reply of the one it was put to answers their own row.
    theirs = {q.message_id for q in found if q.addressee == event.author}
    return [q for q in found if not (q.addressee == OPEN and q.message_id in theirs)]


_ROOM = frozenset({"anyone", "anybody", "someone", "somebody", "everyone", "everybody", "folks", "y'all", "yall"})


def calls_on_room(text: Reading) -> bool:
    """A question to nobody in particular that calls on the room ("lunch at noon, anyone?")."""
    return bool(text.question and not text.mentions and text.said.words and text.said.words & _ROOM)


def _addressees(event: MessagePosted, window: Window, mentions: list[str], answered: list[Question]) -> list[str]:
    if mentions:
        return mentions
    if window.parent and window.parent.author != event.author and not window.inferred:
        return [window.parent.author]
    if event.thread_id is not None:
        posters = {m.author for m in (window.root, *window.recent) if m}
        others = posters - {event.author}
        return [others.pop()] if event.author in posters and len(others) == 1 else [OPEN]
    # In flat chat only an answer that asks back is put to someone (a ranker's link alone may be a new topic), and
    # it stays open to anyone who takes it up: on Molweni's fitting half, answered edges F 0.728 -> 0.739.
    return [*list(dict.fromkeys(q.asker for q in answered))[:1], OPEN]


def link(event: MessagePosted, window: Window, names: Mapping[str, str] | None = None,
         read_as: Reading | None = None) -> Outcome:
    """`read_as`: the message's Reading when the caller has it already (link_all reads each message once)."""
    text = read_as or reading(event, names or {})
    answered = _answers(event, window, text)

    contacts: dict[str, str] = {}  # target -> kind; first reason wins

    def contact(target: str, kind: str) -> None:
        if target and target != event.author:
            contacts.setdefault(target, kind)

    questions: list[Question] = []
    if text.question:
        for addressee in _addressees(event, window, text.mentions, answered):
            questions.append(Question(
                event.workspace, event.message_id, event.channel, event.thread_id, event.author,
                addressee, event.at, event.at + QUESTION_WINDOW,
            ))
            contact(addressee, "question")
    # In flat chat a question that replies to an open question asks back (a clarification, "which version?"); it
    # does not answer it, unless it opens as an answer ("yes, since 9. are you deploying?"). Asked in person, a
    # reply of any kind is the answer: nobody should be nudged about a question they took up.
    asks_back = window.inferred and _asks(text, inferred=True)
    taken_up = [q for q in answered if not (asks_back and q.addressee == OPEN)]
    answers = tuple(
        Answer(event.workspace, q.message_id, q.addressee, event.author, event.at, event.message_id)
        for q in taken_up
    )
    for q in taken_up:
        contact(q.asker, "answer")
    if window.parent:
        contact(window.parent.author, "inferred" if window.inferred else "reply")
    for mentioned in text.mentions:
        contact(mentioned, "mention")
    if event.thread_id is not None and window.root:
        contact(window.root.author, "thread")
    return Outcome(
        seen(event, text),
        tuple(questions),
        answers,
        tuple(
            Contact(event.workspace, event.message_id, event.author, target, event.at, kind)
            for target, kind in contacts.items()
        ),
    )


def apply_answers(questions: Iterable[Question], answers: Iterable[Answer]) -> list[Question]:
    """Questions with these answers applied. A question put to someone is answered once, by its first answer. An
    open question keeps its addressee OPEN (answered at its first answer, so that it is not reported waiting) and
    each of its answerers gets an answered question of their own, asker -> answerer, once."""
    questions = list(questions)
    first: dict[tuple[str, str, str], Answer] = {}
    to_open: dict[tuple[str, str], list[Answer]] = defaultdict(list)  # a batch holds hundreds of each
    for a in answers:
        first.setdefault((a.workspace, a.question_id, a.addressee), a)
        if a.addressee == OPEN:
            to_open[(a.workspace, a.question_id)].append(a)
    have = {(q.workspace, q.message_id, q.addressee) for q in questions}
    result = []
    for q in questions:
        answer = first.get((q.workspace, q.message_id, q.addressee))
        if answer and q.answered_at is None:
            q = replace(q, answered_at=answer.at, answer_id=answer.answer_id)
        result.append(q)
        if q.addressee != OPEN:
            continue
        for a in to_open.get((q.workspace, q.message_id), ()):
            key = (q.workspace, q.message_id, a.answerer)
            if key not in have:
                have.add(key)
                result.append(replace(q, addressee=a.answerer, answered_at=a.at, answer_id=a.answer_id))
    return result


def addressing_kept(messages: Iterable[SeenMessage]) -> set[tuple[str, str]]:
    """(workspace, message id) of the messages of a batch whose addressing is worth storing: those that can still be
    a candidate parent, within HORIZON of their channel's latest in the batch (of a long history import, the last
    hour). Only the reply ranker reads it, and only of candidates."""
    messages = list(messages)
    newest: dict[tuple[str, str], datetime] = {}
    for m in messages:
        key = (m.workspace, m.channel)
        newest[key] = max(newest.get(key, m.at), m.at)
    return {(m.workspace, m.message_id) for m in messages
            if (m.to or m.mentions) and m.at >= newest[(m.workspace, m.channel)] - HORIZON}


def flat(event: MessagePosted) -> bool:
    """Unthreaded and not an explicit reply: what the reply ranker reads."""
    return event.thread_id is None and event.reply_to is None


_Key = tuple[str, str, str]  # (workspace, question message id, addressee)
SWEEP_EVERY = 10_000  # remembered messages between sweeps of expired questions
HEARD_LIMIT = 50_000  # flat-chat messages whose reading a Hearing keeps


class Hearing:
    """The latest flat-chat messages as the ranker saw them, words included, in this process's memory only.

    The live path links each batch from a stored snapshot, which has no text; this lets the next batch's
    candidates keep their words. Bounded, never written anywhere; a restart forgets it (candidates from before
    then are scored without their words)."""

    def __init__(self, limit: int = HEARD_LIMIT) -> None:
        self.limit = limit
        self.said: OrderedDict[tuple[str, str], Said] = OrderedDict()

    def get(self, workspace: str, message_id: str) -> Said | None:
        return self.said.get((workspace, message_id))

    def keep(self, workspace: str, said: Iterable[Said]) -> None:
        for s in said:
            self.said[(workspace, s.message_id)] = s
            self.said.move_to_end((workspace, s.message_id))
        while len(self.said) > self.limit:
            self.said.popitem(last=False)

    def forget(self, workspace: str, person: Callable[[str], bool] = lambda _: True) -> None:
        """Drop what is held of a workspace's chat, or of the people `person` picks: their messages, and their ids
        where others' messages spoke to or named them (as the stored addressees are erased)."""
        for key, s in list(self.said.items()):
            if key[0] != workspace:
                continue
            if person(s.author):
                del self.said[key]
            elif any(map(person, s.people)):
                self.said[key] = replace(s, to=_without(s.to, person), mentions=_without(s.mentions, person),
                                         named=_without(s.named, person))


def _without(people: frozenset[str], person: Callable[[str], bool]) -> frozenset[str]:
    return frozenset(p for p in people if not person(p))


@dataclass
class Memory:
    """A conversation's recent past held in memory: how the importer and the in-memory store build Windows.

    Holds every message id seen (for replies to old messages), RECENT_LIMIT recent messages per thread, the
    CANDIDATES latest flat-chat messages per channel as the reply ranker sees them, and the open questions whose
    deadline has not passed, indexed by what can answer them. Remembering a message a second time changes nothing.
    """

    messages: dict[tuple[str, str], SeenMessage] = field(default_factory=dict)
    recent: dict[tuple[str, str, str], deque[SeenMessage]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=RECENT_LIMIT))
    )
    flat: dict[tuple[str, str], deque[Said]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=CANDIDATES))
    )
    open: dict[_Key, Question] = field(default_factory=dict)
    # Indexes of `open` by what can answer a question; they keep answered and expired keys until a sweep.
    by_message: dict[tuple[str, str], list[_Key]] = field(default_factory=lambda: defaultdict(list))
    by_thread: dict[tuple[str, str], list[_Key]] = field(default_factory=lambda: defaultdict(list))
    since_sweep: int = 0

    def window(self, event: MessagePosted, inferred: str | None = None) -> Window:
        """`inferred`: the message the reply ranker says a flat-chat message replies to."""
        ws = event.workspace
        replied = event.reply_to or inferred
        parent = self.messages.get((ws, replied)) if replied else None
        root = self.messages.get((ws, event.thread_id)) if event.thread_id else None
        recent = self._recent(event) if event.thread_id else ()
        keys: list[_Key] = []
        if replied:
            keys += self.by_message.get((ws, replied), ())
        if event.thread_id:
            keys += self.by_thread.get((ws, event.thread_id), ())
        found = {key: q for key in keys if (q := self.open.get(key)) and q.asked_at < event.at <= q.deadline}
        questions = sorted(found.values(), key=lambda q: q.asked_at) if len(found) > 1 else found.values()
        return Window(parent, root, recent, tuple(questions), inferred is not None and not event.reply_to)

    def _recent(self, event: MessagePosted) -> tuple[SeenMessage, ...]:
        scope = self.recent.get((event.workspace, event.channel, event.thread_id or ""))
        return tuple(m for m in scope or () if m.at <= event.at and m.message_id != event.message_id)

    def candidates(self, event: MessagePosted) -> list[Said]:
        """The flat-chat messages before `event` in its channel that it may reply to, oldest first."""
        scope = self.flat.get((event.workspace, event.channel))
        if not scope:
            return []
        # Kept in time order, so when its ends are in reach all of it is, and nothing is the event itself.
        if scope[-1].ts < event.at.timestamp() and scope[0].ts >= event.at.timestamp() - HORIZON.total_seconds():
            return list(scope)
        return within(scope, event)

    @classmethod
    def seeded(cls, messages: Iterable[SeenMessage], questions: Iterable[Question],
               hearing: Hearing | None = None) -> Memory:
        """A Memory holding a stored snapshot: messages (those the open questions were asked in among them) and
        the questions still open, as if it had seen them happen. The live path starts every batch from one;
        `hearing` gives back the words of flat-chat messages this process read before."""
        memory = cls()
        asked: dict[tuple[str, str], list[Question]] = defaultdict(list)
        for q in questions:
            asked[(q.workspace, q.message_id)].append(q)
        for m in sorted(messages, key=lambda m: m.at):
            said = (hearing.get(m.workspace, m.message_id) if hearing else None) or Said(
                m.message_id, m.author, m.at, m.to, m.mentions, question=m.is_question)
            memory.remember(Outcome(m, tuple(asked.pop((m.workspace, m.message_id), ()))), said)
        return memory

    def remember(self, outcome: Outcome, said: Said | None = None) -> None:
        m = outcome.message
        if (m.workspace, m.message_id) in self.messages:
            return
        self.messages[(m.workspace, m.message_id)] = m
        if m.thread_id is not None:
            _insert_in_order(self.recent[(m.workspace, m.channel, m.thread_id)], m)
        elif m.reply_to is None:
            _insert_in_order(self.flat[(m.workspace, m.channel)], said or Said(
                m.message_id, m.author, m.at, m.to, m.mentions, question=m.is_question))
        for a in outcome.answers:
            key = (a.workspace, a.question_id, a.addressee)
            if a.addressee != OPEN:
                self.open.pop(key, None)
            elif q := self.open.get(key):  # open to more answerers; held as apply_answers stores them
                for held in apply_answers([q], [a]):
                    self._hold(held)
        for q in outcome.questions:
            self._hold(q)
        self.since_sweep += 1
        if self.since_sweep >= SWEEP_EVERY:
            self.sweep(m.at)

    def _hold(self, q: Question) -> None:
        key = (q.workspace, q.message_id, q.addressee)
        if key not in self.open:
            self.by_message[(q.workspace, q.message_id)].append(key)
            self.by_thread[(q.workspace, q.thread_id or q.message_id)].append(key)
        self.open[key] = q

    def sweep(self, now: datetime) -> None:
        """Forget questions answered or past their deadline at `now`, so that memory stays bounded."""
        self.since_sweep = 0
        self.open = {key: q for key, q in self.open.items() if q.deadline >= now}
        for index in (self.by_message, self.by_thread):
            for k, keys in list(index.items()):
                if alive := [key for key in keys if key in self.open]:
                    index[k] = alive
                else:
                    del index[k]


def _insert_in_order(scope: deque[SeenMessage] | deque[Said], item: SeenMessage | Said) -> None:
    """Append, or for a late delivery insert in time order (dropping the oldest when full)."""
    if scope and item.at < scope[-1].at:
        if len(scope) == scope.maxlen:
            scope.popleft()
        scope.insert(sum(1 for before in scope if before.at <= item.at), item)  # type: ignore[arg-type]
    else:
        scope.append(item)  # type: ignore[arg-type]


def within(said: Iterable[Said], event: MessagePosted) -> list[Said]:
    """The messages of `said` that `event` may reply to: not itself, not later, not over HORIZON before it.
    Compared as numbers: this runs for every candidate of every flat-chat message."""
    now = event.at.timestamp()
    since, mid = now - HORIZON.total_seconds(), event.message_id
    return [s for s in said if since <= s.ts <= now and s.message_id != mid]


def link_all(memory: Memory, events: Iterable[MessagePosted], names: Mapping[str, str],
             ranker: Ranker | None = None) -> Iterator[Outcome]:
    """Each event linked against what came before it, in the order given, and remembered.

    Flat-chat messages are ranked in batches of RANK_BATCH: a message's candidates are the channel's latest
    flat-chat messages, those earlier in the same batch included (the ranker's features need no linking)."""
    rank = ranker or reply_model.parents
    stream = iter(events)
    while chunk := list(islice(stream, RANK_BATCH)):
        readings = [reading(e, names) for e in chunk]
        pending: dict[tuple[str, str], list[Said]] = {}
        asked: list[tuple[Said, Sequence[Said]]] = []
        who: list[int] = []
        for i, (event, text) in enumerate(zip(chunk, readings, strict=True)):
            if not flat(event):
                continue
            key = (event.workspace, event.channel)
            # Events come in time order: the latest few of this chunk are all that can still be candidates.
            before = memory.candidates(event) + within(pending.get(key, [])[-2 * CANDIDATES:], event)
            # A call on the room starts something new: linked to whatever came before, it made its asker
            # "talking" with a stranger (IRC dev links P 0.716 -> 0.718, pairs P 0.920 -> 0.923; Molweni unchanged).
            if before and not calls_on_room(text):
                asked.append((text.said, before[-CANDIDATES:]))
                who.append(i)
            pending.setdefault(key, []).append(text.said)
        parents: dict[int, str] = {}
        if asked:
            parents = {i: p for i, p in zip(who, rank(asked), strict=True) if p is not None}
        for i, (event, text) in enumerate(zip(chunk, readings, strict=True)):
            outcome = link(event, memory.window(event, parents.get(i)), names, text)
            memory.remember(outcome, text.said)
            yield outcome
