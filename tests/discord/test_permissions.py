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


def coffee_interaction(details: str) -> dict[str, Any]:
    """The typed `/rapport coffee ...` (or `/rapport-admin coffee-setup|coffee-stop`) a member would fill in to
    say `coffee <details>`: the options Discord sends, with the channel named resolved as Discord resolves it."""
    words = details.split()
    sub, rest = words[0], words[1:]
    options: list[dict[str, Any]] = []
    resolved: dict[str, Any] = {}
    if rest and rest[0].startswith("<#"):
        channel = rest.pop(0)[2:-1]
        options.append({"name": "channel", "type": 7, "value": channel})
        resolved["channels"] = {channel: {"id": channel, "type": 0, "name": "team", "permissions": "0"}}
    if sub == "setup":
        options += [{"name": n, "type": 3, "value": v} for n, v in zip(("cadence", "day", "time"), rest[:3],
                                                                         strict=True)]
        rest = rest[3:]
        while rest:
            word = rest.pop(0)
            if word == "cross-teams":
                options.append({"name": "cross_teams", "type": 5, "value": True})
            elif word in ("size", "no-repeat"):
                options.append({"name": word.replace("-", "_"), "type": 4, "value": int(rest.pop(0))})
            else:
                options.append({"name": word, "type": 3, "value": rest.pop(0)})
    elif sub == "pause":
        options.append({"name": "until", "type": 3, "value": rest[-1]})
    elif sub == "join" and rest:
        options.append({"name": "team", "type": 3, "value": " ".join(rest[1:])})
    elif sub == "checkin":
        options.append({"name": "answer", "type": 3, "value": rest[0]})
    admin = sub in ("setup", "stop")
    command = {"name": f"coffee-{sub}" if admin else sub, "type": 1, "options": options}
    if admin:
        return {"id": "2", "name": "rapport-admin", "type": 1, "options": [command], "resolved": resolved}
    return {"id": "1", "name": "rapport", "type": 1, "resolved": resolved,
            "options": [{"name": "coffee", "type": 2, "options": [command]}]}


async def coffee(harness: Harness, by: int, details: str, channel: int, permissions: Any = None) -> str:
    """`/rapport coffee ...` as a member fills it in; Discord computes their permissions in `channel`."""
    await harness.send("INTERACTION_CREATE", harness.interaction(2, coffee_interaction(details), by, channel=channel,
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
