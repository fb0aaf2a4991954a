"""One conversation per coffee group, through the core on the fake store: the group message, the fallback to DMs
for whoever the platform did not reach, and a resumed round that does not introduce a group twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from bot.domain.coffee import round_key
from bot.domain.profiles import Profile
from tests.coffee.test_coffee import CH, WS, make, setup_weekly

pytestmark = pytest.mark.usefixtures("lexical")


def _event(reply):  # the one VEVENT of a reply's .ics
    (event,) = Calendar.from_ical(reply.attachment.content.decode()).walk("VEVENT")
    return event


async def test_each_group_gets_one_message_naming_everyone_with_times_starters_and_an_invite(store, clock,
                                                                                            outbound) -> None:
    outbound.groups = True
    bot = await make(store, clock, outbound, "abcd")
    await store.members.upsert([m for m in await store.members.list(WS)])
    await store.profiles.save(Profile(WS, "b", behaviour="trail running", tz="Asia/Tokyo", work_start=0,
                                      work_end=24))
    due = await setup_weekly(bot, "abcd")
    await bot.at(due)
    sent = [(to, r) for kind, _, to, r in outbound.sent if kind == "group"]
    groups = await bot.groups(due)
    assert sorted(to for to, _ in sent) == sorted(",".join(g) for g in groups) and bot.dms() == []
    for to, reply in sent:
        members = to.split(",")
        assert all(f"<@{u}>" in reply.text for u in members) and not reply.ephemeral
        assert "confirm the time" in reply.text and "agree a time" not in reply.text  # one was suggested
        times = next(s for s in reply.sections if s.title.startswith("Suggested time")).lines
        start = _event(reply).decoded("dtstart")
        for user, line in zip(members, times, strict=True):
            zone = "Asia/Tokyo" if user == "b" else "UTC"  # the profile's zone wins over the platform's
            assert line.startswith(f"<@{user}>: ") and line.endswith(f"({zone})")
        assert {s.title for s in reply.sections} >= {f"Ask <@{u}>" for u in members}
        assert _event(reply)["uid"] and start > due
        if "b" in members:
            asked_about_b = next(s for s in reply.sections if s.title == "Ask <@b>").lines
            assert any("trail running" in line for line in asked_about_b)
    record = await store.coffee.round(WS, CH, due)
    assert all(seat.dm == "sent" for g in record.placed for seat in g.seats)


async def test_whoever_the_group_conversation_missed_gets_a_dm_and_a_dead_end_is_announced(store, clock,
                                                                                          outbound) -> None:
    outbound.groups = True
    bot = await make(store, clock, outbound, "ab")
    due = await setup_weekly(bot, "ab")
    outbound.undeliverable = {"b"}  # reached neither in the group conversation nor by DM
    await bot.at(due)
    (group,) = [r for kind, _, _, r in outbound.sent if kind == "group"]
    assert bot.pairings() == []  # a's DM was not needed; b's failed (the manager is told: below)
    assert group.attachment is not None
    record = await store.coffee.round(WS, CH, due)
    assert {s.user: s.dm for s in record.placed[0].seats} == {"a": "sent", "b": "undeliverable"}
    assert "<@b>: you are meeting <@a>" in bot.posts()[0].plain()  # named in the channel: nothing lost


async def test_where_the_platform_has_no_group_conversation_each_member_gets_the_invite_by_dm(store, clock,
                                                                                              outbound) -> None:
    bot = await make(store, clock, outbound, "ab")
    due = await setup_weekly(bot, "ab")
    await bot.at(due)
    a, b = bot.pairings("a")[0], bot.pairings("b")[0]
    assert a.attachment.filename == b.attachment.filename == "virtual-coffee.ics"
    assert _event(a)["uid"] == _event(b)["uid"]  # one calendar entry, whoever adds it
    assert any(s.title == "Add it to your calendar" for s in a.sections)


async def test_a_resumed_round_does_not_introduce_a_group_twice(store, clock, outbound) -> None:
    outbound.groups = True
    bot = await make(store, clock, outbound, "ab")
    due = await setup_weekly(bot, "ab")
    key = round_key(WS, CH, due)
    # A process that sent the group message died before recording the seats: the run says it went out.
    assert await store.runs.deliver_once(key, "g0", clock.now())
    await store.runs.delivered(key, "g0", True, clock.now())
    await bot.at(due)
    assert [kind for kind, *_ in outbound.sent] == ["channel"]  # only the announcement; no group, no DMs
    record = await store.coffee.round(WS, CH, due)
    assert all(seat.dm == "sent" for seat in record.placed[0].seats)
    await bot.at(due + timedelta(minutes=1))
    assert [kind for kind, *_ in outbound.sent] == ["channel"]


async def test_a_group_that_met_in_its_conversation_is_asked_there_once_each_answering_for_themselves(
        store, clock, outbound) -> None:
    outbound.groups = True
    bot = await make(store, clock, outbound, "abcd")
    due = await setup_weekly(bot, "abcd")
    await bot.at(due)
    outbound.undeliverable = {"d"}  # the check-in's group conversation does not reach d: a DM would not either
    outbound.sent.clear()
    await bot.at(due + timedelta(days=5))
    asked = [(to, r) for kind, _, to, r in outbound.sent if kind == "group"]
    groups = await bot.groups(due)
    assert sorted(to for to, _ in asked) == sorted(",".join(g) for g in groups)  # once per group
    assert bot.dms() == []  # nobody reached in a group is asked again by DM
    (to, reply), = [(to, r) for to, r in asked if "d" not in to.split(",")]
    first, partner = to.split(",")
    assert [b.label for b in reply.buttons] == ["We met", "Not yet", "We couldn't"] and not reply.ephemeral
    assert f"<@{first}>" in reply.text and f"<@{partner}>" in reply.text
    value = reply.buttons[0].value
    assert "not yours" in await bot.press("d", "coffee:met", value)
    assert "Glad you met" in await bot.press(first, "coffee:met", value)
    placed = (await store.coffee.round(WS, CH, due)).placed
    group = next(g for g in placed if first in g.members)
    assert {s.user: s.answer for s in group.seats} == {first: "met", partner: None}  # the presser's answer only
    assert {s.user: s.checkin for s in group.seats} == {first: "sent", partner: "sent"}
    other = next(g for g in placed if "d" in g.members)
    assert {s.user: s.checkin for s in other.seats}["d"] == "undeliverable"  # tried by DM too, in vain
    await bot.at(due + timedelta(days=5, minutes=1))
    assert len([kind for kind, *_ in outbound.sent if kind == "group"]) == len(groups)  # asked once


async def test_a_group_introduced_by_dm_is_asked_by_dm(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "ab")
    due = await setup_weekly(bot, "ab")
    await bot.at(due)
    outbound.groups = True  # the platform opens group conversations now, but this group never had one
    outbound.sent.clear()
    await bot.at(due + timedelta(days=5))
    assert [kind for kind, *_ in outbound.sent] == ["dm", "dm"]
    assert all(len(r.buttons) == 3 for r in bot.dms())
