"""The text rules of bot/graph/questions.py, one group per rule in its docstring."""

from __future__ import annotations

import pytest

from bot.graph.questions import (
    addressed_by_name,
    is_chatter,
    is_question,
    is_wordless,
    leading_mentions,
    named_in,
)

NAMES = {"bob": "U_BOB", "bob stone": "U_BOB", "yuki": "U_YUKI", "mira": "U_MIRA", "will": "U_WILL"}


@pytest.mark.parametrize("text", [
    "did the payments migration go out last night?",
    "ready? :rocket:",
    "can you review (the small one)?",
    "not sure. is it the cache?",
    "lol what? 6 hours?",  # the echo "6 hours?" asks; only "lol what?" is a mere reaction
    "12:30 ok for everyone?",
])
def test_a_question_mark_ending_a_sentence_makes_a_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", [
    "see https://example.com/search?q=coyote+time",
    "<https://grafana.acme.dev/d/search?orgId=1|grafana>",
    "use `SELECT * FROM t WHERE id = ?` there",
    "```\nwhy?\n```",
    "lol what?",
    "wait, really?",
    "huh?",
    "right?",
    "Note: ruff replaced flake8. Why? Because it's 50x faster.",
    None,
    "",
])
def test_question_marks_in_code_urls_reactions_or_self_answered_do_not(text: str | None) -> None:
    assert not is_question(text)


@pytest.mark.parametrize("text", [
    "what's the policy on committing .import files",
    "who owns the billing service",
    "how long will that take",
    "which branch has the fix",
    "when is the next infra sync",
    "where do the dashboards live",
    "where to find the device manager in 8.10",
    "when to rotate the keys",
])
def test_a_question_word_opens_a_question_without_a_mark(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", [
    "What I want to try next: shorter dash",
    "How we cut CI time in half: a write-up",
    "what a week",
    "who knew a restore could take 4 hours",
    "when you get a chance, take a look at #123",
    "where we landed: ship on Wednesday",
])
def test_a_question_word_opening_a_clause_or_exclamation_does_not(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize("text", [
    "can you review my PR",
    "is there a way to run only the failing tests",
    "does the freeze cover the docs site",
    "did anyone else get the phishing email",
    "should we move the deploy to Wednesday",
    "do you guys use GUT or gdUnit",
])
def test_an_auxiliary_followed_by_its_subject_opens_a_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", [
    "Could be worse, at least the freeze is only a week",
    "will do",
    "Can't believe it's only Tuesday",
    "Do this first: merge anything that needs QA",
    "have a good one",
    "Don't remind me",
    "Would recommend the k8 too",
    "should, haven't tried",
    "it is, it only prints the plan",
])
def test_an_auxiliary_without_a_subject_or_an_imperative_does_not(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize("text", [
    "anyone know why CI is slow today",
    "any ideas why the build is red",
    "I wonder if the cache is stale",
    "so what do you think about the new layout",
    "does anyone know where the runbook lives",
])
def test_anyone_any_idea_and_asking_phrases_make_questions(text: str) -> None:
    assert is_question(text)


def test_a_leading_greeting_vocative_or_name_is_skipped() -> None:
    assert is_question("hey team, can we move standup")
    assert is_question("quick q: is there a staging db")
    assert is_question("ok so how do I get access")
    assert not is_question("mira is the fix in that commit")  # without names "mira" could be any subject
    assert is_question("mira is the fix in that commit", NAMES)
    assert not is_question("for anyone curious ^")


@pytest.mark.parametrize(("text", "expected"), [
    ("bob: did you push?", "U_BOB"),
    ("@bob, can you look", "U_BOB"),
    ("Bob Stone: ping", "U_BOB"),
    ("yuki there's a --profiling flag", "U_YUKI"),
    ("mira is the fix in?", "U_MIRA"),
    ("yuki did you see the flag?", "U_YUKI"),
    ("yuki did most of the migration", None),  # spoken of, not to: "did" is not followed by its subject
    ("mira was right about the cache", None),
    ("Reminder: the freeze starts Thursday", None),
    ("carol: unknown person", None),
    ("will do, thanks", None),  # a member called Will is not named by "will do"
    ("yuki", None),
    (None, None),
])
def test_addressed_by_name_reads_a_name_at_the_start(text: str | None, expected: str | None) -> None:
    assert addressed_by_name(text, NAMES) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("!grub | Bob", ("U_BOB",)),  # an IRC factoid bot told to answer bob
    ("!language > yuki", ("U_YUKI",)),
    ("sorry Yuki.. no idea, ask mira", ("U_YUKI", "U_MIRA")),
    ("yuki-> passwd username", ("U_YUKI",)),
    ("thanks (bob)! bob did it", ("U_BOB",)),
    ("will do, I will ask", ()),  # a member called Will is not named by the word "will"
    ("bobby and yukino", ()),  # whole words only
    (None, ()),
])
def test_named_in_finds_names_anywhere_as_words(text: str | None, expected: tuple[str, ...]) -> None:
    assert named_in(text, NAMES) == expected


def test_leading_mentions_are_those_the_text_starts_with() -> None:
    assert leading_mentions("<@U1> <@U2> can one of you review?") == ["U1", "U2"]
    assert leading_mentions("<@U1|ana>, <@!99> hi") == ["U1", "99"]
    assert leading_mentions("open a ticket and tag <@U3>") == []
    assert leading_mentions(None) == []


@pytest.mark.parametrize(("text", "chatter"), [
    ("lol", True),
    ("ty!", True),
    ("nice, thanks :pray:", True),
    ("brb dinner", True),
    ("yes please", False),
    ("+1 for Wednesday", False),
    ("not me, I'm on the atlas", False),
    ("yep, removed the _process one, fixed. thanks!", False),
    (":eyes:", False),  # wordless, not chatter: it may answer in a thread
    (None, False),
])
def test_chatter_is_reactions_thanks_greetings_and_away_notices(text: str | None, chatter: bool) -> None:
    assert is_chatter(text) is chatter


def test_wordless_is_emoji_alone() -> None:
    assert is_wordless(":+1:") and is_wordless("👍") and is_wordless("🙏 🙏")
    assert not is_wordless("ok 👍") and not is_wordless(None) and not is_wordless("")


@pytest.mark.parametrize("text", [
    "please tell me which command shows the directory i am in",
    "can't find it, tell me where the config lives",
])
def test_asking_to_be_told_is_a_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", ["i know where to find it", "let me tell you what happened", "tell them how",
                                  "tell me if you need anything"])
def test_telling_or_knowing_where_to_is_not(text: str) -> None:
    assert not is_question(text)
