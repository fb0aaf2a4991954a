"""manifest.yaml asks for exactly what the code uses: its scopes, its events, its command and its URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml

from adapters.slack.app import EVENTS_PATH, build_adapter
from adapters.slack.settings import BOT_SCOPES
from bot.app import Rapport
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import FakeSlack

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "adapters/slack/manifest.yaml").read_text())
# Slack's event subscription names for the event types the listeners handle.
SUBSCRIPTION = {"message": "message.channels"}


def test_scopes_are_the_ones_installs_ask_for() -> None:
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert "user" not in MANIFEST["oauth_config"]["scopes"], "no user tokens are used"


async def test_events_command_and_urls_match_the_listeners(core: Rapport, fake_slack: FakeSlack) -> None:
    adapter = build_adapter(core, slack_settings(fake_slack))
    handled = {listener.ack_function.__name__ for listener in adapter.app._async_listeners}
    events = {"message": "message", "home_opened": "app_home_opened", "member_joined": "member_joined_channel",
              "tokens_revoked": "tokens_revoked", "app_uninstalled": "app_uninstalled"}
    subscribed = sorted(SUBSCRIPTION.get(events[n], events[n]) for n in handled if n in events)
    assert sorted(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == subscribed
    assert {"command", "button", "form"} <= handled
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/rapport" and command["should_escape"] is True
    routes = {route.resource.canonical for route in adapter.web().router.routes()}  # type: ignore[union-attr]
    urls = [command["url"], MANIFEST["settings"]["event_subscriptions"]["request_url"],
            MANIFEST["settings"]["interactivity"]["request_url"], *MANIFEST["oauth_config"]["redirect_urls"]]
    assert {urlparse(u).path for u in urls} <= routes
    assert urlparse(command["url"]).path == EVENTS_PATH
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
