"""Messages the core sends on its own (nudges, pairings): chat.postMessage to a channel or a direct message.

Replies that carry a file (bot.replies.Attachment) go to the member's direct messages as an upload, also when
they answer a command or a button: Slack cannot attach a file to an ephemeral message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import message
from adapters.slack.installations import Tokens
from adapters.slack.people import People
from bot.outbound import PlatformUnavailable, passing
from bot.replies import GroupConversation, Reply

log = logging.getLogger(__name__)

# Errors that mean this workspace's token is dead: stop using it until the workspace installs again.
DEAD_TOKEN = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"})


@dataclass
class SlackOutbound:
    client: AsyncWebClient  # carries the retry handlers (429 and connection errors); tokens are per call
    tokens: Tokens
    people: People

    def owns(self, workspace: str) -> bool:
        return self.tokens.owns(workspace)

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        token = await self.tokens.bot_token(workspace)
        if token is None:
            log.info("no Slack installation for %s: direct message to %s not sent", workspace, user)
            return False
        try:
            opened = await self.client.conversations_open(token=token, users=user)
            channel = opened["channel"]["id"]
            if reply.attachment is not None and not (reply.sections or reply.buttons):  # a file alone (an export)
                await self.client.files_upload_v2(
                    token=token, channel=channel, filename=reply.attachment.filename,
                    content=reply.attachment.content, initial_comment=reply.text)
            else:
                await self.client.chat_postMessage(token=token, channel=channel, **message(reply))
                await self._upload(token, workspace, channel, reply)
        except SlackApiError as error:
            return self._failed(error, workspace, user)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PlatformUnavailable(f"Slack unreachable ({type(error).__name__})") from None
        return True

    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """A group DM with these members (conversations.open with all of them, which needs mpim:write), the
        message, then its file (a calendar invite). Slack gives the same members the same group DM, so
        `conversation` needs no looking up. Nobody reached when Slack refuses: the core then DMs each member."""
        token = await self.tokens.bot_token(workspace)
        if token is None or not 2 <= len(users) <= 8:  # Slack's group DMs hold up to 8 people besides the bot
            return GroupConversation()
        try:
            opened = await self.client.conversations_open(token=token, users=",".join(users))
            opened_id = str(opened["channel"]["id"])
            await self.client.chat_postMessage(token=token, channel=opened_id, **message(reply))
        except SlackApiError as error:
            self._failed(error, workspace, f"a group of {len(users)} from {channel}")
            return GroupConversation()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PlatformUnavailable(f"Slack unreachable ({type(error).__name__})") from None
        await self._upload(token, workspace, opened_id, reply)
        return GroupConversation(opened_id, tuple(users))

    async def _upload(self, token: str, workspace: str, channel: str, reply: Reply) -> None:
        """The file that goes with a message already posted; the message stands if the upload fails (the calendar
        links in it do the same job)."""
        if reply.attachment is None:
            return
        try:
            await self.client.files_upload_v2(token=token, channel=channel, filename=reply.attachment.filename,
                                              content=reply.attachment.content)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            code = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("Slack refused the file for a message in %s/%s: %s", workspace, channel, code)

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        token = await self.tokens.bot_token(workspace)
        if token is None:
            log.info("no Slack installation for %s: message to %s not sent", workspace, channel)
            return False
        try:
            await self.client.chat_postMessage(token=token, channel=channel, **message(reply))
        except SlackApiError as error:
            return self._failed(error, workspace, channel)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PlatformUnavailable(f"Slack unreachable ({type(error).__name__})") from None
        return True

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        """A link to a message (nudges point at a question this way, never quoting it)."""
        token = await self.tokens.bot_token(workspace)
        ts = message_id.split(":", 1)[-1]  # our Slack message ids are "<channel>:<ts>"
        if token is None:
            return None
        try:
            found = await self.client.chat_getPermalink(token=token, channel=channel, message_ts=ts)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.info("no permalink for a message in %s/%s (%s)", workspace, channel, type(error).__name__)
            return None
        return str(found.get("permalink") or "") or None

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        token = await self.tokens.bot_token(workspace)
        return token is not None and await self.people.manages(self.client, workspace, channel, user, token)

    async def user_groups(self, workspace: str) -> dict[str, frozenset[str]]:
        """usergroups.list with their members (scope usergroups:read); {} for a workspace installed without it.
        PlatformUnavailable when Slack is unreachable or a 429 or 500 outlasted the client's retries, so that a
        caller can say teams came from coffee only because Slack could not be asked, not because it has none."""
        token = await self.tokens.bot_token(workspace)
        if token is None:
            return {}
        try:
            found = await self.client.usergroups_list(include_users=True, token=token)
        except SlackApiError as error:
            code, status = error.response.get("error"), error.response.status_code
            if passing(status):
                raise PlatformUnavailable(f"Slack answered {status} ({code})") from None
            log.info("usergroups.list %s: %s: teams come from coffee only", workspace, code)
            return {}
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PlatformUnavailable(f"Slack unreachable ({type(error).__name__})") from None
        return {str(group.get("name") or group["handle"]): frozenset(group.get("users") or ())
                for group in found.get("usergroups") or () if not group.get("date_delete")}

    def _failed(self, error: SlackApiError, workspace: str, to: str) -> bool:
        """False for a refusal; a server error or rate limit that outlasted the client's retries passes, so it is
        PlatformUnavailable (tried again later), not a member left out for good."""
        code = str(error.response.get("error", error.response.status_code))
        status = error.response.status_code
        if passing(status):
            raise PlatformUnavailable(f"Slack answered {status} ({code})") from None
        if code in DEAD_TOKEN:
            self.tokens.revoke(workspace)
        log.warning("Slack refused a message to %s/%s: %s", workspace, to, code)
        return False
