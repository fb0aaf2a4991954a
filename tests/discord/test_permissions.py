"""Permission checks through the real Discord client: made on the channel a command names, not where it is typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from storage.store import SqlStore
from tests.discord.conftest import ANA, BOB, CHAT, GUILD, Harness, ws_settings
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_interactions import embed_text

TEAM, BOBS = 1110000000000000011, 1110000000000000012
MANAGE = discord.Permissions(view_channel=True, send_messages=True, manage_channels=True)


@pytest.fixture
async def harness(fake: FakeDiscord, sql_store: SqlStore) -> AsyncIterator[Harness]:
    guild = fake.guilds[GUILD]
    guild.channels += [TEAM, BOBS]
    guild.managers = {TEAM: (ANA,), BOBS: (BOB,)}
    running = Harness(fake, sql_store, ws_settings())
    await running.start()
    yield running
    await running.stop()


async def coffee(harness: Harness, by: int, details: str, channel: int, permissions: Any = None) -> str:
    """`/rapport coffee details:...` as a member types it; Discord computes their permissions in `channel`."""
    data = {"id": "1", "name": "rapport", "type": 1, "options": [
        {"name": "coffee", "type": 1, "options": [{"name": "details", "type": 3, "value": details}]}]}
    await harness.send("INTERACTION_CREATE", harness.interaction(2, data, by, channel=channel,
                                                                 permissions=permissions))
    return embed_text(harness.responses()[-1])


async def test_coffee_permissions_are_checked_on_the_channel_named(harness: Harness) -> None:
    assert "Tuesday" in await coffee(harness, ANA, "setup weekly tuesday 10:00", TEAM, MANAGE)

    refused = f"Sorry, only a workspace admin or someone who manages <#{TEAM}> can do that."
    # Bob manages the channel he types in, not the one he names.
    assert refused in await coffee(harness, BOB, f"stop <#{TEAM}>", BOBS, MANAGE)
    assert refused in await coffee(harness, BOB, f"setup <#{TEAM}> monthly friday 16:00", BOBS, MANAGE)
    status = await coffee(harness, BOB, f"status <#{TEAM}>", BOBS, MANAGE)
    assert "Tuesday" in status and "Last round" not in status
    # Ana manages TEAM (a permission overwrite there): from a channel where she manages nothing, she still may.
    assert "Last round" in await coffee(harness, ANA, f"status <#{TEAM}>", CHAT)
    assert "is stopped" in await coffee(harness, ANA, f"stop <#{TEAM}>", CHAT)
