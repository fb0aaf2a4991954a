"""manifest.yaml asks for exactly what the code uses: its scopes, its events, its command and its URLs."""

from __future__ import annotations

import re
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
              "channel_deleted": "channel_deleted",
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


def test_the_listing_has_a_long_description_and_a_privacy_page() -> None:
    """Slack's app directory asks for a long description (175 to 4,000 characters) and a privacy policy link."""
    info = MANIFEST["display_information"]
    assert 175 <= len(info["long_description"]) <= 4000
    assert len(info["description"]) <= 140
    root = Path(__file__).parents[2]
    privacy = (root / "PRIVACY.md").read_text()
    for heading in ("What is stored", "What is never stored", "How long it is kept", "See, export, erase",
                    "What leads see"):
        assert f"## {heading}" in privacy
    # The page states the code's numbers and names commands that exist.
    from bot.privacy.privacy import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS
    assert f"**{DEFAULT_RETENTION_DAYS} days**" in privacy
    assert f"({MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days)" in privacy
    readme = (root / "README.md").read_text()
    for command in ("/rapport privacy", "rapport member export USER_ID --workspace W",
                    "rapport member erase USER_ID --workspace W", "/rapport pause-tracking"):
        assert command in privacy and command in readme
    assert "PRIVACY.md" in readme


def test_every_scope_says_why_it_is_needed_in_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    reasons = dict(re.findall(r"^\s*\| `([a-z:]+)`\s*\| (.+?)\s*\|$", readme, re.MULTILINE))
    for scope in BOT_SCOPES:
        assert len(reasons.get(scope, "")) > 15, scope
