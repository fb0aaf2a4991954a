"""Conversation starters grounded in what two members share (`/rapport starters @someone`), and the people a
member would likely click with (`/rapport match`).

Interests meet across levels of rapport: one person's skill can meet another's hobby. The semantic matcher
(bot/interests/similarity.py) decides what is related; stored phrase vectors (bot.interests.vectors)
make a request cheap, and only the few best candidate pairs are re-judged by the matcher, whose shared-word
correction keeps "bass fishing" away from "bass guitar". Complementary wishes count too: someone looking for a
mentor in a topic meets someone who lists it.

Every starter is a question you would put to the other person ("What got you into chess?"), followed by what it is
grounded in, for you ("they listed “chess”, you listed “board games”"). It is built only from the two profiles
involved: never a pitch about the asker, never anything about third parties or what anyone wrote in chat. Only
pairs the matcher judges related are presented as shared ground; everything else falls back to a question about
the other person's own profile, or to a question anyone could ask.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.commands import Args, Context, Router, UsageError
from bot.domain.profiles import Phrase, Profile
from bot.graph.rapport import Stage, assess
from bot.interests.similarity import Matcher, similarity_matrix, topic_link
from bot.interests.vectors import phrase_vectors
from bot.ports import Store
from bot.replies import Reply, Section
from bot.text import shown

MIN_STARTERS = 3
MAX_STARTERS = 5
MATCHES = 5
JUDGED_PAIRS = 12  # candidate phrase pairs per person re-judged by the matcher
SHORTLIST = 15  # people re-judged by `/rapport match` after the fast vector pass
#: Stored-vector cosine, as a fraction of the matcher's threshold, worth re-judging. Phrases read in frames share
#: their words, which lifts every cosine: with the three frames, at 0.8 of the threshold 5.9% of the tuning phrases'
#: pairs pass, at 0.9 3.4% (one "interested in" frame: 6.8% and 2.7%; the bare phrase 4% at 0.8). The tuning pair
#: judged related (topic links aside) with the lowest cosine has 1.01 times the threshold, so 0.9 loses none.
PREFILTER = 0.9
COMPLEMENT_BONUS = 0.1  # a wish someone else can meet is a better opener than one more shared hobby

#: How much `/rapport match` prefers people you do not know yet.
STAGE_WEIGHT = {
    Stage.STRANGERS: 1.0,
    Stage.TALKING: 0.9,
    Stage.ACQUAINTANCE: 0.6,
    Stage.PEERS: 0.45,
    Stage.TRUSTED_ADVISOR: 0.35,
}
STAGE_NOTE = {
    Stage.STRANGERS: "You have not talked yet.",
    Stage.TALKING: "You have only just started talking.",
    Stage.ACQUAINTANCE: "You know each other a little.",
    Stage.PEERS: "You already know each other well.",
    Stage.TRUSTED_ADVISOR: "You already know each other well.",
}

# Questions as you would put them to the other person, a few per kind of phrase so a DM does not read like a form.
_QUESTIONS: dict[str, tuple[str, ...]] = {
    "environment": ("What is the story behind “{x}”?", "What do you like most about “{x}”?"),
    "behaviour": ("What got you into {x}?", "What do you enjoy most about {x}?", "How did you get started with {x}?"),
    "capability": ("How did you learn {x}, and where does it come in handy?", "What are you doing with {x} these days?",
                   "What would you tell someone starting out with {x}?"),
    "beliefs": ("Why does “{x}” matter to you?", "What made “{x}” important to you?"),
    "identity": ("What does “{x}” mean to you?", "How does “{x}” shape the way you work?"),
    "spirit": ("How did you come to “{x}”?", "Where do you find “{x}” in an ordinary week?"),
    "mentee": ("What would you most like to get better at in {x}?", "What would a good mentor in {x} help you with?"),
    "learn": ("What made you want to learn {x}?", "How far have you got with {x} so far?"),
    "mentor": ("What do you enjoy about helping people with {x}?",),
    "known": ("What are you working on in {x} at the moment?",),
    "other": ("What are you hoping to find in “{x}”?",),
}
# What grounds a starter, for the reader: (about them, about you) for each kind of phrase.
_STATEMENTS = {
    "level": ("they listed “{x}”", "you listed “{x}”"),
    "mentee": ("they are looking for a mentor in “{x}”", "you are looking for a mentor in “{x}”"),
    "learn": ("they want to learn “{x}”", "you want to learn “{x}”"),
    "mentor": ("they would like to mentor people in “{x}”", "you would like to mentor people in “{x}”"),
    "known": ("they would like to be known for “{x}”", "you would like to be known for “{x}”"),
    "other": ("they are looking for “{x}”", "you are looking for “{x}”"),
}
_WHERE = {
    "environment": " about where they are", "behaviour": " among their hobbies", "capability": " among their skills",
    "beliefs": " as something that matters to them", "identity": " about who they are",
    "spirit": " as what connects them to something larger",
}
_FALLBACK_ORDER = ("behaviour", "capability", "looking_for", "environment", "identity", "beliefs", "spirit")
#: For someone with no profile, or too little of one.
GENERIC = (
    "What are you enjoying working on at the moment?",
    "What did you do before your current role?",
    "What does a good working day look like for you?",
    "What are you looking forward to this month?",
    "What is something you would like to learn this year?",
)


def _pick(options: Sequence[str], *seed: str) -> str:
    """One of `options`, the same one for the same seed (stable across processes, unlike hash())."""
    return options[zlib.crc32("\x1f".join(seed).encode()) % len(options)]


def generic_starters(a: str, b: str, limit: int, skip: int = 0) -> list[str]:
    """`limit` profile-free questions for `a` to ask `b`, starting at a point that differs from pair to pair."""
    start = zlib.crc32(f"{a}\x1f{b}".encode())
    return [GENERIC[(start + i) % len(GENERIC)] for i in range(skip, skip + min(limit, len(GENERIC) - skip))]


def matcher_label(matcher: Matcher) -> str:
    return "lexical fallback" if matcher.name == "lexical" else matcher.name


@dataclass(frozen=True)
class Link:
    """A phrase of the asker's related to a phrase of the other person's."""

    mine: Phrase
    theirs: Phrase
    score: float

    @property
    def complementary(self) -> bool:
        return self.mine.wanted != self.theirs.wanted

    @property
    def rank(self) -> float:
        return self.score + (COMPLEMENT_BONUS if self.complementary else 0.0)


def _kind(p: Phrase) -> str:
    return p.intent if p.level == "looking_for" and p.intent else "level"


def _statement(p: Phrase, you: bool = False) -> str:
    return _STATEMENTS[_kind(p)][you].format(x=shown(p.text))


def question(p: Phrase, asker: str) -> str:
    """A question to put to the person who listed `p`, varied by phrase and asker."""
    options = _QUESTIONS[p.intent if p.level == "looking_for" and p.intent in _QUESTIONS else p.level]
    return _pick(options, p.key, asker).format(x=shown(p.text))


def _starter(ask: str, why: str) -> str:
    return f"{ask} _({why})_"


def _why(link: Link) -> str:
    """What the two share, for the reader, each phrase as what it is (listed, looked for, wanted to learn)."""
    if link.mine.key == link.theirs.key and _kind(link.mine) == _kind(link.theirs) == "level":
        return f"you both listed “{shown(link.theirs.text)}”"
    return f"{_statement(link.theirs)}, {_statement(link.mine, you=True)}"


def shared_starter(link: Link, asker: str) -> str:
    return _starter(question(link.theirs, asker), _why(link))


def profile_starter(p: Phrase, asker: str) -> str:
    where = _WHERE.get(p.level, "") if _kind(p) == "level" else ""
    return _starter(question(p, asker), _statement(p) + where)


def _matrix(phrases: list[Phrase], vectors: dict[str, np.ndarray], dim: int) -> np.ndarray:
    if not phrases:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([vectors[p.key] for p in phrases]).astype(np.float32, copy=False)


def _judge_all(matcher: Matcher, pairs: list[tuple[Phrase, Phrase]]) -> list[Link]:
    links = []
    for mine, theirs in pairs:
        if mine.key == theirs.key:
            links.append(Link(mine, theirs, 1.0))
            continue
        judgement = matcher.judge(mine.text, theirs.text, mine.level, theirs.level)
        if judgement.related:
            links.append(Link(mine, theirs, judgement.score))
    return links


async def find_links(matcher: Matcher, mine: Profile, theirs: Profile,
                     vectors: dict[str, dict[str, np.ndarray]]) -> list[Link]:
    """Related phrase pairs between two profiles, best first."""
    a, b = mine.phrases(), theirs.phrases()
    if not a or not b:
        return []
    va, vb = vectors[mine.user_id], vectors[theirs.user_id]
    dim = len(next(iter(va.values())))
    sims = similarity_matrix(_matrix(a, va, dim), _matrix(b, vb, dim))
    floor = matcher.threshold * PREFILTER
    flat = np.argsort(-sims, axis=None, kind="stable")[:JUDGED_PAIRS]
    pairs = [(a[i], b[j]) for i, j in zip(*np.unravel_index(flat, sims.shape), strict=True) if sims[i, j] >= floor]
    # Pairs the topic table links are judged too, whatever their cosine ("Rust" / "systems programming").
    pairs += [(x, y) for x in a for y in b if (x, y) not in pairs and topic_link(x.text, y.text)]
    links = await asyncio.to_thread(_judge_all, matcher, pairs) if pairs else []
    return sorted(links, key=lambda link: -link.rank)


def _distinct(links: list[Link], limit: int) -> list[Link]:
    """Best links first, each phrase used once, so the starters are about different things."""
    chosen: list[Link] = []
    used: set[str] = set()
    for link in links:
        if len(chosen) == limit:
            break
        keys = {"mine:" + link.mine.key, "theirs:" + link.theirs.key}
        if keys & used:
            continue
        used |= keys
        chosen.append(link)
    return chosen


def _from_profile(theirs: Profile, asker: str, skip: set[str], limit: int) -> list[str]:
    """Starters from the other person's profile alone: round robin across levels, for variety."""
    by_level: dict[str, list[Phrase]] = {}
    for p in theirs.phrases():
        if p.key not in skip and p.intent not in ("clients", "job", "friends"):
            by_level.setdefault(p.level, []).append(p)
    queues = [by_level[level] for level in _FALLBACK_ORDER if level in by_level]
    out: list[str] = []
    while len(out) < limit and any(queues):
        for queue in queues:
            if queue and len(out) < limit:
                out.append(profile_starter(queue.pop(0), asker))
    return out


@dataclass(frozen=True)
class Starters:
    lines: list[str]
    shared: int  # how many are grounded in something the two share


async def plan_starters(store: Store, matcher: Matcher, workspace: str, a: str, b: str,
                        limit: int = MAX_STARTERS) -> Starters | None:
    """Starters for `a` to open a conversation with `b`; None when `b` has no profile."""
    theirs = await store.profiles.get(workspace, b)
    if theirs is None or theirs.is_empty:
        return None
    mine = await store.profiles.get(workspace, a) or Profile(workspace, a)
    limit = max(1, limit)
    vectors = await phrase_vectors(store, matcher, [mine, theirs])
    links = _distinct(await find_links(matcher, mine, theirs, vectors), limit)
    lines = [shared_starter(link, a) for link in links]
    lines += _from_profile(theirs, a, {link.theirs.key for link in links}, limit - len(lines))
    lines += generic_starters(a, b, min(MIN_STARTERS, limit) - len(lines))
    return Starters(lines, len(links))


async def starters_for(store: Store, matcher: Matcher, workspace: str, a: str, b: str,
                       limit: int = MAX_STARTERS) -> list[str]:
    """Up to `limit` questions `a` could ask `b` (coffee rounds, introductions and nudges use these), grounded in
    `b`'s profile when there is one, else questions anyone could ask."""
    plan = await plan_starters(store, matcher, workspace, a, b, limit)
    return plan.lines if plan else generic_starters(a, b, max(1, limit))


async def starters_command(ctx: Context, args: Args) -> Reply:
    other = args.user()
    args.done()
    if other == ctx.user:
        raise UsageError("That is you! Try `/rapport starters @someone` with a colleague.")
    matcher = await ctx.matchers.aget()
    plan = await plan_starters(ctx.store, matcher, ctx.workspace, ctx.user, other)
    if plan is None:
        if await ctx.store.members.get(ctx.workspace, other) is None:
            raise UsageError(f"I don't know <@{other}> in this workspace.")
        return Reply(f"<@{other}> has not filled in a profile yet, so I have nothing to ground starters in. "
                     f"Ask them what they are working on, and mention `/rapport profile`: it helps people find "
                     f"common ground with them.")
    notes = []
    if not plan.shared:
        mine = await ctx.store.profiles.get(ctx.workspace, ctx.user)
        notes.append(f"I found nothing you share yet, so these come from <@{other}>'s profile alone." + (
            "" if mine and mine.phrases() else " Fill in `/rapport profile` so I can find what you share."))
    notes.append(f"_Matched by {matcher_label(matcher)} on what you both chose to share in your profiles._")
    return Reply(f"*Conversation starters for <@{other}>*\n" + "\n".join(notes),
                 (Section("Ask them", tuple(plan.lines)),))


async def match_command(ctx: Context, args: Args) -> Reply:
    args.done()
    store, ws = ctx.store, ctx.workspace
    mine = await store.profiles.get(ws, ctx.user)
    if mine is None or not mine.phrases():
        return Reply("Fill in `/rapport profile` first: I match people on what they chose to share.")
    matcher = await ctx.matchers.aget()
    others = [p for p in await store.profiles.list(ws) if p.user_id != ctx.user and p.phrases()]
    if not others:
        return Reply("Nobody else here has filled in a profile yet. Check back once a few colleagues have.")
    vectors = await phrase_vectors(store, matcher, [mine, *others], workspace_wide=True)
    now = ctx.clock.now()
    stages = {s.other(ctx.user): assess(s, now).stage for s in await store.graph.pair_stats(ws, now, user=ctx.user)}

    def weight(user: str) -> float:
        return STAGE_WEIGHT[stages.get(user, Stage.STRANGERS)]

    shortlist = _shortlist(matcher, mine, others, vectors, weight)
    scored: list[tuple[float, Profile, list[Link]]] = []
    for profile in shortlist:
        links = _distinct(await find_links(matcher, mine, profile, vectors), 3)
        if links:
            scored.append((sum(link.rank for link in links) * weight(profile.user_id), profile, links))
    scored.sort(key=lambda item: (-item[0], item[1].user_id))
    if not scored:
        return Reply("I found nobody who shares your interests yet. As more people fill in their profiles, "
                     f"try again.\n_Matched by {matcher_label(matcher)}._")
    lines = tuple(
        f"<@{p.user_id}>: " + "; ".join(_why(link) for link in links[:2]) + ". "
        + STAGE_NOTE[stages.get(p.user_id, Stage.STRANGERS)] + f" Try `/rapport starters <@{p.user_id}>`."
        for _, p, links in scored[:MATCHES]
    )
    return Reply("*People you might click with*\nPeople you do not know yet come first.\n"
                 f"_Matched by {matcher_label(matcher)} on what people chose to share in their profiles._",
                 (Section("Matches", lines),))


def _shortlist(matcher: Matcher, mine: Profile, others: list[Profile],
               vectors: dict[str, dict[str, np.ndarray]], weight: Callable[[str], float]) -> list[Profile]:
    """The people worth re-judging: a fast pass over stored vectors (each person's best three phrase scores)."""
    a = mine.phrases()
    va = vectors[mine.user_id]
    dim = len(next(iter(va.values())))
    keys = [(p, [q.key for q in p.phrases()]) for p in others]
    everyone = np.stack([vectors[p.user_id][k] for p, ks in keys for k in ks]).astype(np.float32, copy=False)
    best = similarity_matrix(_matrix(a, va, dim), everyone).max(axis=0)
    best[best < matcher.threshold * PREFILTER] = 0.0
    scores: list[tuple[float, str, Profile]] = []
    start = 0
    for profile, ks in keys:
        top = np.sort(best[start:start + len(ks)])[-3:]
        start += len(ks)
        if top.any():
            scores.append((float(top.sum()) * weight(profile.user_id), profile.user_id, profile))
    scores.sort(key=lambda s: (-s[0], s[1]))
    return [p for _, _, p in scores[:SHORTLIST]]


def register(router: Router) -> None:
    router.command("starters", "starters @someone",
                   "questions to open a conversation, grounded in what you share")(starters_command)
    router.command("match", "match", "people here you would likely click with, and why")(match_command)
