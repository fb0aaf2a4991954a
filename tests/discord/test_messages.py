"""Gateway messages into the question graph: replies, threads, duplicates, what is skipped, and guild isolation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.graph.rapport import Assessment, Stage, assess
from tests.discord.conftest import ANA, BOB, CHAT, CID, DEE, GUILD, OTHER_CHAT, OTHER_GUILD, T0, Harness
from tests.discord.fake_discord import thread
from tests.outage import database_down


async def pair(harness: Harness, a: int, b: int, guild: int = GUILD) -> Assessment | None:
    now = T0 + timedelta(days=1)
    found = [s for s in await harness.store.graph.pair_stats(str(guild), now)
             if {s.a, s.b} == {str(a), str(b)}]
    return assess(found[0], now) if found else None


async def test_reply_chain_of_questions_and_answers_makes_peers(discord_bot: Harness) -> None:
    q1 = await discord_bot.post(ANA, 0, f"<@{BOB}> how do I rotate the staging keys?", mentions=(BOB,))
    a1 = await discord_bot.post(BOB, 2, "there's a script in ops/", reply_to=q1)
    await discord_bot.post(ANA, 3, "thanks!", reply_to=a1)
    q2 = await discord_bot.post(BOB, 60, "did the rotation work?", reply_to=a1)
    await discord_bot.post(ANA, 61, "yes, all green", reply_to=q2)

    assessment = await pair(discord_bot, ANA, BOB)
    assert assessment is not None
    stats = assessment.stats
    assert (stats.asked_ab, stats.answered_ab, stats.asked_ba, stats.answered_ba) == (1, 1, 1, 1)
    assert assessment.stage is Stage.PEERS
    members = {m.user_id: m.name for m in await discord_bot.store.members.list(str(GUILD))}
    assert members == {str(ANA): "Ana", str(BOB): "Bob"}


async def test_thread_messages_belong_to_the_parent_channel(discord_bot: Harness) -> None:
    question = await discord_bot.post(CID, 0, "does anyone know where the design doc lives?")
    # Someone opens a thread on that message: the thread's id is the message's.
    await discord_bot.send("THREAD_CREATE", {**thread(question, CHAT, GUILD, ANA), "newly_created": True})
    await discord_bot.post(ANA, 30, "in the wiki under Platform", channel=question)

    assessment = await pair(discord_bot, ANA, CID)
    assert assessment is not None
    assert assessment.stats.answered_ab + assessment.stats.answered_ba == 1  # answered in the thread


async def test_a_burst_of_questions_and_replies_back_to_back_all_link(discord_bot: Harness) -> None:
    """As after a reconnect: discord.py handles each message in its own task, and every author is new (a member
    write each); a reply must still be read after the question it answers."""
    burst = []
    for i, (asker, answerer) in enumerate([(ANA, BOB), (CID, DEE), (BOB, CID)]):
        question = discord_bot.message_payload(asker, i, f"<@{answerer}> can you check build {i}?",
                                               mentions=(answerer,))
        burst += [question, discord_bot.message_payload(answerer, i + 0.5, "on it", reply_to=int(question["id"]))]
    await discord_bot.send("MESSAGE_CREATE", *burst)

    for asker, answerer in [(ANA, BOB), (CID, DEE), (BOB, CID)]:
        assessment = await pair(discord_bot, asker, answerer)
        assert assessment is not None
        stats = assessment.stats
        assert stats.answered_ab + stats.answered_ba == 1, (asker, answerer)


async def test_a_duplicate_delivery_counts_once(discord_bot: Harness) -> None:
    question = discord_bot.message_payload(ANA, 0, f"<@{BOB}> can you review my PR?", mentions=(BOB,))
    answer = discord_bot.message_payload(BOB, 5, "done, looks good", reply_to=int(question["id"]))
    for event in (question, answer, question, answer):  # a resumed session replays what it missed
        await discord_bot.send("MESSAGE_CREATE", event)
    await discord_bot.restart()
    for event in (question, answer):  # and so may a new process
        await discord_bot.send("MESSAGE_CREATE", event)

    assessment = await pair(discord_bot, ANA, BOB)
    assert assessment is not None
    assert (assessment.stats.asked_ab, assessment.stats.answered_ab, assessment.stats.contact_days) == (1, 1, 1)


async def test_bots_system_messages_and_webhooks_are_not_chat(discord_bot: Harness) -> None:
    question = await discord_bot.post(ANA, 0, "can someone restart the runner?")
    bot_answer = discord_bot.message_payload(BOB, 1, "restarted", reply_to=question)
    bot_answer["author"]["bot"] = True
    await discord_bot.send("MESSAGE_CREATE", bot_answer)
    await discord_bot.send("MESSAGE_CREATE", discord_bot.message_payload(CID, 2, "", type=7))  # member joined
    await discord_bot.send("MESSAGE_CREATE", discord_bot.message_payload(
        CID, 3, "restarted", reply_to=question, webhook_id="1500000000000000000"))

    assert await pair(discord_bot, ANA, BOB) is None
    assert await pair(discord_bot, ANA, CID) is None
    members = {m.user_id for m in await discord_bot.store.members.list(str(GUILD))}
    assert members == {str(ANA)}


async def test_deleting_an_answer_unlinks_it(discord_bot: Harness) -> None:
    question = await discord_bot.post(ANA, 0, f"<@{BOB}> is the build green?", mentions=(BOB,))
    answer = await discord_bot.post(BOB, 1, "yes", reply_to=question)
    answered = await pair(discord_bot, ANA, BOB)
    assert answered is not None and answered.stats.answered_ab + answered.stats.answered_ba == 1

    await discord_bot.send("MESSAGE_DELETE", {"id": str(answer), "channel_id": str(CHAT), "guild_id": str(GUILD)})

    # The question to Bob stays, unanswered again.
    assessment = await pair(discord_bot, ANA, BOB)
    assert assessment is not None
    assert (assessment.stats.asked_ab + assessment.stats.asked_ba, assessment.stats.answered_ab) == (1, 0)


async def test_a_deleted_thread_or_channel_takes_its_messages_with_it(discord_bot: Harness) -> None:
    question = await discord_bot.post(CID, 0, "does anyone know where the design doc lives?")
    await discord_bot.send("THREAD_CREATE", {**thread(question, CHAT, GUILD, ANA), "newly_created": True})
    await discord_bot.post(ANA, 30, "in the wiki under Platform", channel=question)
    graph = discord_bot.store.graph
    assert len(await graph.messages_in(str(GUILD), str(CHAT), str(question))) == 1

    await discord_bot.send("THREAD_DELETE", {"id": str(question), "guild_id": str(GUILD), "parent_id": str(CHAT),
                                             "type": 11})
    assert await graph.messages_in(str(GUILD), str(CHAT), str(question)) == []
    assert await pair(discord_bot, ANA, CID) is None  # the answer went with its thread, and so did their contact
    assert await graph.messages_in(str(GUILD), str(CHAT)) == [str(question)]  # the thread's root is the channel's

    await discord_bot.send("CHANNEL_DELETE", {"id": str(CHAT), "type": 0, "guild_id": str(GUILD), "name": "chat",
                                              "position": 0, "permission_overwrites": []})
    assert await graph.messages_in(str(GUILD), str(CHAT)) == []


async def test_guilds_are_separate_workspaces(discord_bot: Harness) -> None:
    question = await discord_bot.post(DEE, 0, f"<@{ANA}> what is the on-call rota?", guild=OTHER_GUILD,
                                      channel=OTHER_CHAT, mentions=(ANA,))
    await discord_bot.post(ANA, 1, "it's in the handbook", guild=OTHER_GUILD, channel=OTHER_CHAT, reply_to=question)

    assert await pair(discord_bot, ANA, DEE, OTHER_GUILD) is not None
    assert await pair(discord_bot, ANA, DEE, GUILD) is None
    await discord_bot.send("INTERACTION_CREATE", discord_bot.command("me", ANA))
    [response] = discord_bot.responses()
    assert "not seen you talk with anyone" in response["data"]["embeds"][0]["description"]


async def test_messages_received_while_the_database_is_down_are_stored_when_it_is_back(discord_bot: Harness) -> None:
    store = discord_bot.store
    discord_bot.core.intake.backoff = (0.01, 0.05)
    question = discord_bot.message_payload(ANA, 0, f"<@{BOB}> can you review my PR?", mentions=(BOB,))
    answer = discord_bot.message_payload(BOB, 5, "done, looks good", reply_to=int(question["id"]))
    with database_down(store, (store.graph, "record"), (store.members, "upsert")):
        await discord_bot.fake.send("MESSAGE_CREATE", question, answer)
        await asyncio.sleep(0.2)
        assert discord_bot.core.intake.waiting == 2 and await pair(discord_bot, ANA, BOB) is None
    # The database is back.
    assert await discord_bot.core.intake.drain(5) == 0
    assessment = await pair(discord_bot, ANA, BOB)
    assert assessment is not None and assessment.stats.answered_ab + assessment.stats.answered_ba == 1
    assert discord_bot.core.intake.dropped == 0


async def test_a_channel_deleted_while_the_database_is_down_is_forgotten_when_it_is_back(
        discord_bot: Harness) -> None:
    """The gateway sends a deletion once: lost to an outage, the channel's messages stayed for good."""
    await discord_bot.post(ANA, 0, f"<@{BOB}> can you review my PR?", mentions=(BOB,))
    graph, store = discord_bot.store.graph, discord_bot.store
    discord_bot.core.intake.backoff = (0.01, 0.05)
    with database_down(store, (graph, "messages_in")):
        await discord_bot.fake.send("CHANNEL_DELETE", {"id": str(CHAT), "type": 0, "guild_id": str(GUILD),
                                                       "name": "chat", "position": 0, "permission_overwrites": []})
        await asyncio.sleep(0.2)
    # The database is back.
    await discord_bot.client.drain()
    assert await graph.messages_in(str(GUILD), str(CHAT)) == []
