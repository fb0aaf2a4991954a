"""Removing the bot from a server erases that server's data, as Slack's uninstall does; an outage erases nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.discord.conftest import ANA, BOB, DEE, GUILD, OTHER_CHAT, OTHER_GUILD, Harness
from tests.outage import database_down

TABLES = ("messages", "questions", "contacts", "members")


async def left(harness: Harness, guild: int) -> dict[str, int]:
    async with harness.store.engine.connect() as connection:
        return {table: (await connection.execute(text(f"SELECT count(*) FROM {table} WHERE workspace = :w"),
                                                 {"w": str(guild)})).scalar_one() for table in TABLES}


async def chat(harness: Harness) -> None:
    question = await harness.post(ANA, 0, f"<@{BOB}> how do I rotate the staging keys?", mentions=(BOB,))
    await harness.post(BOB, 2, "there's a script in ops/", reply_to=question)
    other = await harness.post(DEE, 0, f"<@{ANA}> what is the on-call rota?", guild=OTHER_GUILD, channel=OTHER_CHAT,
                               mentions=(ANA,))
    await harness.post(ANA, 1, "it's in the handbook", guild=OTHER_GUILD, channel=OTHER_CHAT, reply_to=other)


async def test_removal_from_a_server_erases_its_data_and_no_other(discord_bot: Harness) -> None:
    await chat(discord_bot)
    before = await left(discord_bot, GUILD)
    assert before["messages"] == 2 and before["members"] >= 2 and before["questions"] == 1
    others = await left(discord_bot, OTHER_GUILD)

    await discord_bot.send("GUILD_DELETE", {"id": str(GUILD)})

    assert await left(discord_bot, GUILD) == dict.fromkeys(TABLES, 0)
    assert await left(discord_bot, OTHER_GUILD) == others


async def test_a_server_that_is_only_unavailable_keeps_its_data(discord_bot: Harness) -> None:
    await chat(discord_bot)
    before = await left(discord_bot, GUILD)

    await discord_bot.send("GUILD_DELETE", {"id": str(GUILD), "unavailable": True})

    assert await left(discord_bot, GUILD) == before


async def test_a_removal_while_the_database_is_down_erases_when_it_is_back(discord_bot: Harness) -> None:
    """The gateway sends GUILD_DELETE once: an erasure lost to an outage kept the server's data for good."""
    await chat(discord_bot)
    store = discord_bot.store
    discord_bot.core.intake.backoff = (0.01, 0.05)
    with database_down(store, (store.privacy, "forget_workspace")):
        await discord_bot.fake.send("GUILD_DELETE", {"id": str(GUILD)})
        await asyncio.sleep(0.2)
    # The database is back.
    await discord_bot.client.drain()
    assert await left(discord_bot, GUILD) == dict.fromkeys(TABLES, 0)
