"""The Slack adapter end to end: the real Bolt app and the real core on the SQL store, Slack faked locally.

Requests are signed as Slack signs them and posted to the adapter's aiohttp app on a local port.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from adapters.slack.app import SlackAdapter, build_adapter
from adapters.slack.settings import SlackSettings
from bot.app import Rapport
from bot.outbound import Outbounds
from storage.store import SqlStore
from tests.fakes import FakeClock
from tests.slack.fake_slack import BOT_USER, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLIENT_ID = "1111.2222"
SLACK_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {"X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)}


@dataclass
class Slack:
    """Drives the adapter the way Slack does."""

    adapter: SlackAdapter
    http: TestClient
    fake: FakeSlack
    core: Rapport
    clock: FakeClock

    def __post_init__(self) -> None:
        self._ids = count(1)

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> ClientResponse:
        return await self.http.post("/slack/events", data=body.encode(),
                                    headers={"Content-Type": content_type, **sign(body), **(headers or {})})

    def event_body(self, team: str, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps({
            "token": "legacy", "team_id": team, "api_app_id": "A0RAPPORT", "type": "event_callback",
            "event": event, "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        })

    async def event(self, team: str, event: dict[str, Any], event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> ClientResponse:
        return await self.post(self.event_body(team, event, event_id), "application/json", headers)

    def ts(self, seconds: float = 0) -> str:
        return f"{self.clock.now().timestamp() + seconds:.6f}"

    async def say(self, team: str, user: str, words: str, ts: str, channel: str = "C0GENERAL",
                  thread_ts: str | None = None) -> ClientResponse:
        event = {"type": "message", "channel": channel, "user": user, "text": words, "ts": ts,
                 "channel_type": "channel", "event_ts": ts}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self.event(team, event)

    async def command(self, team: str, user: str, words: str, channel: str = "C0GENERAL") -> ClientResponse:
        body = urlencode({
            "token": "legacy", "team_id": team, "team_domain": "t", "channel_id": channel, "channel_name": "general",
            "user_id": user, "user_name": user.lower(), "command": "/rapport", "text": words,
            "api_app_id": "A0RAPPORT", "response_url": self.fake.response_url("command"),
            "trigger_id": "1337.42.abcd",
        })
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def press(self, team: str, user: str, button: dict[str, Any], channel: str = "C0GENERAL") -> ClientResponse:
        return await self.interaction({
            "type": "block_actions", "team": {"id": team, "domain": "t"}, "user": {"id": user, "team_id": team},
            "api_app_id": "A0RAPPORT", "trigger_id": "1337.42.abcd", "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "is_ephemeral": True},
            "response_url": self.fake.response_url("button"),
            "actions": [{**button, "type": "button", "block_id": "b1", "action_ts": "1.2"}],
        })

    async def settle(self) -> None:
        """Wait for the work done after the acks: Bolt's listeners, which run as tasks after the ack (and may hand
        work on), then our deferred work and the intake."""
        while bolt := [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
                       and "slack_bolt" in getattr(getattr(t.get_coro(), "cr_code", None), "co_filename", "")]:
            await asyncio.wait(bolt)
        await self.adapter.deferred.drain()
        await self.adapter.core.intake.drain()

    async def install(self, team: str) -> str:
        """A workspace installed earlier (the OAuth test covers installing)."""
        token = self.fake.install(team)
        store = self.adapter.app.installation_store
        assert store is not None
        await store.async_save(Installation(
            app_id="A0RAPPORT", enterprise_id=None, team_id=team, team_name=f"Team {team}", bot_token=token,
            bot_id="B0BOT", bot_user_id=BOT_USER, bot_scopes="chat:write,commands", user_id="U0INSTALLER",
            is_enterprise_install=False))
        return token


def slack_settings(fake: FakeSlack, **extra: Any) -> SlackSettings:
    values: dict[str, Any] = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret",
                              "SLACK_SIGNING_SECRET": SECRET, "RAPPORT_SLACK_API_URL": fake.url, **extra}
    return SlackSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
async def core(sql_store: SqlStore, clock: FakeClock) -> Rapport:
    async with sql_store.engine.begin() as connection:  # the shared fixture empties only the core's tables
        for table in SLACK_TABLES:
            await connection.execute(text(f"DELETE FROM {table}"))
    return Rapport(store=sql_store, clock=clock, outbound=Outbounds())


async def start(core: Rapport, fake: FakeSlack, clock: FakeClock, **settings: Any) -> Slack:
    adapter = build_adapter(core, slack_settings(fake, **settings))
    assert isinstance(core.outbound, Outbounds)
    core.outbound.add(adapter.outbound)
    http = TestClient(TestServer(adapter.web()))
    await http.start_server()
    return Slack(adapter, http, fake, core, clock)


@pytest.fixture
async def slack(core: Rapport, fake_slack: FakeSlack, clock: FakeClock) -> AsyncIterator[Slack]:
    harness = await start(core, fake_slack, clock)
    yield harness
    await harness.settle()
    await harness.http.close()
