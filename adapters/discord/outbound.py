"""Messages the core sends on its own (nudges, pairings) to Discord members and channels.

A workspace is a guild: a member is reached only if they are in that guild, a channel only if it belongs to it.
Nothing is lost silently: what cannot be delivered is logged with ids and reported as False.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from adapters.discord.render import message
from bot.outbound import PlatformUnavailable, passing
from bot.replies import GroupConversation, Reply

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0  # seconds to wait for the gateway's guild list before giving up on a send
CANNOT_DM = 50007  # Discord: "Cannot send messages to this user" (DMs closed, or the bot is blocked)
THREAD_NAME = "Virtual coffee"  # a coffee group's private thread; only its members (and moderators) see it


def is_snowflake(value: str) -> bool:
    return value.isdigit() and 15 <= len(value) <= 20


@dataclass
class DiscordOutbound:
    client: discord.Client
    ready_timeout: float = READY_TIMEOUT

    def owns(self, workspace: str) -> bool:
        return is_snowflake(workspace)

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        """Discord's message links are built from ids alone: no API call."""
        if not (is_snowflake(workspace) and is_snowflake(channel) and is_snowflake(message_id)):
            return None
        return f"https://discord.com/channels/{workspace}/{channel}/{message_id}"

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        """Manage Channels (or Administrator) in that channel, as Discord computes it from roles and overwrites."""
        guild = await self._guild(workspace)
        place = guild.get_channel(int(channel)) if guild is not None and channel.isdigit() else None
        if guild is None or place is None or not user.isdigit():
            return False  # not a channel of this server: nobody manages it from here
        try:
            member = guild.get_member(int(user)) or await guild.fetch_member(int(user))
        except discord.HTTPException as error:
            log.info("discord: cannot look up %s in %s (%s): not a channel manager", user, workspace, error.status)
            return False
        allowed = place.permissions_for(member)
        return allowed.manage_channels or allowed.administrator

    async def send_direct(self, workspace: str, user: str, reply: Reply, fallback_channel: str | None = None) -> bool:
        """A direct message; if the member does not accept them, the reply goes to fallback_channel (mentioning
        them) when one is given."""
        guild = await self._guild(workspace)
        if guild is None or not user.isdigit():
            return False
        try:
            member = guild.get_member(int(user)) or await guild.fetch_member(int(user))
        except discord.NotFound:
            log.warning("discord: %s is not a member of %s: direct message not sent", user, workspace)
            return False
        except discord.HTTPException as error:
            _passing(error)
            log.warning("discord: cannot look up %s in %s (%s): direct message not sent", user, workspace,
                        error.status)
            return False
        try:
            channel = member.dm_channel or await member.create_dm()
            await channel.send(**message(reply, workspace))
            return True
        except discord.Forbidden as error:
            log.info("discord: %s in %s does not accept direct messages (code %s)", user, workspace, error.code)
            if fallback_channel:
                return await self._post(guild, fallback_channel, reply, mention=user)
            log.warning("discord: direct message to %s in %s undeliverable", user, workspace)
            return False
        except discord.HTTPException as error:
            _passing(error)
            log.warning("discord: direct message to %s in %s failed (%s)", user, workspace, error.status)
            return False

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        guild = await self._guild(workspace)
        return guild is not None and await self._post(guild, channel, reply)

    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """A private thread in the coffee channel with the group added (bots cannot open group DMs), then the
        message (and its file) in it: `conversation`, the group's thread from before, while Discord still has it,
        else a new one. The members Discord would not add are left out of those reached, so the core DMs them;
        nobody is reached when no thread can be made (no Create Private Threads permission, not a text channel):
        the core DMs everyone."""
        guild = await self._guild(workspace)
        place = guild.get_channel(int(channel)) if guild is not None and channel.isdigit() else None
        if guild is None or not isinstance(place, discord.TextChannel) or not all(u.isdigit() for u in users):
            return GroupConversation()
        if conversation and conversation.isdigit():
            try:
                kept = guild.get_thread(int(conversation)) or await guild.fetch_channel(int(conversation))
                if not isinstance(kept, discord.Thread):
                    raise discord.ClientException("not a thread")
                added = await self._add(kept, users, workspace)  # again: whoever left is back for this message
                await kept.send(**message(reply, workspace))
                return GroupConversation(conversation, added)
            except (discord.HTTPException, discord.ClientException) as error:  # deleted, or the bot removed
                log.info("discord: the group's coffee thread in %s is gone (%s): a new one", workspace,
                         getattr(error, "status", error))
        try:
            thread = await place.create_thread(name=THREAD_NAME, type=discord.ChannelType.private_thread,
                                               invitable=False, auto_archive_duration=10080)
        except discord.HTTPException as error:
            why = "no Create Private Threads permission" if isinstance(error, discord.Forbidden) else error.status
            log.info("discord: cannot open a private thread in %s/%s (%s): DMs instead", workspace, channel, why)
            return GroupConversation()
        added = await self._add(thread, users, workspace)
        try:
            if not added:
                raise discord.ClientException("nobody could be added")
            await thread.send(**message(reply, workspace))
        except (discord.HTTPException, discord.ClientException) as error:
            log.warning("discord: coffee thread in %s/%s not usable (%s): DMs instead", workspace, channel,
                        getattr(error, "status", error))
            try:
                await thread.delete()
            except discord.HTTPException:
                log.info("discord: could not delete an unused coffee thread in %s", workspace)
            return GroupConversation()
        return GroupConversation(str(thread.id), added)

    @staticmethod
    async def _add(thread: discord.Thread, users: Sequence[str], workspace: str) -> tuple[str, ...]:
        """Adds each member to the thread (a no-op for one already in it); those Discord refused are left out."""
        added = []
        for user in users:
            try:
                await thread.add_user(discord.Object(int(user)))
                added.append(user)
            except discord.HTTPException as error:
                if error.status == 404 and error.code == 10003:  # Unknown Channel: the thread itself is gone
                    raise
                log.info("discord: cannot add %s to a coffee thread in %s (%s): a DM instead", user, workspace,
                         error.status)
        return tuple(added)

    async def _guild(self, workspace: str) -> discord.Guild | None:
        try:
            await asyncio.wait_for(self.client.wait_until_ready(), self.ready_timeout)
        except (TimeoutError, RuntimeError):  # RuntimeError: the client has not logged in
            log.warning("discord: not connected: message for %s not sent", workspace)
            return None
        guild = self.client.get_guild(int(workspace)) if is_snowflake(workspace) else None
        if guild is None:
            log.warning("discord: the bot is not in server %s: message not sent", workspace)
        return guild

    async def _post(self, guild: discord.Guild, channel_id: str, reply: Reply, mention: str | None = None) -> bool:
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("discord: no channel %s in %s: message not sent", channel_id, guild.id)
            return False
        extra: dict[str, object] = {}
        if mention:
            extra = {"content": f"<@{mention}>",
                     "allowed_mentions": discord.AllowedMentions(users=[discord.Object(int(mention))])}
        try:
            await channel.send(**message(reply, str(guild.id)), **extra)  # type: ignore[arg-type,call-overload]
            return True
        except discord.HTTPException as error:
            _passing(error)
            log.warning("discord: message to %s in %s failed (%s)", channel_id, guild.id, error.status)
            return False


def _passing(error: discord.HTTPException) -> None:
    """A server error, or a rate limit discord.py stopped waiting out, passes: PlatformUnavailable, tried again
    later (bot/scheduling.py), not a refusal that leaves a member out for good."""
    if passing(error.status):
        raise PlatformUnavailable(f"Discord answered {error.status}") from None
