"""One Outbound for the core that hands each message to the adapter that owns its workspace.

Slack, Discord and the console can run in one process; each registers a PlatformOutbound. A platform that can
link to a message (Slack, Discord) also has `async permalink(workspace, channel, message_id)`; one that can open a
conversation for a group (all three) has `async send_group(workspace, channel, users, reply, conversation)`,
returning a GroupConversation; one with user groups (Slack) has `async user_groups(workspace)`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.replies import GroupConversation, Reply

log = logging.getLogger(__name__)


class PlatformUnavailable(Exception):
    """The platform did not take a message for a reason that passes: a server error or a rate limit past the
    client's own retries, or no connection. Unlike a refusal (False: DMs closed, no such member) it is worth another
    try, and the message may even have gone out: a scheduled run that meets it stops with the message still
    reserved, and is resumed after its lease (bot/scheduling.py). Its text names a status, never the message."""


def passing(status: int) -> bool:
    """Whether a platform's HTTP status, once its client stopped retrying, is one that passes (a server error, a
    rate limit): PlatformUnavailable, not a refusal."""
    return status >= 500 or status == 429


class PlatformOutbound(Protocol):
    def owns(self, workspace: str) -> bool: ...
    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool: ...
    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool: ...
    async def manages(self, workspace: str, channel: str, user: str) -> bool: ...


@dataclass
class Outbounds:
    platforms: list[PlatformOutbound] = field(default_factory=list)

    def add(self, platform: PlatformOutbound) -> None:
        self.platforms.append(platform)

    def _for(self, workspace: str) -> PlatformOutbound | None:
        found = next((p for p in self.platforms if p.owns(workspace)), None)
        if found is None:
            log.warning("no adapter serves workspace %s: message not delivered", workspace)
        return found

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        platform = self._for(workspace)
        return bool(platform) and await platform.send_direct(workspace, user, reply)  # type: ignore[union-attr]

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        platform = self._for(workspace)
        return bool(platform) and await platform.send_channel(workspace, channel, reply)  # type: ignore[union-attr]

    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """One conversation for several members (a coffee group), `conversation` again where the platform still
        has it; nobody reached when the platform has no such conversation or refused it (callers then DM each
        member)."""
        platform = self._for(workspace)
        group = getattr(platform, "send_group", None)
        if group is None:
            return GroupConversation()
        try:
            sent = await group(workspace, channel, users, reply, conversation)
        except PlatformUnavailable:
            raise  # the group is tried again when the run resumes, rather than DMs sent now into the same outage
        except Exception:
            log.warning("group conversation in workspace %s failed", workspace, exc_info=True)
            return GroupConversation()
        return sent if isinstance(sent, GroupConversation) else GroupConversation()

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        platform = self._for(workspace)
        return bool(platform) and await platform.manages(workspace, channel, user)  # type: ignore[union-attr]

    async def user_groups(self, workspace: str) -> dict[str, frozenset[str]]:
        """The platform's user groups (Slack's usergroups); {} where the platform has none (Discord's roles are
        permissions more often than teams; the console has none) or could not list them."""
        platform = next((p for p in self.platforms if p.owns(workspace)), None)
        groups = getattr(platform, "user_groups", None)
        if groups is None:
            return {}
        try:
            return dict(await groups(workspace))
        except PlatformUnavailable as error:  # the figures go out with coffee's teams; nothing to trace
            log.warning("could not list the user groups of workspace %s: %s", workspace, error)
            return {}
        except Exception:
            log.warning("could not list the user groups of workspace %s", workspace, exc_info=True)
            return {}

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        platform = next((p for p in self.platforms if p.owns(workspace)), None)
        link = getattr(platform, "permalink", None)
        if link is None:
            return None  # the console has no links: callers name the channel instead
        try:
            return await link(workspace, channel, message_id)  # type: ignore[no-any-return]
        except Exception:
            log.warning("could not get a permalink in workspace %s", workspace, exc_info=True)
            return None
