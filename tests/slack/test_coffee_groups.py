"""Coffee groups on Slack, end to end against the fake Web API: one group DM per group with its calendar invite,
and a DM to each member where Slack refuses the group DM."""

from __future__ import annotations

import json
import re
from typing import Any

from icalendar import Calendar

from tests.slack.conftest import Slack

T1 = "T0ALPHA"
MEMBERS = ["U0CAROL", "U0DAVE", "U0ERIN"]


async def _round(slack: Slack, size: int = 3) -> None:
    await slack.install(T1)
    slack.fake.channel_creators["C0TEAM"] = "U0ANN"
    setup = await slack.command(T1, "U0ANN", f"coffee setup weekly tuesday 10:00 size {size}", channel="C0TEAM")
    assert "Tuesday" in (await setup.json())["text"]
    for user in MEMBERS:
        assert "You are in" in (await (await slack.command(T1, user, "coffee join", channel="C0TEAM")).json())["text"]
    settings = await slack.core.store.coffee.channel(T1, "C0TEAM")
    slack.clock.current = settings.next_run_at
    slack.fake.calls.clear()
    await slack.core.ticker.tick()


def _posted(slack: Slack, prefix: str) -> list[Any]:
    return [c for c in slack.fake.called("chat.postMessage") if c.params["channel"].startswith(prefix)]


def _invite(raw: str) -> Any:
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    return event


async def test_a_group_meets_in_one_group_dm_with_its_calendar_invite(slack: Slack) -> None:
    await _round(slack)
    (opened,) = [c for c in slack.fake.called("conversations.open") if "," in c.params["users"]]
    assert sorted(opened.params["users"].split(",")) == MEMBERS
    (group,) = slack.fake.group_dms
    (intro,) = _posted(slack, "G")
    assert intro.params["channel"] == group and _posted(slack, "D") == []  # nobody needed a DM
    blocks = json.dumps(intro.params["blocks"])
    for user in MEMBERS:
        assert f"<@{user}>" in intro.params["text"]
        assert re.search(rf"<@{user}>: \w{{3}} \d\d \w{{3}}, \d\d:\d\d \(Europe/Paris\)", blocks)  # own zone
        assert f"Ask <@{user}>" in blocks
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in blocks and "outlook.office.com" in blocks

    (completed,) = slack.fake.called("files.completeUploadExternal")
    assert completed.params["channel_id"] == group
    assert json.loads(completed.params["files"])[0]["title"] == "virtual-coffee.ics"
    event = _invite(slack.fake.uploads[0])
    record = await slack.core.store.coffee.last_round(T1, "C0TEAM")
    (placed,) = record.placed
    assert event.decoded("dtstart") == placed.suggested_at
    assert (event.decoded("dtend") - event.decoded("dtstart")).total_seconds() == 30 * 60
    assert all(seat.dm == "sent" for seat in placed.seats)
    (announced,) = _posted(slack, "C0TEAM")
    assert "3 people in 1 group" in announced.params["text"]


async def test_where_slack_refuses_the_group_dm_each_member_gets_a_dm_with_the_invite(slack: Slack) -> None:
    slack.fake.refuse_group_open = "missing_scope"  # a workspace that installed Rapport before mpim:write
    await _round(slack)
    assert slack.fake.group_dms == {} and _posted(slack, "G") == []
    dms = _posted(slack, "D")
    assert sorted(c.params["channel"] for c in dms) == sorted("D" + u[1:] for u in MEMBERS)
    for dm in dms:
        assert "this round you are meeting" in dm.params["text"]
        assert "calendar.google.com" in json.dumps(dm.params["blocks"])
    uploads = slack.fake.called("files.completeUploadExternal")
    assert sorted(c.params["channel_id"] for c in uploads) == sorted("D" + u[1:] for u in MEMBERS)
    assert len({str(_invite(raw)["uid"]) for raw in slack.fake.uploads}) == 1  # one calendar entry for all three
    record = await slack.core.store.coffee.last_round(T1, "C0TEAM")
    assert all(seat.dm == "sent" for g in record.placed for seat in g.seats)


async def test_the_check_in_is_asked_once_in_the_group_dm_and_each_member_answers_for_themselves(slack: Slack) -> None:
    await _round(slack)
    (group,) = slack.fake.group_dms
    record = await slack.core.store.coffee.last_round(T1, "C0TEAM")
    slack.fake.calls.clear()
    slack.clock.current = record.checkin_at
    await slack.core.ticker.tick()
    (asked,) = _posted(slack, "G")
    assert asked.params["channel"] == group and _posted(slack, "D") == []  # no check-in DMs
    assert all(f"<@{u}>" in asked.params["text"] for u in MEMBERS)
    (actions,) = [b for b in asked.params["blocks"] if b["type"] == "actions"]
    met = actions["elements"][0]
    assert met["text"]["text"] == "We met"
    await slack.press(T1, "U0DAVE", met, channel=group)
    await slack.settle()
    assert "Glad you met" in slack.fake.responses[-1]["text"]
    assert slack.fake.responses[-1].get("response_type") == "ephemeral"  # the others keep their buttons
    (placed,) = (await slack.core.store.coffee.last_round(T1, "C0TEAM")).placed
    assert {s.user: s.answer for s in placed.seats} == {"U0CAROL": None, "U0DAVE": "met", "U0ERIN": None}
    assert {s.checkin for s in placed.seats} == {"sent"}


async def test_members_are_not_skipped_for_good_when_slack_is_down_for_a_few_seconds_mid_round(slack: Slack) -> None:
    """chat.postMessage answers 500 a dozen times in a row (more than the client's 3 retries per call): the group
    DM and two members' DMs failed, those seats became 'undeliverable', the round was finished and nobody ever
    tried them again. Now the round stops and is resumed after its lease until Slack answers."""
    slack.fake.server_errors["chat.postMessage"] = 12
    await _round(slack)
    for _ in range(5):
        slack.clock.advance(minutes=1)  # past the lease: the next tick resumes the round
        await slack.core.ticker.tick()
    record = await slack.core.store.coffee.last_round(T1, "C0TEAM")
    assert [s.dm for g in record.placed for s in g.seats] == ["sent"] * len(MEMBERS)
    delivered = [c for c in _posted(slack, "G") if not c.refused]
    assert len(delivered) == 1 and _posted(slack, "D0C") == _posted(slack, "D0E") == []  # introduced once
