"""Which earlier message does a message in flat chat reply to? A learned ranker over the channel's recent past.

In a thread or an explicit reply the platform says what a message answers. In unthreaded chat (IRC, a busy
Discord channel, Slack's top level) several conversations interleave and the message just before is the parent
only a quarter of the time. Each candidate parent among the previous CANDIDATES messages of the channel is scored
by a gradient-boosted model (LightGBM, exported to ONNX and run by onnxruntime) from what the two messages are,
not what they say: distance in messages and time, who speaks to whom (@mentions, "name: ..."), each author's
recent addressees, question form, and how many content words the two share. The best candidate by another author
is the parent when its score clears the threshold chosen on held-apart data; otherwise the message has none.

Without text (Discord without the Message Content intent) the text features are missing and a second model,
trained the same way without them, decides from structure alone.

The words of a message live only in memory, in a `Said`, for as long as the message can still be a candidate;
nothing of them is stored. Trained by `python -m training.reply_model DATA` (provenance in
bot/data/reply_model.json); measured by benchmarks/real_chat.py.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from bot.events import MessagePosted
from bot.graph.questions import Reading

CANDIDATES = 30  # on IRC train 97.5% of replies between people point within the previous 30 messages (98.9%: 50)
# Older messages are not candidates, however quiet the channel: on IRC train 99.9% of replies between people came
# within 42 minutes (99% within 9), so the model has never seen a longer gap. Later answers still count when they
# mention or name the asker, or use a thread or a reply.
HORIZON = timedelta(hours=1)

_WORD = re.compile(r"[a-z0-9][a-z0-9_'+.\-]*[a-z0-9+]|[a-z0-9]")
_STOP = frozenset("""
a an the and or but if then so of to in on at by for with from as is are was were be been being am do does did
have has had it its it's this that these those there here i me my you your u we our they them their he him his
she her what which who whom how when where why can could would should will shall may might must not no yes
just also too very really ok okay well yeah yep lol hi hey hello thanks thank thx ty please pls any some all
get got know think like want need try use using one out up about into than only now don't i'm can't doesn't
you're it'll that's what's there's im dont cant
""".split())

FEATURES = (
    "distance", "other_rank", "log_seconds", "same_author",
    "to_candidate", "mentions_candidate", "candidate_to_me", "candidate_mentions_me",
    "speaks_to_someone", "candidate_speaks_to_someone", "speaks_to_other", "candidate_speaks_to_other",
    "my_posts_between", "candidate_author_posts_after", "authors_between", "exchanges_before",
    "my_last_spoke_to_candidate", "candidate_last_spoke_to_me", "newcomer",
    # from the text; missing (NaN) without it
    "is_question", "candidate_is_question", "shared_words", "shared_share", "words", "candidate_words",
    "is_chatter", "opens_as_answer", "opens_as_greeting", "opens_with_you", "opens_with_it",
)
TEXT_FEATURES = frozenset(FEATURES[FEATURES.index("is_question"):])
# How a message opens says whether it answers something or starts something.
_ANSWER_OPENERS = frozenset("""
yes yeah yep yup no nope nah sure agreed right exactly true correct ok okay k thanks thx ty np indeed same +1
probably maybe depends because try just use that's thats it's its
""".split())
_GREETINGS = frozenset("hi hello hey hiya morning evening anyone anybody somebody someone hallo greetings".split())
_YOU = frozenset("you your you're youre u ur".split())
_IT = frozenset("it it's its that that's thats this there there's".split())
_OPENING = re.compile(r"[a-z0-9+'][a-z0-9'+]*")
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[^>]*>[\s,:]*|@\S+[\s,:]+)+")
_LEADING_NAME = re.compile(r"^\s*[^\s:,]+\s*[:,]\s*")


@dataclass(frozen=True)
class Said:
    """What a flat-chat message is, as the ranker sees it. `words` is None when the text was not available."""

    message_id: str
    author: str
    at: datetime
    to: frozenset[str] = frozenset()  # whom it speaks to at its start
    mentions: frozenset[str] = frozenset()  # everyone it @mentions or names
    question: bool | None = None
    chatter: bool | None = None
    words: frozenset[str] | None = None
    opening: str = ""  # its first word, lower-cased (after a leading @name)
    # Derived once, read by every message that has this one among its candidates.
    ts: float = field(init=False, repr=False, compare=False)  # `at` as a number
    size: int = field(init=False, repr=False, compare=False)  # how many words; -1 without the text

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", self.at.timestamp())
        object.__setattr__(self, "size", -1 if self.words is None else len(self.words))


def words_of(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and not w.startswith("<"))


def opening_of(text: str, addressed: bool) -> str:
    """The first word after a leading <@mention>, "@name" or, when the message speaks to someone, "name:"."""
    rest = _LEADING_MENTIONS.sub("", text.lower(), count=1)
    if addressed:
        rest = _LEADING_NAME.sub("", rest, count=1)
    first = _OPENING.search(rest)
    return first.group(0) if first else ""


def said(event: MessagePosted, reading: Reading, to: frozenset[str], mentions: Sequence[str]) -> Said:
    if event.text is None:
        return Said(event.message_id, event.author, event.at, to, frozenset(mentions))
    return Said(event.message_id, event.author, event.at, to, frozenset(mentions), reading.question,
                reading.chatter, words_of(event.text), opening_of(event.text, bool(to)))


def _flag(value: bool | None) -> float:
    return math.nan if value is None else float(value)


def features(message: Said, candidates: Sequence[Said]) -> np.ndarray:
    """One row per candidate (oldest first, all before `message`) in FEATURES order.

    Built column by column from plain lists: this runs for every flat-chat message, fifty candidates each."""
    n = len(candidates)
    me, to, mentions, words = message.author, message.to, message.mentions, message.words
    authors = [c.author for c in candidates]
    # Counts of what came after each candidate, walking newest to oldest.
    mine_after, theirs_after, between, rank = [0] * n, [0] * n, [0] * n, [0] * n
    counts: dict[str, int] = {}
    mine = ranked = 0
    for k in range(n - 1, -1, -1):
        author = authors[k]
        mine_after[k] = mine
        seen = counts.get(author, 0)
        theirs_after[k] = seen
        between[k] = len(counts) - (me in counts) - (seen > 0 and author != me)
        if author == me:
            mine += 1
        else:
            ranked += 1
            rank[k] = ranked
        counts[author] = seen + 1
    # Who has been talking to whom lately, from the same window: each author's latest message, and exchanges.
    latest: dict[str, Said] = {}
    exchanges: dict[str, int] = {}
    for c in candidates:
        latest[c.author] = c
        if c.author == me:
            for other in c.to | c.mentions:
                exchanges[other] = exchanges.get(other, 0) + 1
        elif me in c.to or me in c.mentions:
            exchanges[c.author] = exchanges.get(c.author, 0) + 1
    my_last = latest.get(me)
    now = message.ts
    nan = math.nan
    speaks = bool(to)
    if words is None:
        shared = share = [nan] * n
        text = [nan] * 7
    else:
        size = len(words)
        shared = [nan if c.words is None else float(len(words & c.words)) for c in candidates]
        share = [nan if c.size < 0 else shared[k] / (min(size, c.size) or 1) for k, c in enumerate(candidates)]
        first = message.opening
        text = [_flag(message.question), len(words), _flag(message.chatter), first in _ANSWER_OPENERS,
                first in _GREETINGS, first in _YOU, first in _IT]
    columns = [
        range(n, 0, -1),
        rank,
        [math.log1p(now - c.ts if now > c.ts else 0.0) for c in candidates],
        [a == me for a in authors],
        [a in to for a in authors],
        [a in mentions for a in authors],
        [me in c.to for c in candidates],
        [me in c.mentions for c in candidates],
        [speaks] * n,
        [bool(c.to) for c in candidates],
        [len(to) > (a in to) for a in authors],
        [len(c.to) > (me in c.to) for c in candidates],
        mine_after,
        theirs_after,
        between,
        [exchanges.get(a, 0) for a in authors],
        [False] * n if my_last is None else [a in my_last.to or a in my_last.mentions for a in authors],
        [me in (last := latest[a]).to or me in last.mentions for a in authors],
        [float(my_last is None)] * n,
        [text[0]] * n,
        [_flag(c.question) for c in candidates],
        shared,
        share,
        [text[1]] * n,
        [nan if c.size < 0 else c.size for c in candidates],
        [text[2]] * n,
        [text[3]] * n,
        [text[4]] * n,
        [text[5]] * n,
        [text[6]] * n,
    ]
    return np.array(columns, dtype=np.float32).T if n else np.zeros((0, len(FEATURES)), np.float32)


@dataclass(frozen=True)
class ReplyModel:
    """The trained ranker: scores rows of FEATURES; `threshold` is the score a parent must reach."""

    session: Any  # onnxruntime.InferenceSession
    threshold: float
    input_name: str
    probability_output: str

    def scores(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        out = self.session.run([self.probability_output], {self.input_name: rows.astype(np.float32)})[0]
        # The converted classifier gives either an (n, 2) array or a list of {label: probability}.
        if isinstance(out, list):
            return np.array([row[1] for row in out], dtype=np.float32)
        return np.asarray(out, dtype=np.float32)[:, 1]

    def parents(self, batch: Sequence[tuple[Said, Sequence[Said]]]) -> list[str | None]:
        """For each (message, its candidates), the message id it replies to, or None. One model call a batch.

        Only candidates by someone else are scored: a row's score does not depend on the others, and a message
        never replies to its own author here."""
        blocks, others = [], []
        for message, candidates in batch:
            rows = features(message, candidates)
            keep = [k for k, c in enumerate(candidates) if c.author != message.author]
            blocks.append(rows[keep])
            others.append([candidates[k] for k in keep])
        scores = self.scores(np.concatenate(blocks) if blocks else np.zeros((0, len(FEATURES)), np.float32))
        result: list[str | None] = []
        start = 0
        for (message, _), candidates in zip(batch, others, strict=True):
            result.append(choose(message, candidates, scores[start:start + len(candidates)], self.threshold))
            start += len(candidates)
        return result


def choose(message: Said, candidates: Sequence[Said], scores: Sequence[float] | np.ndarray, threshold: float,
           ) -> str | None:
    """The parent among scored candidates: the best by another author that reaches the threshold; but a message
    that speaks to someone at its start replies to that person's best-scored message whatever its score (on IRC
    train, 89% of such messages reply to a message of the person they name, 1% to someone else's)."""
    best, best_score = None, threshold
    addressed = [k for k, c in enumerate(candidates) if c.author in message.to and c.author != message.author]
    if addressed:
        return candidates[max(addressed, key=lambda k: scores[k])].message_id
    for k, c in enumerate(candidates):
        if c.author != message.author and scores[k] >= best_score:
            best, best_score = c.message_id, scores[k]
    return best


def load(path: Any, threshold: float) -> ReplyModel:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(bytes(path.read_bytes()), options, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    return ReplyModel(session, threshold, session.get_inputs()[0].name,
                      next((o for o in outputs if "prob" in o), outputs[-1]))


@cache
def shipped(with_text: bool = True) -> ReplyModel | None:
    """The model in the package (with or without the text features), or None when none is shipped."""
    data = files("bot.data")
    card = data / "reply_model.json"
    if not card.is_file():
        return None
    meta = json.loads(card.read_text())
    variant = meta["with_text" if with_text else "without_text"]
    return load(data / variant["file"], float(variant["threshold"]))


def parents(batch: Sequence[tuple[Said, Sequence[Said]]]) -> list[str | None]:
    """The shipped models' picks: messages with their text by the full model, the others by the textless one."""
    result: list[str | None] = [None] * len(batch)
    for with_text in (True, False):
        model = shipped(with_text)
        picked = [i for i, (message, _) in enumerate(batch) if (message.words is not None) == with_text]
        if model is None or not picked:
            continue
        for i, parent in zip(picked, model.parents([batch[i] for i in picked]), strict=True):
            result[i] = parent
    return result
