"""Token rotation: an OAuth install whose bot token expires is refreshed before use, for scheduled sends (no
request to ride on) and for requests (Bolt's authorize), once per workspace at a time, and saved sealed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.replies import Reply
from tests.slack.conftest import Slack
from tests.slack.fake_slack import BOT_USER

T1, ANN = "T0ALPHA", "U0ANN"


async def install_rotating(slack: Slack, expires_in: float) -> tuple[str, str]:
    token, refresh = slack.fake.rotating(T1)
    store = slack.adapter.app.installation_store
    assert store is not None
    await store.async_save(Installation(
        app_id="A0RAPPORT", enterprise_id=None, team_id=T1, bot_token=token, bot_refresh_token=refresh,
        bot_token_expires_at=int(time.time() + expires_in), bot_id="B0BOT", bot_user_id=BOT_USER,
        bot_scopes="chat:write,commands", user_id="U0INSTALLER", is_enterprise_install=False))
    return token, refresh


async def stored_bot_tokens(slack: Slack) -> list[tuple[str, str]]:
    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        result = await connection.execute(text(
            "SELECT bot_token, bot_refresh_token FROM slack_bots WHERE team_id = :team"), {"team": T1})
        return [(row[0], row[1]) for row in result]


async def test_an_expiring_token_is_refreshed_once_before_scheduled_sends(slack: Slack) -> None:
    old, old_refresh = await install_rotating(slack, expires_in=60)  # inside the 120 minutes before expiry

    sent = await asyncio.gather(*(slack.core.outbound.send_direct(T1, user, Reply("your coffee group"))
                                  for user in (ANN, "U0BOB", "U0CAROL")))
    assert all(sent)
    (refresh,) = slack.fake.called("oauth.v2.access")
    assert refresh.params["grant_type"] == "refresh_token" and refresh.params["refresh_token"] == old_refresh
    new = {c.token for c in slack.fake.called("chat.postMessage")}
    assert len(new) == 1 and old not in new
    (new_token,) = new
    assert new_token.startswith("xoxe.xoxb-1-")

    # Saved sealed (tokens never rest in clear), in the one row: found again, it is the new token.
    rows = await stored_bot_tokens(slack)
    assert len(rows) == 1 and all(value.startswith("sealed:v1:") for value in rows[0])
    assert len(rows[0][0]) > 200  # what the s20ops_0008 migration widens the columns for (PostgreSQL)
    assert await slack.adapter.tokens.bot_token(T1) == new_token
    assert len(slack.fake.called("oauth.v2.access")) == 1  # fresh now: no second refresh


async def test_a_request_with_an_expiring_token_is_answered_with_a_fresh_one(slack: Slack) -> None:
    old, _ = await install_rotating(slack, expires_in=30)
    response = await slack.command(T1, ANN, "me")
    assert response.status == 200 and "has not seen you talk" in (await response.json())["text"]
    await slack.settle()
    assert len(slack.fake.called("oauth.v2.access")) == 1
    assert old not in {c.token for c in slack.fake.calls if c.method not in ("oauth.v2.access",)}
    assert await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("a nudge"))
    assert len(slack.fake.called("oauth.v2.access")) == 1  # the request's refresh serves the send too


async def test_a_token_far_from_expiry_is_used_as_it_is(slack: Slack) -> None:
    token, _ = await install_rotating(slack, expires_in=12 * 3600)
    assert await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("a nudge"))
    assert not slack.fake.called("oauth.v2.access")
    assert [c.token for c in slack.fake.called("chat.postMessage")] == [token]


async def test_a_refused_refresh_keeps_the_token_in_hand_and_says_so(slack: Slack, caplog: Any) -> None:
    token, refresh = await install_rotating(slack, expires_in=60)
    slack.fake.refresh_tokens.pop(refresh)  # Slack no longer knows this refresh token
    assert await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("a nudge"))  # still valid for a minute
    assert [c.token for c in slack.fake.called("chat.postMessage")] == [token]
    assert "Slack token refresh for workspace T0ALPHA failed (invalid_refresh_token)" in caplog.text
