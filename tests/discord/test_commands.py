"""/rapport on Discord as its maintainers recommend: registered only when it changed (or on `rapport discord sync`),
typed coffee options with choices, ranges and autocomplete, manager commands hidden by default permissions, and the
sharded client on the fake gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from typer.testing import CliRunner

from adapters.cli import app
from adapters.discord.commands import ADMIN_PERMISSIONS
from storage.store import SqlStore
from tests.discord.conftest import ANA, CHAT, GUILD, Harness, ws_settings
from tests.discord.fake_discord import APP_ID, TOKEN, FakeDiscord
from tests.discord.test_interactions import embed_text
from tests.discord.test_permissions import coffee

AUTOCOMPLETE, AUTOCOMPLETE_RESULT = 4, 8
MANAGE = discord.Permissions(view_channel=True, send_messages=True, manage_channels=True)


def syncs(fake: FakeDiscord) -> list[Any]:
    return [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_commands_are_registered_only_when_they_changed(fake: FakeDiscord, sql_store: SqlStore) -> None:
    settings = ws_settings()
    harness = Harness(fake, sql_store, settings)
    await harness.start()
    assert len(syncs(fake)) == 1 and syncs(fake)[0].path == f"/applications/{APP_ID}/commands"
    assert settings.commands_state.read_text().strip() == harness.client.commands_hash()
    await harness.restart()
    assert len(syncs(fake)) == 1  # unchanged: not registered again

    def feature(router: Any) -> None:  # a release that adds a subcommand
        async def wave(ctx: Any, args: Any) -> Any:
            raise AssertionError("not called")
        router.command("wave", "wave @someone", "wave at someone")(wave)

    harness.features.append(feature)
    await harness.restart()
    assert len(syncs(fake)) == 2
    assert "wave" in {o["name"] for c in syncs(fake)[-1].body if c["name"] == "rapport" for o in c["options"]}
    await harness.stop()

    # Registering in listed servers instead is a change of where: registered there.
    moved = Harness(fake, sql_store, ws_settings(RAPPORT_DISCORD_COMMANDS_STATE=settings.commands_state,
                                                 DISCORD_GUILD_IDS=str(GUILD)))
    moved.features = harness.features
    await moved.start()
    await moved.stop()
    assert syncs(fake)[-1].path == f"/applications/{APP_ID}/guilds/{GUILD}/commands" and len(syncs(fake)) == 3


async def test_rapport_discord_sync_registers_regardless(fake: FakeDiscord, tmp_path: Any, monkeypatch: Any) -> None:
    state = tmp_path / "commands"
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("RAPPORT_DISCORD_COMMANDS_STATE", str(state))
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'rapport.db'}")
    monkeypatch.setenv("RAPPORT_SECRET_KEY", "test")
    for _ in range(2):  # the second time the hash is there and unchanged: still registered
        # In a thread: the command runs its own event loop, and the fake serves from this one.
        result = await asyncio.to_thread(CliRunner().invoke, app, ["discord", "sync"])
        assert result.exit_code == 0, result.output
        assert "registered" in result.output
    assert len(syncs(fake)) == 2 and state.exists()


async def test_admin_commands_are_hidden_from_members_by_default(discord_bot: Harness) -> None:
    [synced] = syncs(discord_bot.fake)
    commands = {c["name"]: c for c in synced.body}
    admin = commands["rapport-admin"]
    assert int(admin["default_member_permissions"]) == ADMIN_PERMISSIONS.value
    assert commands["rapport"]["default_member_permissions"] is None  # everyone sees /rapport
    assert {o["name"] for o in admin["options"]} == {"coffee-setup", "coffee-stop", "insights", "retention"}
    members = {o["name"] for o in commands["rapport"]["options"]}
    assert "insights" not in members and "coffee" in members


async def test_coffee_options_are_typed(discord_bot: Harness) -> None:
    [synced] = syncs(discord_bot.fake)
    commands = {c["name"]: c for c in synced.body}
    setup = {o["name"]: o for o in next(o for o in commands["rapport-admin"]["options"]
                                        if o["name"] == "coffee-setup")["options"]}
    assert [c["value"] for c in setup["cadence"]["choices"]] == ["weekly", "biweekly", "monthly"]
    assert [c["value"] for c in setup["day"]["choices"]][:2] == ["monday", "tuesday"]
    assert len(setup["day"]["choices"]) == 7
    assert (setup["size"]["min_value"], setup["size"]["max_value"]) == (2, 3)
    assert (setup["no_repeat"]["min_value"], setup["no_repeat"]["max_value"]) == (0, 52)
    assert setup["tz"]["autocomplete"] is True and setup["time"]["autocomplete"] is True
    assert setup["cross_teams"]["type"] == 5 and setup["channel"]["type"] == 7
    retention = next(o for o in commands["rapport-admin"]["options"] if o["name"] == "retention")
    assert (retention["options"][0]["min_value"], retention["options"][0]["max_value"]) == (30, 3650)
    member_coffee = next(o for o in commands["rapport"]["options"] if o["name"] == "coffee")
    assert member_coffee["type"] == 2  # a group of subcommands, no free text
    assert {o["name"] for o in member_coffee["options"]} == {"join", "leave", "skip", "pause", "status", "avoid",
                                                            "unavoid", "checkin"}
    for sub in member_coffee["options"]:
        assert "details" not in {o["name"] for o in sub.get("options", [])}


async def test_typed_setup_reaches_the_core_and_sets_coffee_up(discord_bot: Harness) -> None:
    said = await coffee(discord_bot, ANA, "setup biweekly thursday 09:30 size 3 cross-teams no-repeat 6 "
                                          "tz Asia/Tokyo", CHAT, MANAGE)
    assert "every other Thursday" in said
    settings = await discord_bot.core.store.coffee.channel(str(GUILD), str(CHAT))
    assert settings is not None
    assert (settings.cadence, settings.hour, settings.minute, settings.group_size, settings.cross_teams,
            settings.no_repeat, settings.tz) == ("biweekly", 9, 30, 3, True, 6, "Asia/Tokyo")
    assert "You are in" in await coffee(discord_bot, ANA, "join", CHAT)


async def autocomplete(harness: Harness, option: str, typed: str) -> list[str]:
    data = {"id": "2", "name": "rapport-admin", "type": 1, "options": [{"name": "coffee-setup", "type": 1, "options": [
        {"name": "cadence", "type": 3, "value": "weekly"}, {"name": "day", "type": 3, "value": "monday"},
        {"name": option, "type": 3, "value": typed, "focused": True}]}]}
    before = len(harness.responses())
    await harness.send("INTERACTION_CREATE", harness.interaction(AUTOCOMPLETE, data, ANA, permissions=MANAGE))
    for _ in range(200):  # discord.py answers autocomplete in a task of its own, outside the client's handlers
        if len(harness.responses()) > before:
            break
        await asyncio.sleep(0.01)
    [answer] = harness.responses()[before:]
    assert answer["type"] == AUTOCOMPLETE_RESULT
    return [c["value"] for c in answer["data"]["choices"]]


async def test_time_zones_and_times_autocomplete(discord_bot: Harness) -> None:
    assert await autocomplete(discord_bot, "tz", "paris") == ["Europe/Paris"]
    new_york = await autocomplete(discord_bot, "tz", "new york")
    assert "America/New_York" in new_york
    assert len(await autocomplete(discord_bot, "tz", "")) == 25  # Discord shows at most 25
    assert await autocomplete(discord_bot, "time", "9") == ["09:00", "09:30"]
    assert await autocomplete(discord_bot, "time", "14:") == ["14:00", "14:30"]


async def test_the_sharded_client_identifies_as_a_shard(discord_bot: Harness) -> None:
    assert isinstance(discord_bot.client, discord.AutoShardedClient)
    assert discord_bot.fake.identified[-1]["shard"] == [0, 1]  # Discord said 1 shard (GET /gateway/bot)
    assert discord_bot.client.shard_count == 1 and discord_bot.client.get_guild(GUILD) is not None
    said = await coffee(discord_bot, ANA, "status", CHAT)
    assert said  # interactions and events work through the shard
    assert embed_text(discord_bot.responses()[-1]) == said
