"""Starting up: one clear line for the failures a user can fix, the intents asked for, /rapport registered."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest

from adapters import PlatformError
from adapters.discord.bot import run_discord
from adapters.discord.client import INVITE_PERMISSIONS, INVITE_SCOPES
from bot.app import Rapport
from bot.outbound import Outbounds
from storage.store import SqlStore
from tests.discord.conftest import GUILD, Harness, ws_settings
from tests.discord.fake_discord import APP_ID, FakeDiscord
from tests.fakes import FakeClock

DOCS = Path(__file__).parents[2] / "README.md"


async def test_a_bad_token_is_one_clear_line(fake: FakeDiscord, sql_store: SqlStore) -> None:
    core = Rapport(sql_store, FakeClock(), Outbounds())
    with pytest.raises(PlatformError) as failed:
        await run_discord(core, ws_settings(DISCORD_BOT_TOKEN="not-the-token"))
    assert "DISCORD_BOT_TOKEN" in str(failed.value) and "\n" not in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


async def test_message_content_not_enabled_in_the_portal_says_what_to_do(fake: FakeDiscord,
                                                                        sql_store: SqlStore) -> None:
    fake.refuse_privileged_intents = True
    core = Rapport(sql_store, FakeClock(), Outbounds())
    with pytest.raises(PlatformError, match="Message Content Intent") as failed:
        await run_discord(core, ws_settings())
    assert "\n" not in str(failed.value)


async def test_asks_only_for_the_intents_it_needs(discord_bot: Harness) -> None:
    asked = discord.Intents._from_value(discord_bot.fake.identified[-1]["intents"])
    assert {name for name, on in asked if on} == {"guilds", "guild_messages", "message_content"}


async def test_rapport_is_registered_globally_or_in_the_servers_given(fake: FakeDiscord,
                                                                      sql_store: SqlStore) -> None:
    harness = Harness(fake, sql_store, ws_settings(DISCORD_GUILD_IDS=f"{GUILD}"))
    await harness.start()
    await harness.stop()
    [synced] = [r for r in fake.requests if r.method == "PUT"]
    assert synced.path == f"/applications/{APP_ID}/guilds/{GUILD}/commands"
    [group] = [c for c in synced.body if c["name"] == "rapport"]
    subcommands = {o["name"]: o["options"] for o in group["options"]}
    assert {"help", "status", "me", "with"} <= set(subcommands)
    assert subcommands["with"] == [{"type": 6, "name": "someone", "description": "@someone (a member)",
                                    "required": True}]
    assert group["dm_permission"] is False


def test_the_docs_give_the_invite_the_bot_needs() -> None:
    text = DOCS.read_text()
    assert f"permissions={INVITE_PERMISSIONS.value}" in text
    assert "scope=" + "+".join(INVITE_SCOPES) in text
    documented = {name.lower().replace(" ", "_"): int(value)
                  for name, value in re.findall(r"^\| ([A-Za-z ]+) \| 1 << \d+ = (\d+) \|", text, re.M)}
    assert documented == {"view_channels": discord.Permissions(view_channel=True).value,
                          "send_messages": discord.Permissions(send_messages=True).value,
                          "embed_links": discord.Permissions(embed_links=True).value,
                          "send_messages_in_threads": discord.Permissions(send_messages_in_threads=True).value,
                          "attach_files": discord.Permissions(attach_files=True).value,
                          "create_private_threads": discord.Permissions(create_private_threads=True).value}
    assert sum(documented.values()) == INVITE_PERMISSIONS.value
