"""Which earlier message does a message in flat chat reply to? A learned ranker over the channel's recent past.

In a thread or an explicit reply the platform says what a message answers. In unthreaded chat (IRC, a busy
Discord channel, Slack's top level) several conversations interleave and the message just before is the parent
only a quarter of the time. Each candidate parent among the previous CANDIDATES messages of the channel is scored
by gradient-boosted models (LightGBM, exported to ONNX and run by onnxruntime) from what the two messages are,
not what they say: distance in messages and time, who speaks to whom (@mentions, "name: ...") and who is named in
passing ("!grub | pabremer"), each author's recent addressees, question form, how many content words the two
share, and what the two are about (the cosine of their word vectors, WordVectors). A ranker (lambdarank: fitted to put
the parent first among a message's candidates) picks the best candidate by another author; a classifier (fitted on
each pair alone) gives the probability that this pick is the parent, and it is when that clears the threshold
chosen on held-apart data; otherwise the message has none. (The classifier alone, picking its own best, linked
worse: a pair's probability does not see the pair's rivals.)

Without text (Discord without the Message Content intent) the text features are missing and a second pair of
models, trained the same way without them, decides from structure alone.

The words of a message live only in memory, in a `Said`, for as long as the message can still be a candidate, and
its word vector only while its batch is ranked; nothing of them is stored. Trained by `python -m
training.reply_model DATA` (provenance in bot/data/reply_model.json); measured by benchmarks/real_chat.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files
from itertools import chain
from typing import Any

import numpy as np

from bot.events import MessagePosted
from bot.graph.questions import Reading

CANDIDATES = 30  # on IRC train 97.5% of replies between people point within the previous 30 messages (98.9%: 50)
# Older messages are not candidates, however quiet the channel: on IRC train 99.9% of replies between people came
# within 42 minutes (99% within 9), so the model has never seen a longer gap. Later answers still count when they
# mention or name the asker, or use a thread or a reply.
HORIZON = timedelta(hours=1)
# Of those, only the NEAREST latest messages by others are scored, and older ones that speak to or of the author or
# that the author speaks to: on IRC train they hold 98.8% of replies between people (dev 99.4%) in half the rows.
NEAREST = 12
# A message naming more people than this speaks to the room: the first REACH of its addressees are read.
REACH = 4
VECTORS_FILE = "word_vectors.npz"

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
    "distance", "other_rank", "log_seconds",
    "to_candidate", "mentions_candidate", "candidate_to_me", "candidate_mentions_me",
    "speaks_to_someone", "candidate_speaks_to_someone", "speaks_to_other", "candidate_speaks_to_other",
    "my_posts_between", "candidate_author_posts_after", "authors_between", "exchanges_before",
    "my_last_spoke_to_candidate", "candidate_last_spoke_to_me", "newcomer",
    "addressed_after", "my_gap", "candidate_author_gap", "candidate_author_posts_before", "candidate_continues",
    # from the text; missing (NaN) without it
    "is_question", "candidate_is_question", "shared_words", "shared_share", "words", "candidate_words",
    "is_chatter", "opens_as_answer", "opens_as_greeting", "opens_with_you", "opens_with_it",
    "names_candidate", "candidate_names_me", "same_third_person", "shared_behind_author",
    "candidate_author_questions_after", "similarity", "similarity_behind", "similarity_behind_author",
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
    named: frozenset[str] = frozenset()  # everyone whose name stands anywhere in its text ("!grub | pabremer")
    # Derived once, read by every message that has this one among its candidates.
    ts: float = field(init=False, repr=False, compare=False)  # `at` as a number
    size: int = field(init=False, repr=False, compare=False)  # how many words; -1 without the text
    people: frozenset[str] = field(init=False, repr=False, compare=False)  # to, mentions and named

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", self.at.timestamp())
        object.__setattr__(self, "size", -1 if self.words is None else len(self.words))
        object.__setattr__(self, "people", self.to | self.mentions | self.named)


def words_of(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and not w.startswith("<"))


def opening_of(text: str, addressed: bool) -> str:
    """The first word after a leading <@mention>, "@name" or, when the message speaks to someone, "name:"."""
    rest = _LEADING_MENTIONS.sub("", text.lower(), count=1)
    if addressed:
        rest = _LEADING_NAME.sub("", rest, count=1)
    first = _OPENING.search(rest)
    return first.group(0) if first else ""


def opens_as_answer(said: Said) -> bool:
    return said.opening in _ANSWER_OPENERS


def said(event: MessagePosted, reading: Reading, to: frozenset[str], mentions: Sequence[str]) -> Said:
    if event.text is None:
        return Said(event.message_id, event.author, event.at, to, frozenset(mentions))
    words = words_of(event.text)
    return Said(event.message_id, event.author, event.at, to, frozenset(mentions), reading.question,
                reading.chatter, words, opening_of(event.text, bool(to)),
                frozenset(reading.named_anywhere) - {event.author})


@dataclass(frozen=True)
class WordVectors:
    """What words are about, as numbers: frequent words of chat, each read alone by the sentence model Rapport ships
    for interests (all-MiniLM-L6-v2) and weighed by rarity (trained by `python -m training.word_vectors`). Shared
    words see only the same word; these see "wifi" near "wireless" and "nvidia" near "nividia"."""

    index: dict[str, int]
    vectors: np.ndarray  # (words, dimensions) float32, each word's rarity weight folded into its length

    def of(self, words: frozenset[str]) -> np.ndarray | None:
        """A message's vector: the unit-length sum of its known words' vectors; None when it knows none."""
        vectors, known = self.of_all([words])
        return vectors[0] if known[0] else None

    def of_all(self, messages: Sequence[frozenset[str] | None]) -> tuple[np.ndarray, np.ndarray]:
        """Each message's vector (a row; zeros for one without text or known words) and whether it has one. A
        batch at a time: per message, three numpy calls cost more than the sums."""
        index = self.index
        known = [[index[w] for w in words if w in index] if words else [] for words in messages]
        counts = np.fromiter(map(len, known), np.int64, len(known))
        words = np.fromiter(chain.from_iterable(known), np.int64, int(counts.sum()))
        sums = np.zeros((len(known), self.vectors.shape[1]), np.float32)
        some = counts > 0
        if some.any():  # one message's words end where the next (with words) begins
            sums[some] = np.add.reduceat(self.vectors[words], (np.cumsum(counts) - counts)[some], axis=0)
        lengths = np.sqrt(np.einsum("md,md->m", sums, sums))
        has = lengths > 0
        sums[has] /= lengths[has, None]
        return sums, has


def read_vectors(data: bytes) -> WordVectors:
    """A word_vectors.npz (see write_vectors)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        words = stored["words"].tobytes().decode("utf-8").split("\n")
        vectors = stored["vectors"].astype(np.float32)
    if len(words) != len(vectors):
        raise ValueError(f"word vectors: {len(words)} words for {len(vectors)} vectors")
    return WordVectors({w: i for i, w in enumerate(words)}, vectors)


def write_vectors(path: Any, words: Sequence[str], vectors: np.ndarray) -> None:
    """Words as one newline-joined UTF-8 array (no pickled objects to load), vectors as float16."""
    np.savez(path, words=np.frombuffer("\n".join(words).encode("utf-8"), np.uint8),
             vectors=np.asarray(vectors, np.float16))


@cache
def word_vectors() -> WordVectors | None:
    """The vectors the shipped models were trained with (see vectors_in)."""
    return vectors_in(files("bot.data"))


def vectors_in(data: Any) -> WordVectors | None:
    """The vectors that the model card in folder `data` names with their sha256, or None when it names none. A
    missing or different file raises: the models would read every message wrongly."""
    card = data / "reply_model.json"
    named = json.loads(card.read_text()).get("word_vectors") if card.is_file() else None
    if not named:
        return None
    stored = (data / named["file"]).read_bytes()
    if (digest := hashlib.sha256(stored).hexdigest()) != named["sha256"]:
        raise ValueError(f"{named['file']}: sha256 {digest}, but the reply models were trained with {named['sha256']}"
                         " (retrain: python -m training.reply_model)")
    return read_vectors(stored)


def load_shipped() -> None:
    """Read the shipped models and word vectors now (they are cached): a broken install then fails at start, with
    OSError or ValueError, not on the first message."""
    shipped(True)
    shipped(False)
    word_vectors()


@dataclass(frozen=True)
class Table:
    """Feature rows (FEATURES order) for every (message, candidate by someone else) of a batch, message by message,
    candidates oldest first; a message never replies to its own author here, so those pairs are not scored."""

    x: np.ndarray  # (rows, len(FEATURES)) float32
    message: np.ndarray  # (rows,) which message of the batch
    candidate: np.ndarray  # (rows,) which of its candidates
    addressed: np.ndarray  # (rows,) the message speaks to the candidate's author at its start


_PAD = -1  # author of a padding slot
_NONE = -2  # an empty slot in a list of addressees: equal to no author


def table(batch: Sequence[tuple[Said, Sequence[Said]]]) -> Table:
    """The rows of a whole batch at once.

    Every message and candidate becomes a slot in a (messages x CANDIDATES) grid of author numbers, times and
    addressee lists, and each feature is a few array operations over the grid: this runs for every flat-chat
    message, so it must cost microseconds, not a Python loop per candidate."""
    count = len(batch)
    width = max((len(c) for _, c in batch), default=0)
    if not count or not width:
        return Table(np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64),
                     np.zeros(0, bool))
    number: dict[str, int] = {}
    everyone: list[Said] = []  # each message followed by its candidates
    for message, candidates in batch:
        everyone.append(message)
        everyone.extend(candidates)
    # A Said is a candidate of many messages: one slot each, found by object identity.
    identities = np.fromiter(map(id, everyone), np.int64, len(everyone))
    _, first, slots = np.unique(identities, return_index=True, return_inverse=True)
    saids = [everyone[i] for i in first]
    sizes = np.array([len(c) for _, c in batch], np.int64)
    starts = np.cumsum(sizes + 1) - sizes - 1  # where each message sits in `everyone`
    mine = slots[starts]
    grid = np.full((count, width), -1, np.int64)
    rows_of, cols_of = np.nonzero(np.arange(width)[None, :] < sizes[:, None])
    grid[rows_of, cols_of] = slots[starts[rows_of] + 1 + cols_of]
    # Per Said: author, time, addressees (padded), flags. One padding Said at the end fills empty grid slots.
    total = len(saids)
    reach = min(REACH, max(1, *(max(len(s.to), len(s.mentions), len(s.named)) for s in saids)))
    author = np.full(total + 1, _PAD, np.int64)
    at = np.zeros(total + 1, np.float64)
    to = np.full((total + 1, reach), _NONE, np.int64)
    mentions = np.full((total + 1, reach), _NONE, np.int64)
    named = np.full((total + 1, reach), _NONE, np.int64)
    spoken = np.full((total + 1, 3 * reach), _NONE, np.int64)  # to, mentions and named, each person once
    question = np.full(total + 1, np.nan, np.float32)
    size = np.full(total + 1, np.nan, np.float32)
    known = word_vectors()
    vectors, has_vector = known.of_all([*(s.words for s in saids), None]) if known else (  # None: the padding
        np.zeros((total + 1, 1), np.float32), np.zeros(total + 1, bool))
    for k, s in enumerate(saids):
        author[k] = number.setdefault(s.author, len(number))
        at[k] = s.ts
        if s.people:  # most messages speak to and name no one
            for j, whom in enumerate(sorted(s.to)[:reach]):
                to[k, j] = number.setdefault(whom, len(number))
            for j, whom in enumerate(sorted(s.mentions)[:reach]):
                mentions[k, j] = number.setdefault(whom, len(number))
            for j, whom in enumerate(sorted(s.named)[:reach]):
                named[k, j] = number.setdefault(whom, len(number))
            for j, whom in enumerate(sorted(s.people)[:3 * reach]):
                spoken[k, j] = number.setdefault(whom, len(number))
        if s.question is not None:
            question[k] = s.question
        if s.size >= 0:
            size[k] = s.size
    grid[grid < 0] = total
    valid = np.arange(width)[None, :] < sizes[:, None]
    who = author[grid]  # (B, C)
    me = author[mine][:, None]
    now = at[mine][:, None]
    is_me = (who == me) & valid
    other = valid & ~is_me
    later = np.triu(np.ones((width, width), bool), k=1)  # [k, j]: j comes after k

    def after(flags: np.ndarray) -> np.ndarray:  # how many of `flags` come after each slot
        return np.cumsum(flags[:, ::-1], axis=1)[:, ::-1] - flags

    same = (who[:, :, None] == who[:, None, :]) & valid[:, :, None] & valid[:, None, :]  # (B, C, C)
    theirs_after = (same & later).sum(-1)
    last_of_author = valid & (theirs_after == 0)
    addressees = spoken[grid]  # (B, C, 2 * reach)
    speaks_to_me = (addressees == me[:, :, None]).any(-1)  # candidate j addresses me
    to_me = (to[grid] == me[:, :, None]).any(-1)
    mentions_me = (mentions[grid] == me[:, :, None]).any(-1)
    my_to = to[mine][:, None, :]
    to_candidate = (who[:, :, None] == my_to).any(-1) & valid
    mentions_candidate = (who[:, :, None] == mentions[mine][:, None, :]).any(-1) & valid
    # [b, k, j]: candidate j speaks to or of the author of candidate k. Few slots address anyone: each that does is
    # compared with the row's authors (a comparison of the whole grid per addressee column cost a third of the time).
    addresses = np.zeros((count, width, width), bool)
    by_b, by_j, by_w = np.nonzero(addressees != _NONE)
    addressed = addressees[by_b, by_j, by_w]
    hit, hit_k = np.nonzero(who[by_b] == addressed[:, None])
    addresses[by_b[hit], hit_k, by_j[hit]] = True
    exchanges = (addresses & is_me[:, None, :]).sum(-1) + (same & (speaks_to_me & ~is_me)[:, None, :]).sum(-1)
    has_mine = is_me.any(1)
    my_last = width - 1 - np.argmax(is_me[:, ::-1], axis=1)
    my_last_spoke = np.take_along_axis(addresses, my_last[:, None, None], axis=2)[:, :, 0] & has_mine[:, None]
    answered = (addresses & later).sum(-1)
    their_next = np.argmax(same & later, axis=2)
    next_at = np.where((same & later).any(2), np.take_along_axis(at[grid], their_next, axis=1), now)
    my_last_at = np.take_along_axis(at[grid], my_last[:, None], axis=1)
    their_last = width - 1 - np.argmax(same[:, :, ::-1], axis=2)
    their_last_spoke = np.take_along_axis(speaks_to_me, their_last, axis=1)
    to_count = (to != _NONE).sum(1)
    speaks = (to_count[mine] > 0)[:, None]
    spoken_count = to_count[grid]
    rank = np.cumsum(other[:, ::-1], axis=1)[:, ::-1] * other
    between = after(last_of_author) - (after(is_me) > 0) - ((theirs_after > 0) & ~is_me)
    columns: list[np.ndarray | float] = [
        sizes[:, None] - np.arange(width)[None, :], rank, np.log1p(np.maximum(now - at[grid], 0.0)),
        to_candidate, mentions_candidate, to_me, mentions_me,
        speaks, spoken_count > 0, (to_count[mine][:, None] - to_candidate) > 0, (spoken_count - to_me) > 0,
        after(is_me), theirs_after, between, exchanges, my_last_spoke, their_last_spoke, (~has_mine)[:, None],
        answered, np.where(has_mine[:, None], np.log1p(np.maximum(now - my_last_at, 0.0)), np.nan),
        np.log1p(np.maximum(next_at - at[grid], 0.0)),
        (same & later.T).sum(-1), np.concatenate([np.zeros((count, 1), bool), who[:, 1:] == who[:, :-1]], 1) & valid,
    ]
    # Rows to score, message by message: by someone else, near or speaking to or of one another.
    other &= (rank <= NEAREST) | to_candidate | mentions_candidate | speaks_to_me
    rows_b, rows_k = np.nonzero(other)
    text = len(columns)
    structure = np.empty((count, width, text), np.float32)
    for j, column in enumerate(columns):
        structure[:, :, j] = column
    x = np.empty((len(rows_b), len(FEATURES)), np.float32)
    x[:, :text] = structure[other]
    x[:, text + 1] = question[grid][rows_b, rows_k]  # candidate_is_question
    x[:, text + 5] = size[grid][rows_b, rows_k]  # candidate_words
    # Shared words: set intersections, the one thing counted row by row.
    shared = np.full(len(rows_b), np.nan, np.float32)
    own = np.full((count, 7), np.nan, np.float32)
    picked_k, per_message = rows_k.tolist(), other.sum(1).tolist()
    r = 0
    for b, (message, candidates) in enumerate(batch):
        n, words = per_message[b], message.words
        if words is not None:
            opening = message.opening
            own[b] = (_flag(message.question), len(words), _flag(message.chatter), opening in _ANSWER_OPENERS,
                      opening in _GREETINGS, opening in _YOU, opening in _IT)
            shared[r:r + n] = [math.nan if (c := candidates[k]).words is None else len(words & c.words)
                               for k in picked_k[r:r + n]]
        r += n
    smaller = np.minimum(own[rows_b, 1], x[:, text + 5])
    x[:, text + 2], x[:, text + 3] = shared, shared / np.where(smaller == 0, 1, smaller)
    for j, k in enumerate((0, 4, 6, 7, 8, 9, 10)):
        x[:, text + k] = own[rows_b, j]
    # Names in passing: "!grub | pabremer" and the answer to pabremer that follows it name one person.
    x[:, text + 11] = (who[:, :, None] == named[mine][:, None, :]).any(-1)[rows_b, rows_k]
    x[:, text + 12] = (named[grid] == me[:, :, None]).any(-1)[rows_b, rows_k]
    # Both speak to or of the same third person: of the slots that address anyone (above), those whose person the
    # message also speaks to or of, who is neither its author nor the candidate's.
    third = np.zeros((count, width), bool)
    shared_person = ((spoken[mine][by_b] == addressed[:, None]).any(1) & (addressed != me[by_b, 0])
                     & (addressed != who[by_b, by_j]))
    third[by_b[shared_person], by_j[shared_person]] = True
    x[:, text + 13] = third[rows_b, rows_k]
    x[np.isnan(own[rows_b, 1]) | np.isnan(x[:, text + 5]), text + 11:text + 14] = np.nan  # either lacks its text
    # Among one author's lines, which does the message take up? The one sharing most with it, or the latest question.
    theirs = same[rows_b, rows_k]  # (rows, width): the slots by the row's candidate's author
    x[:, text + 14] = x[:, text + 3] - _best(x[:, text + 3], theirs, rows_b, rows_k, count, width)
    asks = np.nan_to_num(question[grid]) > 0
    x[:, text + 15] = (same & later & asks[:, None, :]).sum(-1)[rows_b, rows_k]
    x[np.isnan(own[rows_b, 1]), text + 14:text + 16] = np.nan
    # What the two are about: the cosine of their word vectors, and how far it falls behind the best among all the
    # message's scored candidates and among the same author's.
    similarity = np.full(len(rows_b), np.nan, np.float32)
    if has_vector.any():
        slots = grid[rows_b, rows_k]
        similarity = np.einsum("rd,rd->r", vectors[mine[rows_b]], vectors[slots])
        similarity[~(has_vector[mine[rows_b]] & has_vector[slots])] = np.nan
    x[:, text + 16] = similarity
    x[:, text + 17] = similarity - _best(similarity, None, rows_b, rows_k, count, width)
    x[:, text + 18] = similarity - _best(similarity, theirs, rows_b, rows_k, count, width)
    return Table(x, rows_b, rows_k, to_candidate[rows_b, rows_k])


def _best(values: np.ndarray, among: np.ndarray | None, rows_b: np.ndarray, rows_k: np.ndarray, count: int,
          width: int) -> np.ndarray:
    """For each row, the largest of `values` (one a row; NaN: none) over its message's scored rows, or only over the
    slots `among` marks (one (width,) mask a row)."""
    grid = np.full((count, width), -np.inf, np.float32)
    grid[rows_b, rows_k] = np.nan_to_num(values, nan=-np.inf)
    if among is None:
        return grid.max(axis=1)[rows_b]
    return np.where(among, grid[rows_b], -np.inf).max(axis=1)


def _flag(value: bool | None) -> float:
    return math.nan if value is None else float(value)


def features(message: Said, candidates: Sequence[Said]) -> np.ndarray:
    """The rows of one message's candidates by someone else (see `table`)."""
    return table([(message, candidates)]).x


def best(rows: Table, scores: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of `count` messages, the row of its best candidate by `scores` (-1: none scored; ties to the latest),
    and whether that pick is forced: a message that speaks to someone at its start replies to that person's
    best-scored message whatever its score (ties to the earliest; on IRC train, 89% of such messages reply to a
    message of the person they name, 1% to someone else's)."""
    width = int(rows.candidate.max()) + 1 if len(rows.candidate) else 0
    index = np.full((count, width + 1), -1, np.int64)
    index[rows.message, rows.candidate] = np.arange(len(rows.candidate))
    grid = np.full((count, width + 1), -np.inf)
    grid[rows.message, rows.candidate] = scores
    addressed = np.full_like(grid, -np.inf)
    addressed[rows.message[rows.addressed], rows.candidate[rows.addressed]] = scores[rows.addressed]
    to_them = np.argmax(addressed, axis=1)
    latest = width - np.argmax(grid[:, ::-1], axis=1)
    forced = addressed.max(axis=1) > -np.inf
    return index[np.arange(count), np.where(forced, to_them, latest)], forced


def choose(batch: Sequence[tuple[Said, Sequence[Said]]], rows: Table, scores: np.ndarray, threshold: float,
           judge: Callable[[np.ndarray], np.ndarray] | None = None) -> list[str | None]:
    """Each message's parent among its scored candidates: the best by `scores` (see `best`), when the pick is
    forced or its sureness reaches the threshold. `judge` gives that sureness for the picks it is asked about (rows
    of `rows`: each message's best, when not forced), the reply probability; without it the best row's score is."""
    row, forced = best(rows, scores, len(batch))
    found = row >= 0
    value = np.full(len(batch), -np.inf)
    if judge is None:
        value[found] = scores[row[found]]
    else:
        judged = found & ~forced  # a forced pick needs no judging
        value[judged] = judge(row[judged])
    taken = found & (forced | (value >= threshold))
    pick = np.full(len(batch), -1, np.int64)
    pick[taken] = rows.candidate[row[taken]]
    return [None if k < 0 else candidates[k].message_id
            for (_, candidates), k in zip(batch, pick.tolist(), strict=True)]


@dataclass(frozen=True)
class ReplyModel:
    """The trained models: `session` gives each row of FEATURES the probability that it is the reply's parent,
    `threshold` the probability a parent must reach. With a `ranker` (a LightGBM lambdarank model, trained on each
    message's candidates together), the ranker picks each message's best candidate and `session` judges only it."""

    session: Any  # onnxruntime.InferenceSession
    threshold: float
    input_name: str
    probability_output: str
    ranker: Any = None  # onnxruntime.InferenceSession or None

    def scores(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        out = self.session.run([self.probability_output], {self.input_name: rows.astype(np.float32)})[0]
        # The converted classifier gives either an (n, 2) array or a list of {label: probability}.
        if isinstance(out, list):
            return np.array([row[1] for row in out], dtype=np.float32)
        return np.asarray(out, dtype=np.float32)[:, 1]

    def ranks(self, rows: np.ndarray) -> np.ndarray:
        """The ranker's scores (higher: more likely the parent among the message's candidates); without a ranker
        the probabilities."""
        if self.ranker is None or not len(rows):
            return self.scores(rows)
        return np.asarray(self.ranker.run(None, {self.input_name: rows.astype(np.float32)})[0],
                          dtype=np.float32).reshape(-1)

    def parents(self, batch: Sequence[tuple[Said, Sequence[Said]]]) -> list[str | None]:
        """For each (message, its candidates), the message id it replies to, or None. Two model calls a batch."""
        rows = needed(table(batch), len(batch))
        if self.ranker is None:
            return choose(batch, rows, self.scores(rows.x), self.threshold)
        return choose(batch, rows, self.ranks(rows.x), self.threshold, lambda picked: self.scores(rows.x[picked]))


def needed(rows: Table, count: int) -> Table:
    """The rows whose scores can change what `choose` picks: a message that speaks to someone at its start replies to
    one of that person's messages, so its other rows need no scoring (on IRC about a third of the rows)."""
    addressed = np.zeros(count, bool)
    addressed[rows.message[rows.addressed]] = True
    keep = rows.addressed | ~addressed[rows.message]
    if keep.all():
        return rows
    return Table(rows.x[keep], rows.message[keep], rows.candidate[keep], rows.addressed[keep])


def load(path: Any, threshold: float, ranker: Any = None) -> ReplyModel:
    """The model at `path` (and the ranker at `ranker`, when given)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1

    def open_(at: Any) -> Any:
        return ort.InferenceSession(bytes(at.read_bytes()), options, providers=["CPUExecutionProvider"])

    session = open_(path)
    outputs = [o.name for o in session.get_outputs()]
    return ReplyModel(session, threshold, session.get_inputs()[0].name,
                      next((o for o in outputs if "prob" in o), outputs[-1]), open_(ranker) if ranker else None)


@cache
def shipped(with_text: bool = True) -> ReplyModel | None:
    """The model in the package (with or without the text features), or None when none is shipped."""
    return models_in(files("bot.data"), with_text)


def models_in(data: Any, with_text: bool = True) -> ReplyModel | None:
    """The model a training command wrote to the folder `data` (its --out, or a --folds half), or None."""
    card = data / "reply_model.json"
    if not card.is_file():
        return None
    meta = json.loads(card.read_text())
    variant = meta["with_text" if with_text else "without_text"]
    ranker = variant.get("ranker_file")
    return load(data / variant["file"], float(variant["threshold"]), data / ranker if ranker else None)


def parents(batch: Sequence[tuple[Said, Sequence[Said]]],
            models: Callable[[bool], ReplyModel | None] = shipped) -> list[str | None]:
    """The models' picks (the shipped ones unless told): messages with their text by the full model, the others by
    the textless one."""
    result: list[str | None] = [None] * len(batch)
    for with_text in (True, False):
        model = models(with_text)
        picked = [i for i, (message, _) in enumerate(batch) if (message.words is not None) == with_text]
        if model is None or not picked:
            continue
        for i, parent in zip(picked, model.parents([batch[i] for i in picked]), strict=True):
            result[i] = parent
    return result
