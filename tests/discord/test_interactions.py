"""/rapport, buttons and forms through discord.py's command tree and view store, answered by the real core."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from adapters.discord import interactions
from bot.commands import Args, Context, Router
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN
from bot.replies import Button, Form, FormField, Reply, Section
from tests.discord.conftest import ANA, BOB, CID, DEE, GUILD, Harness, ws_settings

MODAL, UPDATE_LATER, MESSAGE, DEFERRED_MESSAGE = 9, 6, 4, 5
EPHEMERAL = 64


def wave_feature(router: Router) -> None:
    """A feature with a button and a form, as later features (pairing, nudges) will have."""

    @router.command("wave", "wave", "a button to press")
    async def wave(ctx: Context, args: Args) -> Reply:
        return Reply("Wave back?", buttons=(Button("Wave", "wave", "42", "primary"),), ephemeral=False)

    @router.action("wave")
    async def waved(ctx: Context, value: str) -> Reply:
        admin = " as admin" if ctx.is_admin else ""
        return Reply(f"<@{ctx.user}> waved {value} in {ctx.workspace}{admin}")

    @router.action("intro")
    async def intro(ctx: Context, value: str) -> Reply:
        return Reply("", form=Form("intro", "About you", (FormField("hobby", "A hobby", "chess", 50),), "Optional"))

    @router.form("intro")
    async def introduced(ctx: Context, values: dict[str, str], flattened: frozenset[str]) -> Reply:
        return Reply(f"Saved {sorted(values.items())} for <@{ctx.user}>, plain: {sorted(flattened)}")

    @router.command("slow", "slow", "takes its time")
    async def slow(ctx: Context, args: Args) -> Reply:
        await asyncio.sleep(0.3)
        return Reply("done at last")


@pytest.fixture
async def bot_with_buttons(discord_bot: Harness) -> Harness:
    discord_bot.features.append(wave_feature)
    await discord_bot.restart()
    return discord_bot


def embed_text(response: dict[str, Any]) -> str:
    embed = response["data"]["embeds"][0]
    fields = (f"{f['name']}: {f['value']}" for f in embed.get("fields", []))
    return "\n".join([embed.get("description") or "", *fields])


def press(harness: Harness, message: dict[str, Any], by: int, **kw: Any) -> dict[str, Any]:
    custom_id = message["components"][0]["components"][0]["custom_id"]
    return harness.interaction(3, {"custom_id": custom_id, "component_type": 2}, by, message=message, **kw)


async def test_me_lists_relationships_by_stage(discord_bot: Harness) -> None:
    question = await discord_bot.post(ANA, 0, f"<@{BOB}> how do I deploy?", mentions=(BOB,))
    await discord_bot.post(BOB, 1, "make deploy", reply_to=question)
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("me", BOB))

    [response] = discord_bot.responses()
    assert response["type"] == MESSAGE and response["data"]["flags"] == EPHEMERAL
    assert embed_text(response) == f"**Your relationships**\nAcquaintances (1): <@{ANA}>"
    assert response["data"]["allowed_mentions"] == {"parse": []}


async def test_with_a_member_option_reaches_the_core_as_a_mention(discord_bot: Harness) -> None:
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("with", ANA, {"someone": BOB}))

    [response] = discord_bot.responses()
    assert embed_text(response).startswith(f"You and <@{BOB}> have not been in touch yet.")


async def test_help_lists_the_core_commands(discord_bot: Harness) -> None:
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("help", ANA))

    text = embed_text(discord_bot.responses()[0])
    assert "`/rapport me [map]`" in text and "`/rapport with @someone`" in text
    assert "`/rapport-admin`: `coffee-setup`, `coffee-stop`, `insights` and `retention`" in text  # where they are here


async def test_status_says_what_the_bot_cannot_see(fake: Any, sql_store: Any) -> None:
    harness = Harness(fake, sql_store, ws_settings(RAPPORT_DISCORD_MESSAGE_CONTENT=False))
    await harness.start()
    try:
        question = await harness.post(ANA, 0, f"<@{BOB}> how do I deploy?", mentions=(BOB,))
        await harness.post(BOB, 1, "make deploy", reply_to=question)
        await harness.send("INTERACTION_CREATE", harness.command("status", ANA))
    finally:
        await harness.stop()

    assert not fake.identified[-1]["intents"] & discord.Intents(message_content=True).value
    assert "not visible" in embed_text(harness.responses()[0])
    [stats] = await sql_store.graph.pair_stats(str(GUILD), harness.clock.now())
    assert stats.contact_days == 1 and stats.asked_ab == stats.asked_ba == 0  # structure only, no text


async def test_a_button_keeps_working_after_a_restart(bot_with_buttons: Harness) -> None:
    harness = bot_with_buttons
    await harness.send("INTERACTION_CREATE", harness.command("wave", ANA))
    [shown] = harness.responses()
    assert shown["data"].get("flags", 0) & EPHEMERAL == 0
    message = harness.fake.bot_message(1, shown["data"])  # the message as Discord shows it to members

    await harness.restart()
    await harness.send("INTERACTION_CREATE", press(harness, message, BOB))
    await harness.send("INTERACTION_CREATE", press(harness, message, CID,
                                                   permissions=discord.Permissions(manage_guild=True)))

    first, second = harness.responses()[1:]
    assert embed_text(first) == f"<@{BOB}> waved 42 in {GUILD}"
    assert embed_text(second) == f"<@{CID}> waved 42 in {GUILD} as admin"



async def test_a_button_in_a_direct_message_acts_in_its_server(bot_with_buttons: Harness) -> None:
    harness = bot_with_buttons
    delivered = await harness.core.outbound.send_direct(
        str(GUILD), str(BOB), Reply("Say hi to Ana?", buttons=(Button("Wave", "wave", "7"),)))
    assert delivered
    [dm] = harness.fake.sent(r"/channels/\d+/messages")
    message = harness.fake.bot_message(int(dm.path.split("/")[2]), dm.body)

    await harness.restart()
    await harness.send("INTERACTION_CREATE", press(harness, message, BOB, guild=None))
    await harness.send("INTERACTION_CREATE", press(harness, message, DEE, guild=None))  # not in that server

    member, stranger = harness.responses()
    assert embed_text(member) == f"<@{BOB}> waved 7 in {GUILD}"
    assert "not a member of that server" in embed_text(stranger)


async def test_a_form_opens_as_a_modal_and_its_answers_reach_the_core(bot_with_buttons: Harness) -> None:
    harness = bot_with_buttons
    message = harness.fake.bot_message(1, {"components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Intro", "custom_id": f"rapport:{GUILD}:intro|"}]}]})
    await harness.send("INTERACTION_CREATE", press(harness, message, ANA))
    [modal] = harness.responses()
    assert modal["type"] == MODAL
    assert modal["data"]["custom_id"] == f"rapport-form:{GUILD}:intro"

    await harness.restart()  # a form opened before a restart can be sent after it
    submitted = {"custom_id": modal["data"]["custom_id"], "components": [
        {"type": 10, "id": 1, "content": "Optional"},
        {"type": 18, "id": 2, "component": {"type": 4, "id": 3, "custom_id": "hobby",
                                            "value": "go with <@123> <:stone:99> [rules](https://go.example)"}}]}
    await harness.send("INTERACTION_CREATE", harness.interaction(5, submitted, ANA))

    # Discord's markup reaches the core as the plain text it reads as, and the core is told which field held it.
    assert embed_text(harness.responses()[1]) == (
        f"Saved [('hobby', 'go with @123 :stone: rules (https://go.example)')] for <@{ANA}>, plain: ['hobby']")


async def test_slow_work_is_deferred_then_followed_up(bot_with_buttons: Harness,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interactions, "QUICK", 0.05)
    await bot_with_buttons.send("INTERACTION_CREATE", bot_with_buttons.command("slow", ANA))

    [deferred] = bot_with_buttons.responses()
    assert deferred["type"] == DEFERRED_MESSAGE and deferred["data"]["flags"] == EPHEMERAL
    [follow_up] = bot_with_buttons.fake.sent(r"/webhooks/\d+/[^/]+")
    assert follow_up.body["embeds"][0]["description"] == "done at last"


async def test_admins_are_told_apart(discord_bot: Harness) -> None:
    seen: list[frozenset[str]] = []

    def feature(router: Router) -> None:
        @router.command("whoami", "whoami", "roles")
        async def whoami(ctx: Context, args: Args) -> Reply:
            seen.append(ctx.roles)
            return Reply("ok")

    discord_bot.features.append(feature)
    await discord_bot.restart()
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("whoami", ANA))
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command(
        "whoami", ANA, permissions=discord.Permissions(administrator=True)))
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command(
        "whoami", ANA, permissions=discord.Permissions(manage_channels=True)))

    assert seen == [frozenset(), frozenset({WORKSPACE_ADMIN}), frozenset({CHANNEL_MANAGER})]


async def test_a_long_answer_is_cut_to_what_discord_accepts(discord_bot: Harness) -> None:
    """Discord refuses a message whose embeds hold more than 6,000 characters in all (or 25 fields): the member
    would get "the application did not respond". Long answers (a busy coffee status) are cut, saying so."""
    line = "<@1200000000000000002> and <@1200000000000000003>: shared working hours and interests"

    def feature(router: Router) -> None:
        @router.command("long", "long", "a long answer")
        async def long(ctx: Context, args: Args) -> Reply:
            return Reply("Groups so far " + "x" * 2000, tuple(Section(f"Round {n}", (line,) * 30) for n in range(3)))

        @router.command("many", "many", "many short sections")
        async def many(ctx: Context, args: Args) -> Reply:
            return Reply("Stages", tuple(Section(f"Stage {n}", ("one",)) for n in range(30)))

    discord_bot.features.append(feature)
    await discord_bot.restart()
    for name in ("long", "many"):
        await discord_bot.send("INTERACTION_CREATE", discord_bot.command(name, ANA))

    long, many = discord_bot.responses()
    assert "Round 0" in embed_text(long) and embed_text(long).endswith("…and more")
    assert len(many["data"]["embeds"][0]["fields"]) == 25 and embed_text(many).endswith("…and more")


async def private_file(bot: Harness, command: str, position: int, label: str) -> dict:
    """Ana runs `command` and presses the button at `position` of its answer, labelled `label`: the one upload
    that follows (its body)."""
    await bot.send("INTERACTION_CREATE", bot.command(command, ANA))
    [answer] = bot.responses()
    message = bot.fake.bot_message(1, answer["data"])
    pressed = message["components"][0]["components"][position]
    assert pressed["label"] == label
    await bot.send("INTERACTION_CREATE", bot.interaction(
        3, {"custom_id": pressed["custom_id"], "component_type": 2}, ANA, message=message))
    [upload] = [r.body for r in bot.fake.requests if isinstance(r.body, dict) and r.body.get("files")]
    return upload


async def test_privacy_export_arrives_as_a_private_file(discord_bot: Harness) -> None:
    question = await discord_bot.post(ANA, 0, f"<@{BOB}> where is the runbook?", mentions=(BOB,))
    await discord_bot.post(BOB, 1, "in the wiki", reply_to=question)
    upload = await private_file(discord_bot, "privacy", 1, "Export (JSON)")
    [(name, content)] = upload["files"].items()
    assert name == f"rapport-{GUILD}-{ANA}.json"
    document = __import__("json").loads(content)
    assert [r["with"] for r in document["relationships"]] == [str(BOB)]
    assert b"runbook" not in content
    assert upload.get("flags", 0) & EPHEMERAL or upload.get("data", {}).get("flags", 0) & EPHEMERAL


async def test_commands_with_choices_work_without_options(discord_bot: Harness) -> None:
    """`/rapport profile` alone opens the profile form; its options (someone, details) are optional."""
    group = discord_bot.client.tree.get_command("rapport")
    profile = group.get_command("profile")  # type: ignore[union-attr]
    assert [(p.name, p.required) for p in profile.parameters] == [("someone", False), ("details", False)]

    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("profile", ANA))
    [response] = discord_bot.responses()
    assert response["type"] == MODAL
    shown = str(response["data"]["components"])
    assert "Members of this workspace can see your profile" in shown  # the form says who can see it
    assert shown.count("'custom_id': 'capability'") == 1  # all five fields fit


async def test_my_map_arrives_as_a_private_picture(discord_bot: Harness) -> None:
    question = await discord_bot.post(ANA, 0, f"<@{BOB}> where is the runbook?", mentions=(BOB,))
    await discord_bot.post(BOB, 1, "in the wiki", reply_to=question)
    upload = await private_file(discord_bot, "me", 0, "See it as a picture")
    [(name, content)] = upload["files"].items()
    assert name == f"rapport-map-{GUILD}-{ANA}.png" and content.startswith(b"\x89PNG")
    assert upload.get("flags", 0) & EPHEMERAL or upload.get("data", {}).get("flags", 0) & EPHEMERAL
