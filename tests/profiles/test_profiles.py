"""Profiles end to end through the core (`/rapport profile`, its forms), on the fake store and the SQL store."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters import markup
from bot.app import Rapport
from bot.domain.profiles import Profile, looking_for, split_phrases
from bot.events import CommandInvoked, FormSubmitted, Member
from bot.interests.similarity import LexicalMatcher
from bot.profiles.profiles import FIELD_MAX, time_zone_of
from bot.replies import Reply
from bot.text import shown, tidy
from storage.models import Base

pytestmark = pytest.mark.usefixtures("matcher")

WS = "T1"
MY_TABLES = {"profiles", "profile_vectors"}


@pytest.fixture
async def core(store, clock, outbound) -> Rapport:
    await store.members.upsert([Member(WS, "ana", "Ana", tz="America/Chicago"), Member(WS, "bob", "Bob")])
    return Rapport(store, clock, outbound)


async def command(core: Rapport, user: str, text: str) -> Reply:
    return await core.on_command(CommandInvoked(WS, "C1", user, text))


async def submit(core: Rapport, user: str, form_id: str, **values: str) -> Reply:
    """As an adapter submits a form: its markup turned into plain text first (adapters/markup.py)."""
    plain, flattened = markup.form_values(values.items())
    return await core.on_form(FormSubmitted(WS, "C1", user, form_id, plain, flattened=flattened))


async def test_form_round_trip(core: Rapport, store) -> None:
    reply = await command(core, "ana", "profile")
    assert reply.form is not None and reply.form.form_id == "profile"
    assert [f.name for f in reply.form.fields] == ["environment", "tz", "working_hours", "behaviour", "capability"]
    assert all(f.value == "" for f in reply.form.fields)
    assert "members of this workspace" in reply.form.note.lower()

    saved = await submit(core, "ana", "profile", environment="Lisbon, grew up in Porto", tz="europe/lisbon",
                         working_hours="9-17", behaviour="hiking, sourdough and board games", capability="Python")
    assert saved.text.startswith("Saved your profile")
    assert any(b.action_id == "profile_edit" and b.value == "profile_more" for b in saved.buttons)
    more = await command(core, "ana", "profile more")
    assert more.form is not None and more.form.form_id == "profile_more"
    assert [f.name for f in more.form.fields] == ["beliefs", "identity", "spirit", "looking_for"]
    await submit(core, "ana", "profile_more", beliefs="kindness", identity="new parent", spirit="",
                 looking_for="a mentor in public speaking")

    profile = await store.profiles.get(WS, "ana")
    assert (profile.tz, profile.work_start, profile.work_end) == ("Europe/Lisbon", 9, 17)
    assert profile.behaviour == "hiking, sourdough and board games"
    assert profile.looking_for == "a mentor in public speaking"
    assert profile.updated_at == core.clock.now()

    again = await command(core, "ana", "profile")
    prefilled = {f.name: f.value for f in again.form.fields}
    assert prefilled == {"environment": "Lisbon, grew up in Porto", "tz": "Europe/Lisbon", "working_hours": "09-17",
                         "behaviour": "hiking, sourdough and board games", "capability": "Python"}

    seen = (await command(core, "bob", "profile <@ana>")).plain()
    for expected in ("<@ana>'s profile", "Europe/Lisbon", "09-17", "sourdough", "public speaking", "new parent"):
        assert expected in seen
    assert "Shared with members of this workspace" in seen
    own = await command(core, "ana", "profile show")
    assert own.text.startswith("*Your profile*") and own.buttons[0].action_id == "profile_edit"


async def test_a_partial_submission_keeps_the_other_fields(core: Rapport, store) -> None:
    await submit(core, "ana", "profile", behaviour="hiking", capability="Python", tz="Europe/Berlin")
    # Discord modals hold five inputs; a form that comes back without a field must not erase it.
    await submit(core, "ana", "profile", behaviour="trail running")
    profile = await store.profiles.get(WS, "ana")
    assert (profile.behaviour, profile.capability, profile.tz) == ("trail running", "Python", "Europe/Berlin")
    await submit(core, "ana", "profile", capability="")
    assert (await store.profiles.get(WS, "ana")).capability == ""


async def test_bad_time_zone_and_hours_keep_what_was_stored(core: Rapport, store) -> None:
    await submit(core, "ana", "profile", tz="Europe/Berlin", working_hours="08-16", behaviour="chess")
    reply = await submit(core, "ana", "profile", tz="Mars/Olympus_Mons", working_hours="25-3", behaviour="go")
    text = reply.plain()
    assert "I don't know the time zone “Mars/Olympus_Mons”" in text and "I kept “Europe/Berlin”" in text
    assert "write them like 09-17" in text and "I kept 08-16" in text
    profile = await store.profiles.get(WS, "ana")
    assert (profile.tz, profile.working_hours, profile.behaviour) == ("Europe/Berlin", "08-16", "go")
    await submit(core, "ana", "profile", working_hours="22-06")
    assert (await store.profiles.get(WS, "ana")).working_hours == "22-06"  # night shifts are allowed


async def test_time_zone_falls_back_to_the_account(core: Rapport, store) -> None:
    assert await time_zone_of(store, WS, "ana") == "America/Chicago"
    await submit(core, "ana", "profile", tz="Asia/Tokyo")
    assert await time_zone_of(store, WS, "ana") == "Asia/Tokyo"
    assert await time_zone_of(store, WS, "nobody") is None


async def test_over_long_fields_are_capped_and_the_reply_says_so(core: Rapport, store) -> None:
    long = ", ".join(f"hobby number {i}" for i in range(60))  # about 900 characters
    reply = await submit(core, "ana", "profile", behaviour=long, capability="Python")
    stored = (await store.profiles.get(WS, "ana")).behaviour
    assert len(stored) <= FIELD_MAX and long.startswith(stored)
    assert f"the limit is {FIELD_MAX}" in reply.plain() and "Hobbies" in reply.plain()
    assert (await store.profiles.get(WS, "ana")).capability == "Python"


async def test_markup_and_mentions_are_stored_plain_and_shown_inert(core: Rapport, store) -> None:
    pasted = ("<!channel> ping <@U999|mallory> and <#C1|general>, [free money](https://evil.example) "
              "<https://x.example|docs> @everyone @here")
    reply = await submit(core, "ana", "profile", behaviour=pasted)
    assert "plain text" in reply.plain()
    stored = (await store.profiles.get(WS, "ana")).behaviour
    assert "<" not in stored and ">" not in stored and "](" not in stored
    assert "free money (https://evil.example)" in stored and "@mallory" in stored and "#general" in stored
    shown_text = (await command(core, "bob", "profile <@ana>")).plain()
    assert not re.search(r"<[@#!]", shown_text.replace("<@ana>", ""))
    for dangerous in ("@everyone", "@here", "@channel", "@mallory", "]("):
        assert dangerous not in shown_text
    assert "@\u200beveryone" in shown_text  # still readable, no longer a mention


async def test_empty_submissions_store_nothing_and_lose_nothing(core: Rapport, store) -> None:
    reply = await submit(core, "ana", "profile", environment="", behaviour=" ", capability="", tz="",
                         working_hours="")
    assert "Nothing saved" in reply.text and await store.profiles.get(WS, "ana") is None
    await submit(core, "ana", "profile", behaviour="hiking")
    reply = await submit(core, "ana", "profile", environment="", behaviour="", capability="")
    assert "kept your profile as it was" in reply.text and "/rapport profile clear" in reply.text
    assert (await store.profiles.get(WS, "ana")).behaviour == "hiking"


async def test_profiles_of_others_unknown_people_and_clear(core: Rapport, store) -> None:
    assert "has not filled in a profile" in (await command(core, "ana", "profile <@bob>")).text
    assert "don't know <@zed>" in (await command(core, "ana", "profile <@zed>")).text
    assert "not filled in a profile yet" in (await command(core, "ana", "profile show")).text
    assert "no profile to delete" in (await command(core, "ana", "profile clear")).text

    await submit(core, "ana", "profile", behaviour="hiking, chess")
    model = (await core.matchers.aget()).name
    assert (await store.profiles.vectors(WS, model, ["ana"]))["ana"].keys() == {"hiking", "chess"}
    assert "Deleted your profile" in (await command(core, "ana", "profile clear")).text
    assert await store.profiles.get(WS, "ana") is None
    assert await store.profiles.vectors(WS, (await core.matchers.aget()).name) == {}
    assert "did not understand" in (await command(core, "ana", "profile frobnicate")).text


async def test_changing_a_profile_drops_vectors_of_phrases_it_no_longer_has(core: Rapport, store) -> None:
    await submit(core, "ana", "profile", behaviour="hiking, chess")
    await submit(core, "ana", "profile", behaviour="hiking, sailing")
    assert (await store.profiles.vectors(WS, (await core.matchers.aget()).name))["ana"].keys() == {"hiking", "sailing"}


async def test_export_and_erase_include_the_profile(core: Rapport, store) -> None:
    await submit(core, "ana", "profile", behaviour="hiking", tz="Europe/Berlin")
    repo = store.profiles
    assert repo in store.personal
    exported = await repo.export_member(WS, "ana")
    assert exported["profile"]["behaviour"] == "hiking" and exported["profile"]["tz"] == "Europe/Berlin"
    assert await repo.erase_member(WS, "ana") == 1
    assert await repo.get(WS, "ana") is None and await repo.vectors(WS, (await core.matchers.aget()).name) == {}


async def test_a_different_matcher_re_embeds_instead_of_mixing_vectors(core: Rapport, store) -> None:
    await submit(core, "ana", "profile", behaviour="hiking")
    before = (await core.matchers.aget()).name
    lexical = LexicalMatcher()
    core.matchers.use(lexical)
    await submit(core, "ana", "profile", behaviour="hiking, chess")
    assert (await store.profiles.vectors(WS, "lexical"))["ana"].keys() == {"hiking", "chess"}
    assert before == "lexical" or await store.profiles.vectors(WS, before) == {}


def test_phrases_split_on_commas_semicolons_and_newlines() -> None:
    assert split_phrases("trail running, sourdough and board games;\n- chess\n\n•  SQL ") == [
        "trail running", "sourdough", "board games", "chess", "SQL"]
    assert split_phrases("  ,; and ") == []


def test_looking_for_intents() -> None:
    assert looking_for("a mentor in public speaking") == ("mentee", "public speaking")
    assert looking_for("someone to mentor me in Go") == ("mentee", "Go")
    assert looking_for("to mentor others in SQL") == ("mentor", "SQL")
    assert looking_for("to learn Rust with others") == ("learn", "Rust")
    assert looking_for("to be known for accessibility") == ("known", "accessibility")
    assert looking_for("clients") == ("clients", "")
    assert looking_for("a job") == ("job", "")
    assert looking_for("old friends") == ("friends", "")
    assert looking_for("hiking buddies") == ("other", "hiking buddies")
    profile = Profile(WS, "ana", behaviour="hiking", looking_for="a mentor in Go, clients")
    assert [(p.text, p.level, p.intent) for p in profile.phrases()] == [
        ("hiking", "behaviour", None), ("Go", "looking_for", "mentee")]


def test_markup_plain_text_tidy_and_shown() -> None:
    assert markup.plain_text("<@U1|ana> <@U2> <!here> <https://a.example|site> <:party:123>") == (
        "@ana @U2 @here site (https://a.example) :party:")
    assert markup.form_values([("a", "<#C1|general>"), ("b", "plain")]) == (
        (("a", "#general"), ("b", "plain")), frozenset({"a"}))
    assert tidy("a\r\n\n  b\x00c\u202e") == "a\nbc"
    assert shown("<b>*hi*</b> `x` [a](b) @everyone") == "‹b›*hi*‹/b› 'x' [a] (b) @\u200beveryone"


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if name and hasattr(part, "columns"):
            return name
    return item[2] if isinstance(item, tuple) and len(item) > 2 and isinstance(item[2], str) else None


async def test_migration_matches_models(sql_store) -> None:
    async with sql_store.engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert [d for d in diffs if _table_of(d) in MY_TABLES] == []
    async with sql_store.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
    assert MY_TABLES <= tables
