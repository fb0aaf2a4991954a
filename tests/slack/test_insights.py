"""/rapport insights on Slack: the team table takes Slack's user groups (usergroups.list, scope usergroups:read)
as teams, and a workspace installed without that scope gets the figures and a line on what is missing."""

from __future__ import annotations

import json
from typing import Any

from bot.events import Member
from tests.slack.conftest import Slack

T1 = "T0ALPHA"
ANN = "U0ANN"
PEOPLE = [f"U0P{i:02d}" for i in range(8)]


async def _insights(slack: Slack) -> str:
    await slack.install(T1)
    slack.fake.admins.add(ANN)
    await slack.core.store.members.upsert([Member(T1, u, u) for u in PEOPLE])
    response = await slack.command(T1, ANN, "insights")
    assert response.status == 200
    answer = await response.json()  # answered in the ack: within Slack's 3 seconds
    assert answer["response_type"] == "ephemeral"
    return json.dumps(answer)


async def test_slack_user_groups_are_teams_in_insights(slack: Slack) -> None:
    slack.fake.usergroups[T1] = {"Platform": PEOPLE[:6], "Data": [*PEOPLE[6:], "U0GONE"]}

    shown = await _insights(slack)

    assert "Platform: 6 members" in shown and "Data: fewer than 5 members" in shown
    listed = slack.fake.called("usergroups.list")
    assert listed and listed[-1].params.get("include_users") in (True, "true", "1", 1)
    assert not any(u in shown for u in [*PEOPLE, "U0GONE"])


async def test_without_the_scope_insights_say_teams_are_missing(slack: Slack) -> None:
    shown = await _insights(slack)  # the fake answers missing_scope for a team without user groups

    assert "Members Rapport knows:" in shown and "usergroups:read" in shown


async def test_when_slack_cannot_list_user_groups_insights_still_answer(slack: Slack, caplog: Any) -> None:
    slack.fake.usergroups[T1] = {"Platform": PEOPLE[:6]}
    slack.fake.rate_limited["usergroups.list"] = 10  # past the client's retries
    slack.fake.retry_after = 0

    shown = await _insights(slack)

    assert "Members Rapport knows:" in shown and "Platform" not in shown
    (warned,) = [r for r in caplog.records if "user groups" in r.getMessage()]
    assert "Slack answered 429 (ratelimited)" in warned.getMessage() and warned.exc_info is None  # one line
