"""Who someone is in Slack: users.info, asked once in a while, for the core's members and for admin roles."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import SLACKBOT
from bot.app import Rapport
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, Member, MembersSeen

log = logging.getLogger(__name__)

PROFILE_TTL = 300.0  # seconds; an admin demoted in Slack loses admin rights here within this time


def member_of(team_id: str, user: dict[str, Any]) -> Member:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    return Member(team_id, user["id"], name or user["id"], user.get("tz"), bool(user.get("is_bot"))
                  or user["id"] == SLACKBOT)


@dataclass
class People:
    core: Rapport
    ttl: float = PROFILE_TTL
    _cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = field(default_factory=dict)
    _creators: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)

    async def _lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> frozenset[str]:
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            log.warning("users.info %s/%s: %s", team_id, user_id, error.response.get("error"))
            return frozenset()
        roles = frozenset({WORKSPACE_ADMIN}) if user.get("is_admin") or user.get("is_owner") else frozenset()
        await self.core.on_members_seen(MembersSeen((member_of(team_id, user),)))
        self._cache[key] = (time.monotonic(), roles)
        return roles

    async def roles(self, client: AsyncWebClient, team_id: str, user_id: str, channel: str = "") -> frozenset[str]:
        """Workspace admins and owners; the channel's manager (see manages)."""
        roles = await self._lookup(client, team_id, user_id)
        if await self.manages(client, team_id, channel, user_id):
            roles |= {CHANNEL_MANAGER}
        return roles

    async def manages(self, client: AsyncWebClient, team_id: str, channel: str, user_id: str,
                      token: str | None = None) -> bool:
        """The channel's creator manages it (Slack gives bots no other signal). A channel of another workspace
        is not found with this workspace's token, so nobody here manages it."""
        return bool(channel) and await self._creator(client, team_id, channel, token) == user_id

    async def _creator(self, client: AsyncWebClient, team_id: str, channel: str, token: str | None) -> str:
        hit = self._creators.get((team_id, channel))
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        try:
            info = await (client.conversations_info(channel=channel, token=token) if token
                          else client.conversations_info(channel=channel))
            creator = str(info["channel"].get("creator") or "")
        except SlackApiError as error:  # a DM or a channel the bot cannot see: nobody manages it for us
            log.info("conversations.info %s/%s: %s", team_id, channel, error.response.get("error"))
            creator = ""
        self._creators[(team_id, channel)] = (time.monotonic(), creator)
        return creator

    async def seen(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Make sure the core knows this member (name and time zone), asking Slack at most once per TTL."""
        await self._lookup(client, team_id, user_id)

    def forget_workspace(self, team_id: str) -> None:
        for key in [k for k in self._cache if k[0] == team_id]:
            del self._cache[key]
