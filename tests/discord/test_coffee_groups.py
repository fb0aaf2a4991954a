"""Coffee groups on Discord, end to end against the fake REST API and gateway: a private thread in the coffee
channel with the group added and the calendar invite attached; DMs where Discord refuses the thread or a member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import discord
import pytest
from icalendar import Calendar

from storage.store import SqlStore
from tests.discord.conftest import ANA, BOB, CHAT, CID, GUILD, Harness, ws_settings
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_permissions import coffee

MANAGE = discord.Permissions(view_channel=True, send_messages=True, manage_channels=True)
GROUP = (ANA, BOB, CID)


@pytest.fixture
async def harness(fake: FakeDiscord, sql_store: SqlStore) -> AsyncIterator[Harness]:
    fake.guilds[GUILD].managers = {CHAT: (ANA,)}
    running = Harness(fake, sql_store, ws_settings())
    await running.start()
    yield running
    await running.stop()


async def _round(harness: Harness) -> None:
    assert "Tuesday" in await coffee(harness, ANA, "setup weekly tuesday 10:00 size 3", CHAT, MANAGE)
    for member in GROUP:
        assert "You are in" in await coffee(harness, member, "join", CHAT)
    settings = await harness.core.store.coffee.channel(str(GUILD), str(CHAT))
    harness.clock.current = settings.next_run_at
    harness.fake.requests.clear()
    await harness.core.ticker.tick()


def _messages(harness: Harness, channel: int) -> list[dict]:
    return [r.body for r in harness.fake.sent(rf"/channels/{channel}/messages")]


def _dm_channels(harness: Harness) -> list[int]:
    return [int(r.body["recipient_id"]) for r in harness.fake.sent(r"/users/@me/channels")]


def _uid(ics: bytes) -> str:
    (event,) = Calendar.from_ical(ics.decode()).walk("VEVENT")
    return str(event["uid"])


async def test_a_group_meets_in_a_private_thread_of_the_coffee_channel(harness: Harness) -> None:
    await _round(harness)
    (made,) = harness.fake.sent(rf"/channels/{CHAT}/threads")
    assert made.body["type"] == 12 and made.body["invitable"] is False  # private: only the group and moderators
    (thread,) = harness.fake.private_threads
    assert sorted(harness.fake.private_threads[thread]) == sorted(GROUP)
    (intro,) = _messages(harness, thread)
    embed = intro["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    # Discord shows a mention as a name in field values only; in a field name it reads as `<@1200...>`.
    assert not any("<@" in f["name"] for f in embed["fields"])
    for member in GROUP:
        assert f"<@{member}>" in embed["description"]
        assert any(f["value"].startswith(f"**Ask <@{member}>**\n") for f in embed["fields"])
        assert f"<@{member}>: " in fields["Suggested time, inside everyone's working hours (30 minutes)"]
    assert "calendar.google.com" in fields["Add it to your calendar"]
    assert b"BEGIN:VCALENDAR" in intro["files"]["virtual-coffee.ics"]
    assert _dm_channels(harness) == []  # nobody needed a DM
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    assert all(seat.dm == "sent" for g in record.placed for seat in g.seats)


async def test_without_create_private_threads_each_member_gets_a_dm_with_the_invite(harness: Harness) -> None:
    harness.fake.no_private_threads.add(CHAT)
    await _round(harness)
    assert harness.fake.private_threads == {}
    assert sorted(_dm_channels(harness)) == sorted(GROUP)
    dms = [r.body for r in harness.fake.sent(r"/channels/14\d+/messages")]  # DM channels (POST /users/@me/channels)
    assert len(dms) == 3
    assert all("this round you are meeting" in b["embeds"][0]["description"] for b in dms)
    assert len({_uid(b["files"]["virtual-coffee.ics"]) for b in dms}) == 1  # one calendar entry for all three
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    assert all(seat.dm == "sent" for g in record.placed for seat in g.seats)


async def test_members_are_not_left_out_for_good_when_discord_is_down_for_a_moment(harness: Harness) -> None:
    """Discord answers 503 to the first two DMs (discord.py does not retry a 503): that passes, so the round stops
    with those DMs reserved and is resumed after its lease, instead of marking two members undeliverable."""
    harness.fake.no_private_threads.add(CHAT)
    harness.fake.unavailable[("POST", r"/channels/\d+/messages")] = 2
    await _round(harness)
    for _ in range(3):
        harness.clock.current += timedelta(minutes=1)  # past the lease: the next tick resumes the round
        await harness.core.ticker.tick()
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    assert [seat.dm for g in record.placed for seat in g.seats] == ["sent"] * len(GROUP)
    delivered = [r for r in harness.fake.requests if r.status == 200 and "/messages" in r.path]
    assert sorted(r.path for r in delivered) == sorted(set(r.path for r in delivered))  # each member's DM once


async def test_a_member_discord_will_not_add_to_the_thread_gets_a_dm(harness: Harness) -> None:
    harness.fake.not_addable.add(CID)
    await _round(harness)
    (thread,) = harness.fake.private_threads
    assert sorted(harness.fake.private_threads[thread]) == sorted((ANA, BOB))
    assert f"<@{CID}>" in _messages(harness, thread)[0]["embeds"][0]["description"]  # named, though not there
    assert _dm_channels(harness) == [CID]


async def test_the_check_in_is_asked_in_the_thread_the_group_was_introduced_in(harness: Harness) -> None:
    await _round(harness)
    (thread,) = harness.fake.private_threads
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    harness.clock.current = record.checkin_at
    await harness.core.ticker.tick()
    assert len(harness.fake.sent(rf"/channels/{CHAT}/threads")) == 1  # no second thread
    intro, checkin = _messages(harness, thread)
    assert "you are this round's group" in intro["embeds"][0]["description"]
    assert "How did your virtual coffee go" in checkin["embeds"][0]["description"]
    assert _dm_channels(harness) == []


async def test_after_a_restart_the_check_in_goes_to_the_same_thread_and_brings_back_who_left(
        harness: Harness) -> None:
    await _round(harness)
    (thread,) = harness.fake.private_threads
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    assert all(g.conversation == str(thread) for g in record.placed)
    harness.fake.private_threads[thread].remove(CID)  # Cid left the thread meanwhile
    await harness.stop()
    await harness.start()  # a new process: nothing of the old one in memory
    harness.clock.current = record.checkin_at
    await harness.core.ticker.tick()
    assert len(harness.fake.sent(rf"/channels/{CHAT}/threads")) == 1  # no second thread
    assert sorted(harness.fake.private_threads[thread]) == sorted(GROUP)  # Cid is back for the check-in
    _, checkin = _messages(harness, thread)
    assert "How did your virtual coffee go" in checkin["embeds"][0]["description"]
    assert _dm_channels(harness) == []


async def test_a_thread_that_is_gone_is_replaced_by_a_new_one(harness: Harness) -> None:
    await _round(harness)
    (thread,) = harness.fake.private_threads
    harness.fake.private_threads.pop(thread)
    harness.fake.gone.add(thread)  # deleted by a moderator meanwhile
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    harness.clock.current = record.checkin_at
    await harness.core.ticker.tick()
    (again,) = harness.fake.private_threads
    assert again != thread and len(harness.fake.sent(rf"/channels/{CHAT}/threads")) == 2
    (checkin,) = _messages(harness, again)
    assert "How did your virtual coffee go" in checkin["embeds"][0]["description"]
    record = await harness.core.store.coffee.last_round(str(GUILD), str(CHAT))
    assert all(g.conversation == str(again) for g in record.placed)  # the new thread from now on
