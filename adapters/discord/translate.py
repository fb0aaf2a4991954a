"""discord.py objects into the core's events. No I/O; nothing platform-specific leaves this module.

Ids follow the history importer (adapters/discord/export.py): workspace = guild id, message_id = message id,
a thread's messages belong to its parent channel with thread_id = the thread id (equal to its starter message id).
"""

from __future__ import annotations

import discord

from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, ConversationDeleted, Member, MessageDeleted, MessagePosted

# What a person writes; joins, pins, boosts, "thread created" notices and the like are not chat.
CHAT_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def member(guild_id: int, user: discord.abc.User) -> Member:
    return Member(str(guild_id), str(user.id), user.display_name, None, user.bot)


def channel_and_thread(channel: object) -> tuple[str, str | None]:
    """(channel, thread) ids as the core sees them: a thread is a conversation inside its parent channel."""
    if isinstance(channel, discord.Thread) and channel.parent_id:
        return str(channel.parent_id), str(channel.id)
    return str(getattr(channel, "id", "")), None


def posted(message: discord.Message, with_text: bool) -> MessagePosted | None:
    """A guild message as MessagePosted, or None when it is not a person chatting.

    with_text is False without the Message Content intent: the core then links by replies, threads and mentions.
    """
    if message.guild is None or message.author.bot or message.webhook_id or message.type not in CHAT_TYPES:
        return None
    channel, thread = channel_and_thread(message.channel)
    reference = message.reference
    reply_to = None
    if message.type is discord.MessageType.reply and reference and reference.message_id:
        reply_to = str(reference.message_id)
    return MessagePosted(
        workspace=str(message.guild.id),
        channel=channel,
        message_id=str(message.id),
        author=str(message.author.id),
        at=message.created_at,
        text=message.content if with_text else None,
        reply_to=reply_to,
        thread_id=thread,
        mentions=tuple(dict.fromkeys(str(u.id) for u in message.mentions if not u.bot)),
    )


def deleted(event: discord.RawMessageDeleteEvent) -> MessageDeleted | None:
    if event.guild_id is None:
        return None
    return MessageDeleted(str(event.guild_id), str(event.channel_id), str(event.message_id))


def thread_deleted(event: discord.RawThreadDeleteEvent) -> ConversationDeleted:
    return ConversationDeleted(str(event.guild_id), str(event.parent_id), str(event.thread_id))


def channel_deleted(channel: discord.abc.GuildChannel) -> ConversationDeleted:
    return ConversationDeleted(str(channel.guild.id), str(channel.id))


def roles(permissions: discord.Permissions) -> frozenset[str]:
    """The member's permissions in the channel, as Discord computed them for this interaction."""
    granted = set()
    if permissions.administrator or permissions.manage_guild:
        granted.add(WORKSPACE_ADMIN)
    if permissions.manage_channels:
        granted.add(CHANNEL_MANAGER)
    return frozenset(granted)
