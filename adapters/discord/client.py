"""The Discord client: gateway events and interactions in, the core's events out, its replies rendered back."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import discord
from discord import app_commands

from adapters import api_calls, markup
from adapters.deferred import Deferred
from adapters.discord import translate
from adapters.discord.commands import admin_group, help_reply, rapport_group, status_reply
from adapters.discord.interactions import answer
from adapters.discord.outbound import DiscordOutbound
from adapters.discord.settings import DiscordSettings
from adapters.discord.views import RapportButton, submitted_form
from bot.app import Rapport
from bot.events import (
    BotJoinedChannel,
    ButtonPressed,
    CommandInvoked,
    ConversationDeleted,
    FormSubmitted,
    MembersSeen,
    WorkspaceRemoved,
)
from bot.replies import Reply

log = logging.getLogger(__name__)

# Exactly what the bot asks for; README "Run in Discord" explains each. Only message_content is privileged.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True,
    attach_files=True, create_private_threads=True,  # a coffee group's private thread and its calendar invite
)
INVITE_SCOPES = ("bot", "applications.commands")
DRAIN_TIMEOUT = 10.0  # seconds shutdown waits for handlers in flight
NOT_A_MEMBER = Reply("You are not a member of that server any more, so Rapport cannot act on this.")


def intents(message_content: bool) -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True  # servers, channels and threads: a thread's parent channel
    chosen.guild_messages = True  # authors, times, replies, threads and mentions of messages
    chosen.message_content = message_content  # privileged: the text, to tell questions apart
    return chosen


class RapportClient(discord.AutoShardedClient):
    """AutoShardedClient: Discord requires sharding from 2,500 servers and says how many shards to use (GET
    /gateway/bot); one process runs them all. Below that it is one shard, as a plain Client would be."""

    def __init__(self, core: Rapport, settings: DiscordSettings, force_sync: bool = False, **options: Any) -> None:
        super().__init__(
            intents=intents(settings.message_content),
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),  # replies name people; they do not ping them
            http_trace=api_calls.discord_trace(),  # errors and retries, for /metrics
            **options,
        )
        self.core = core
        self.with_text = settings.message_content
        self.sync_guilds = settings.guilds
        self.commands_state = settings.commands_state
        self.force_sync = force_sync
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(rapport_group(core.router, self.on_command))
        self.tree.add_command(admin_group(core.router, self.on_command))
        self.outbound = DiscordOutbound(self)
        self._stored_names: dict[tuple[str, str], str] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()
        # The join notice is said once, after the gateway's event: through a database outage, it waits.
        self.deferred = Deferred(reachable=lambda: core.store.reachable())

    async def setup_hook(self) -> None:
        # Runs once per start, before the gateway: buttons sent by earlier runs must keep working.
        self.add_dynamic_items(RapportButton)
        await self._sync_commands()
        user = self.user.id if self.user else "?"
        log.info("Discord: logged in as bot %s; invite: %s", user, self.invite_url)
        if not self.with_text:
            log.warning("Discord: Message Content intent off (RAPPORT_DISCORD_MESSAGE_CONTENT=false): Rapport "
                        "cannot see message text and links messages by replies, threads and mentions only")

    @property
    def invite_url(self) -> str:
        if self.application_id is None:
            return "(unknown until logged in)"
        return discord.utils.oauth_url(self.application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES)

    def commands_hash(self) -> str:
        """What a sync would send, and where: the commands' payload, the application and the servers."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        where = {"application": self.application_id, "guilds": sorted(self.sync_guilds)}
        return hashlib.sha256(json.dumps([where, payload], sort_keys=True).encode()).hexdigest()

    async def _sync_commands(self) -> None:
        """Register /rapport with Discord only when the commands changed since the last registration (or when
        asked: `rapport discord sync`): discord.py's maintainers warn that syncing on every start gets rate-limited,
        and an unchanged tree needs nothing. The hash is kept in a file, not the database: losing it costs one
        extra sync, which is what every start did before (keep it on a volume in a container)."""
        wanted = self.commands_hash()
        try:
            synced = self.commands_state.read_text().strip()
        except OSError:
            synced = ""
        if synced == wanted and not self.force_sync:
            log.info("Discord: /rapport unchanged since it was last registered; not syncing")
            return
        if not await self._sync():
            return
        try:
            self.commands_state.write_text(wanted + "\n")
        except OSError as error:
            log.warning("Discord: cannot keep the commands' hash in %s (%s): the next start syncs again",
                        self.commands_state, type(error).__name__)

    async def _sync(self) -> bool:
        """True when every sync asked for succeeded."""
        if not self.sync_guilds:
            await self.tree.sync()  # global: Discord may take up to an hour to show changes
            log.info("Discord: /rapport registered globally")
            return True
        ok = True
        for guild_id in self.sync_guilds:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                await self.tree.sync(guild=guild)
            except discord.HTTPException as error:
                ok = False
                log.warning("Discord: cannot add /rapport to server %s (%s): is the bot invited there with the "
                            "applications.commands scope?", guild_id, error.status)
        return ok

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            self._in_flight.discard(task)  # type: ignore[arg-type]

    async def drain(self) -> None:
        """Wait for the events and interactions being handled (on shutdown, so none is cut off halfway)."""
        for _ in range(5):  # let tasks just created by the gateway reach our handlers
            await asyncio.sleep(0)
        pending = {t for t in self._in_flight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
        await self.core.intake.drain(DRAIN_TIMEOUT)
        with contextlib.suppress(TimeoutError):  # a notice still waiting for the database is given up
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await self.deferred.drain()

    async def close(self) -> None:
        await self.drain()
        await super().close()

    async def _remember(self, guild_id: int, people: Sequence[discord.abc.User]) -> None:
        """Store members' names (for "bob: ..." addressing) the first time they are seen or when they change."""
        fresh = [translate.member(guild_id, p) for p in people]
        fresh = [m for m in fresh if self._stored_names.get((m.workspace, m.user_id)) != m.name]
        if fresh:
            await self.core.on_members_seen(MembersSeen(tuple(fresh)))
            self._stored_names.update({(m.workspace, m.user_id): m.name for m in fresh})

    # Gateway events

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Say once, where the server's notices go, what Rapport records (the core keeps it to once). A system
        channel is often closed to members and bots: then the first channel the bot may post in."""
        me = guild.me
        channel = next((c for c in (guild.system_channel, *guild.text_channels)
                        if c is not None and (me is None or c.permissions_for(me).send_messages)), None)
        if channel is not None:
            joined = BotJoinedChannel(str(guild.id), str(channel.id))
            self.deferred.submit(str(guild.id), f"guild={guild.id} channel={channel.id} joined",
                                 lambda: self.core.on_joined(joined))

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot was removed from the server (kicked, banned, or the server deleted): its data goes, as with
        Slack's uninstall. discord.py calls this only for a removal; a server that is merely unavailable (an
        outage) goes to on_guild_unavailable and keeps everything."""
        workspace = str(guild.id)
        # Through the intake: behind what was received before (the erasure leaves none of it behind), and through
        # database outages (the gateway sends the removal once).
        self.core.intake.put(WorkspaceRemoved(workspace), f"guild={workspace} removed")
        self._stored_names = {key: name for key, name in self._stored_names.items() if key[0] != workspace}

    async def on_message(self, message: discord.Message) -> None:
        """Queued before any await: discord.py runs each message as its own task, and anything awaited here first
        would let a reply overtake its question. The intake writes the member names, in the same order."""
        event = translate.posted(message, self.with_text)
        if event is not None and message.guild is not None:
            guild, people = message.guild.id, [message.author, *message.mentions]
            self.core.intake.put(event, f"guild={event.workspace} channel={event.channel} message={event.message_id}",
                                 lambda: self._remember(guild, people))

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        event = translate.deleted(payload)
        if event is not None:
            self.core.intake.put(event, f"guild={event.workspace} channel={event.channel} deleted={event.message_id}")

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        self._forget(translate.thread_deleted(payload))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self._forget(translate.channel_deleted(channel))

    def _forget(self, event: ConversationDeleted) -> None:
        """A deleted thread or channel: its messages are forgotten as deleted messages are, by the intake, behind
        the messages received before and through database outages (the gateway does not send it again)."""
        self.core.intake.put(event, f"guild={event.workspace} channel={event.channel} thread={event.thread_id} "
                                    "deleted")

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in payload.message_ids:
            await self.on_raw_message_delete(discord.RawMessageDeleteEvent(
                {"id": message_id, "channel_id": payload.channel_id, "guild_id": payload.guild_id}  # type: ignore[typeddict-item]
            ))

    # Interactions

    async def on_command(self, interaction: discord.Interaction, text: str,
                         people: Sequence[discord.Member] = ()) -> None:
        if interaction.guild_id is None:  # the group is guild_only; kept for safety
            return
        with self._busy():
            workspace = str(interaction.guild_id)
            await self._remember(interaction.guild_id, [interaction.user, *people])
            event = CommandInvoked(workspace, self._channel(interaction), str(interaction.user.id), text,
                                   translate.roles(interaction.permissions))
            name = text.split()[0]
            work = (self._status(event) if name == "status" else self._help(event) if name == "help"
                    else self.core.on_command(event))
            await answer(interaction, workspace, work, f"command {name}")

    async def _help(self, event: CommandInvoked) -> Reply:
        return help_reply(await self.core.on_command(event))

    async def _status(self, event: CommandInvoked) -> Reply:
        return status_reply(await self.core.on_command(event), self.with_text)

    async def _as_member(self, interaction: discord.Interaction, workspace: str, what: str,
                         work: Callable[[str, str, frozenset[str]], Awaitable[Reply | None]]) -> None:
        """Answer a button or form of `workspace`, with the member's roles there; refuse non-members."""
        with self._busy():
            roles = await self._roles(interaction, workspace)
            if roles is None:
                await answer(interaction, workspace, _constant(NOT_A_MEMBER), what.split()[0])
                return
            await answer(interaction, workspace,
                         work(self._channel(interaction), str(interaction.user.id), roles), what)

    async def on_button(self, interaction: discord.Interaction, workspace: str, action_id: str, value: str) -> None:
        await self._as_member(interaction, workspace, f"button {action_id}", lambda channel, user, roles: (
            self.core.on_button(ButtonPressed(workspace, channel, user, action_id, value, roles))))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        form = submitted_form(dict(interaction.data or {}))
        if form is None:
            return
        workspace, form_id, raw = form
        values, flattened = markup.form_values(raw)
        await self._as_member(interaction, workspace, f"form {form_id}", lambda channel, user, roles: (
            self.core.on_form(FormSubmitted(workspace, channel, user, form_id, values, roles, flattened))))

    async def _roles(self, interaction: discord.Interaction, workspace: str) -> frozenset[str] | None:
        """The member's roles in the workspace a button or form belongs to; None if they are not in it.

        In a server the interaction says; in a direct message (a nudge's buttons) membership is looked up and
        no role is granted.
        """
        if interaction.guild_id is not None:
            return translate.roles(interaction.permissions) if str(interaction.guild_id) == workspace else None
        guild = self.get_guild(int(workspace))
        if guild is None:
            return None
        try:
            guild.get_member(interaction.user.id) or await guild.fetch_member(interaction.user.id)
        except discord.NotFound:
            return None
        return frozenset()

    @staticmethod
    def _channel(interaction: discord.Interaction) -> str:
        if interaction.channel is not None:
            return translate.channel_and_thread(interaction.channel)[0]
        return str(interaction.channel_id or "")


async def _constant(reply: Reply) -> Reply:
    return reply
