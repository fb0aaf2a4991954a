"""Messages the core sends on its own: rate limits waited out, refused DMs never silently lost, guilds kept apart."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

import pytest

from bot.replies import Button, Reply
from storage.store import SqlStore
from tests.discord.conftest import ANA, BOB, CHAT, DEE, GUILD, OTHER_CHAT, Harness, ws_settings
from tests.discord.fake_discord import FakeDiscord
from tests.outage import database_down

NUDGE = Reply("Say hi to <@1200000000000000001>?", buttons=(Button("Sure", "hello", "1"),))
MESSAGES = r"/channels/\d+/messages"
THIRD_CHAT = 1110000000000000003


async def test_a_rate_limited_dm_is_waited_out_and_sent_once(discord_bot: Harness) -> None:
    discord_bot.fake.rate_limit[("POST", MESSAGES)] = 1
    started = time.monotonic()

    assert await discord_bot.core.outbound.send_direct(str(GUILD), str(BOB), NUDGE)

    assert time.monotonic() - started >= discord_bot.fake.retry_after
    limited = [r for r in discord_bot.fake.requests if r.status == 429]
    [sent] = discord_bot.fake.sent(MESSAGES)
    assert len(limited) == 1 and sent.path == limited[0].path
    assert sent.body["embeds"][0]["description"] == NUDGE.text
    assert sent.body["components"][0]["components"][0]["custom_id"] == f"rapport:{GUILD}:hello|1"


async def test_a_refused_dm_goes_to_the_channel_given(discord_bot: Harness) -> None:
    discord_bot.fake.closed_dms.add(BOB)

    assert await discord_bot.client.outbound.send_direct(str(GUILD), str(BOB), NUDGE, fallback_channel=str(CHAT))

    [posted] = discord_bot.fake.sent(MESSAGES)
    assert posted.path == f"/channels/{CHAT}/messages"
    assert posted.body["content"] == f"<@{BOB}>"
    assert posted.body["allowed_mentions"]["users"] == [BOB]  # pings the member, nobody else


async def test_a_refused_dm_without_a_channel_is_reported_undelivered(discord_bot: Harness,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    discord_bot.fake.closed_dms.add(BOB)
    caplog.set_level(logging.INFO, logger="adapters.discord")

    assert not await discord_bot.core.outbound.send_direct(str(GUILD), str(BOB), NUDGE)

    assert discord_bot.fake.sent(MESSAGES) == []
    undeliverable = [r.getMessage() for r in caplog.records if "undeliverable" in r.getMessage()]
    assert undeliverable == [f"discord: direct message to {BOB} in {GUILD} undeliverable"]
    assert "Say hi" not in caplog.text


async def test_a_server_reaches_only_its_own_members_and_channels(discord_bot: Harness) -> None:
    outbound = discord_bot.core.outbound
    assert not await outbound.send_direct(str(GUILD), str(DEE), NUDGE)  # Dee is only in the other server
    assert not await outbound.send_channel(str(GUILD), str(OTHER_CHAT), NUDGE)
    assert not await outbound.send_direct("T0123SLACK", str(ANA), NUDGE)  # not a Discord workspace at all
    assert discord_bot.fake.sent(MESSAGES) == []

    assert await outbound.send_channel(str(GUILD), str(CHAT), NUDGE)
    assert [r.path for r in discord_bot.fake.sent(MESSAGES)] == [f"/channels/{CHAT}/messages"]


async def test_joining_a_server_says_once_what_is_recorded(discord_bot: Harness) -> None:
    guild = discord_bot.client.get_guild(GUILD)
    assert guild is not None
    await discord_bot.client.on_guild_join(guild)
    await discord_bot.client.on_guild_join(guild)  # a rejoin: said already
    await discord_bot.client.deferred.drain()
    [notice] = discord_bot.fake.sent(MESSAGES)
    assert "never store what anyone writes" in notice.body["embeds"][0]["description"]


async def test_the_join_notice_goes_where_the_bot_may_post(fake: FakeDiscord, sql_store: SqlStore) -> None:
    """A server's system channel is often one where members (and bots) may not post: the notice goes to the first
    channel the bot may post in instead of being refused there, and never said."""
    fake.guilds[GUILD] = replace(fake.guilds[GUILD], channels=[CHAT, THIRD_CHAT], system_channel=CHAT,
                                 bot_muted=(CHAT,))
    harness = Harness(fake, sql_store, ws_settings())
    await harness.start()
    try:
        guild = harness.client.get_guild(GUILD)
        assert guild is not None
        await harness.client.on_guild_join(guild)
        await harness.client.deferred.drain()
    finally:
        await harness.stop()
    assert [r.path for r in fake.sent(MESSAGES)] == [f"/channels/{THIRD_CHAT}/messages"]


async def test_the_join_notice_waits_out_a_database_outage(discord_bot: Harness) -> None:
    """The gateway says GUILD_CREATE for a new server once: a notice given up while the database was away was
    never said."""
    store = discord_bot.core.store
    with database_down(store, (store.runs, "deliver_once")):
        guild = discord_bot.client.get_guild(GUILD)
        assert guild is not None
        await discord_bot.client.on_guild_join(guild)
        await asyncio.sleep(0.8)  # longer than a single retry would have waited
        assert discord_bot.fake.sent(MESSAGES) == []
    # The database is back.
    await discord_bot.client.deferred.drain()
    [notice] = discord_bot.fake.sent(MESSAGES)
    assert "never store what anyone writes" in notice.body["embeds"][0]["description"]


async def test_permalinks_are_built_from_ids(discord_bot: Harness) -> None:
    link = await discord_bot.core.outbound.permalink(str(GUILD), str(CHAT), "1300000000000000042")
    assert link == f"https://discord.com/channels/{GUILD}/{CHAT}/1300000000000000042"
    assert await discord_bot.client.outbound.permalink(str(GUILD), str(CHAT), "not-an-id") is None
    assert await discord_bot.core.outbound.permalink("T0SLACK", str(CHAT), "x") is None  # no platform serves it
