"""Bolt listeners: each turns one Slack payload into a core event and renders the core's reply back.

Slack wants every request answered within 3 s. Commands, buttons and forms get the core's answer in the ack
when it is ready within ANSWER_WITHIN, otherwise a holding ack and the answer through response_url; a form (a
modal) is opened before the ack, while the request's trigger_id is valid; message
events are acked at once and stored after by the core's intake (bot/intake/intake.py); App Home is built after the
ack (adapters/deferred.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters import markup
from adapters.deferred import Deferred
from adapters.slack import blocks, translate
from adapters.slack.installations import Tokens
from adapters.slack.outbound import SlackOutbound
from adapters.slack.people import People
from bot.app import Rapport
from bot.events import (
    BotJoinedChannel,
    ButtonPressed,
    CommandInvoked,
    ConversationDeleted,
    FormSubmitted,
    MessagePosted,
    WorkspaceRemoved,
)
from bot.replies import Reply, Section

log = logging.getLogger(__name__)

ANSWER_WITHIN = 2.0  # seconds the core gets to answer inside the ack; Slack gives up at 3
HOLDING = Reply("One moment…")
FAILED = Reply("Sorry, something went wrong on my side. Please try again in a minute.")
FORM_FAILED = Reply("Slack did not open the form just now. Please try again.")
# Seconds from a request's arrival by which its form must be open: the ack has to follow before Slack's 3 s, and
# the trigger_id dies at 3 s anyway, so the client's retries of a 429 or 500 past this only cost the answer.
FORM_BY = 2.7
FORM_AT_LEAST = 0.3  # seconds a form still gets when the core used up most of the time

Body = dict[str, Any]
SEES = Section("What Rapport sees on Slack", (
    "Public channels it was added to (`/invite @Rapport`): who asks whom and when. Message text is read to tell "
    "questions from other messages, then dropped; never stored.",
    "Not private channels, group DMs or direct messages: nothing said there counts.",
))


class ResponseUrlFailed(Exception):
    """Slack answered a post to a response_url with a server error."""


async def _show_form(client: AsyncWebClient, body: Body, modal: Body, started: float, ids: str) -> bool:
    """Open a form; pressed inside a modal (the next page under a saved one's answer), show it in that modal:
    Slack opens no modal over another with views.open. False when Slack did not open it by FORM_BY seconds after
    the request arrived (at `started`), so the member can be told instead of left with a timeout."""
    try:
        async with asyncio.timeout(max(started + FORM_BY - time.monotonic(), FORM_AT_LEAST)):
            if (view := body.get("view")) and view.get("type") == "modal":
                await client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
            else:
                await client.views_open(trigger_id=body["trigger_id"], view=modal)
        return True
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("slack form for %s not opened (%s)", ids, reason)
        return False


def _response_type(reply: Reply) -> str:
    return "ephemeral" if reply.ephemeral else "in_channel"


@dataclass
class Listeners:
    core: Rapport
    people: People
    deferred: Deferred
    tokens: Tokens
    outbound: SlackOutbound
    revocation: AsyncTokenRevocationListeners | None  # Bolt's deletion of installation rows (OAuth installs)

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.message)
        app.event("app_home_opened")(self.home_opened)
        app.event("member_joined_channel")(self.member_joined)
        app.event("channel_deleted")(self.channel_deleted)
        app.event("tokens_revoked")(self.tokens_revoked)
        app.event("app_uninstalled")(self.app_uninstalled)
        app.command("/rapport")(self.command)
        app.action(re.compile(".+"))(self.button)
        app.view(blocks.FORM_CALLBACK)(self.form)

    # --- events: ack now, work after ---------------------------------------------------------------------

    async def message(self, body: Body, event: Body, client: AsyncWebClient, context: AsyncBoltContext) -> None:
        """Hand the message to the core's intake, which stores it after the ack, in order, through outages.

        No event-id claim: the core records a message once by its id, also when Slack retries it elsewhere."""
        team = context.team_id or translate.team_of(body)
        ids = (f"team={team} event={body.get('event_id', '')} channel={str(event.get('channel', ''))[:32]} "
               f"message={str(event.get('ts') or event.get('deleted_ts') or '')[:32]}")
        try:
            taken = translate.deleted(team, event) if translate.is_deletion(event) else translate.posted(team, event)
        except (ValueError, TypeError, OverflowError, KeyError) as error:  # one bad event costs only itself
            log.warning("slack event %s skipped: malformed (%s)", ids, type(error).__name__)
            return
        if taken is None:
            return
        before = None
        if isinstance(taken, MessagePosted):
            author = taken.author

            async def before() -> None:
                try:
                    await self.people.seen(client, team, author)
                except (aiohttp.ClientError, TimeoutError) as error:  # names help addressing; the graph does without
                    log.warning("users.info %s/%s unreachable (%s)", team, author, type(error).__name__)

        self.core.intake.put(taken, ids, before)

    async def member_joined(self, body: Body, event: Body, context: AsyncBoltContext) -> None:
        """Rapport itself was added to a channel: the core tells the channel what it records there."""
        team, channel = context.team_id or translate.team_of(body), event.get("channel", "")
        if not channel or event.get("user") != context.bot_user_id:
            return
        self.deferred.submit(f"{team}:{channel}", f"team={team} channel={channel} joined",
                             lambda: self.core.on_joined(BotJoinedChannel(team, channel)))

    async def channel_deleted(self, body: Body, event: Body, context: AsyncBoltContext) -> None:
        """A deleted channel: its messages are forgotten as deleted messages are, by the intake, behind the
        channel's messages taken before and through outages."""
        team, channel = context.team_id or translate.team_of(body), event.get("channel", "")
        if not channel:
            return
        self.core.intake.put(ConversationDeleted(team, channel), f"team={team} channel={channel} deleted")

    async def home_opened(self, event: Body, client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab") != "home":
            return
        team, user = context.team_id or "", event.get("user", "")

        async def job() -> None:
            roles = await self.people.roles(client, team, user)
            reply = await self.core.home(team, user, roles)
            await client.views_publish(user_id=user, view=blocks.home(reply))

        self.deferred.submit(f"{team}:{user}", f"team={team} user={user} home", job)

    async def tokens_revoked(self, event: Body, context: AsyncBoltContext) -> None:
        """Bolt's own revocation listener deletes the rows; then nothing is sent to that workspace again."""
        if self.revocation is not None:
            await self.revocation.handle_tokens_revoked_events(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):
            self._forget(context.team_id or "", "tokens_revoked")

    async def app_uninstalled(self, context: AsyncBoltContext) -> None:
        if self.revocation is not None:
            await self.revocation.handle_app_uninstalled_events(context=context)
        self._forget(context.team_id or "", "app_uninstalled")
        # Slack's terms: a workspace's data goes with the app. Erasing it all is final, so only on uninstall. The
        # intake erases behind the messages taken before, and waits out an outage: Slack sends this once.
        team = context.team_id or ""
        self.core.intake.put(WorkspaceRemoved(team), f"team={team} app_uninstalled")

    def _forget(self, team: str, why: str) -> None:
        self.tokens.revoke(team)
        self.people.forget_workspace(team)
        log.info("%s for workspace %s: installation deleted, no more calls there", why, team)

    # --- interactive: answer inside the ack when quick enough ---------------------------------------------

    async def _in_time(self, work: Awaitable[Reply | None]) -> tuple[asyncio.Task[Reply | None], bool]:
        task: asyncio.Task[Reply | None] = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN)
        return task, task in done

    async def _result(self, task: asyncio.Task[Reply | None], ids: str) -> Reply | None:
        try:
            return await task
        except Exception as error:
            log.error("slack %s failed (%s)", ids, type(error).__name__)
            return FAILED

    async def command(self, ack: AsyncAck, body: Body, client: AsyncWebClient, context: AsyncBoltContext) -> None:
        started = time.monotonic()
        team, user, channel = context.team_id or translate.team_of(body), body["user_id"], body.get("channel_id", "")
        text = translate.command_text(body.get("text") or "")
        ids = f"team={team} user={user} command"

        async def answer() -> Reply:
            roles = await self.people.roles(client, team, user, channel)
            reply = await self.core.on_command(CommandInvoked(team, channel, user, text, roles))
            # The core's status leaves what the platform hides to the adapter (as on Discord).
            return replace(reply, sections=(*reply.sections, SEES)) if text.lower().split()[:1] == ["status"] else reply

        task, ready = await self._in_time(answer())
        if not ready:
            await ack(response_type="ephemeral", text=HOLDING.text)

            async def later() -> None:
                await self._after_ack(await self._result(task, ids), team, user, channel, body, client, started, ids)

            self.deferred.submit(f"{team}:{user}", ids, later)
            return
        reply = await self._result(task, ids)
        assert reply is not None
        if reply.attachment is not None:
            await ack(response_type="ephemeral", text=f"{reply.text} (sent to your direct messages)")
            self.deferred.submit(f"{team}:{user}", ids, lambda: self.outbound.send_direct(team, user, reply))
            return
        if reply.form:
            # Before the ack: Bolt answers Slack at ack() and runs the rest as a task, which a busy moment can hold
            # past the 3 seconds a trigger_id lives; then the form never opens.
            if await _show_form(client, body, blocks.modal(reply.form, channel), started, ids):
                await ack()
            else:
                await ack(response_type="ephemeral", text=FORM_FAILED.text)
            return
        await ack(response_type=_response_type(reply), **blocks.message(reply))

    async def button(self, ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient,
                     context: AsyncBoltContext) -> None:
        started = time.monotonic()
        team, user = context.team_id or translate.team_of(body), body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or blocks.view_channel(body.get("view") or {})
        action_id = blocks.action_of(action.get("action_id", ""))
        ids = f"team={team} user={user} action={action_id}"

        async def answer() -> Reply | None:
            roles = await self.people.roles(client, team, user, channel)
            return await self.core.on_button(
                ButtonPressed(team, channel, user, action_id, action.get("value") or "", roles))

        task, ready = await self._in_time(answer())
        if ready:
            reply = await self._result(task, ids)
            if reply is not None and reply.form:
                # Within the request, as for commands: the trigger_id expires 3 s after the press.
                opened = await _show_form(client, body, blocks.modal(reply.form, channel), started, ids)
                await ack()
                if not opened:  # a press's ack shows nothing: the member hears it under the message
                    self.deferred.submit(f"{team}:{user}", ids, lambda: self._after_ack(
                        FORM_FAILED, team, user, channel, body, client, started, ids))
                return
        await ack()

        async def job() -> None:
            await self._after_ack(await self._result(task, ids), team, user, channel, body, client, started, ids)

        self.deferred.submit(f"{team}:{user}", ids, job)

    async def _after_ack(self, reply: Reply | None, team: str, user: str, channel: str, body: Body,
                         client: AsyncWebClient, started: float, ids: str) -> None:
        """A command's or button's reply that came after the ack: a file cannot ride on a response_url (nor an
        ephemeral message), so it goes to the member's DMs, as the quick path sends it."""
        if reply is None:
            return
        if reply.attachment is None and reply.form:
            # The core took longer than ANSWER_WITHIN: the trigger_id may have expired by now.
            if await _show_form(client, body, blocks.modal(reply.form, channel), started, ids):
                return
            reply = FORM_FAILED
        if reply.attachment is not None:
            await self.outbound.send_direct(team, user, reply)
        elif body.get("response_url"):
            # Not Bolt's respond(): it returns a 429 or a 500 as if it were an answer, and the member's answer was
            # lost without a word. This client waits out a 429 (Retry-After); a 5xx fails the job, which Deferred
            # runs once more.
            hook = AsyncWebhookClient(body["response_url"], session=self.outbound.client.session,
                                      retry_handlers=self.outbound.client.retry_handlers)
            sent = await hook.send(response_type=_response_type(reply), replace_original=False,
                                   **blocks.message(reply))
            if sent.status_code >= 500:
                raise ResponseUrlFailed(sent.status_code)
            if sent.status_code >= 400:  # expired (30 minutes, 5 uses): asking again would not help
                log.warning("slack answer for team=%s user=%s not delivered: response_url %d", team, user,
                            sent.status_code)
        else:  # a button in the App Home has no message to answer under
            await self.outbound.send_direct(team, user, reply)

    async def form(self, ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient,
                   context: AsyncBoltContext) -> None:
        team, user = context.team_id or translate.team_of(body), body["user"]["id"]
        form_id, channel, raw = blocks.form_submission(view)
        values, flattened = markup.form_values(raw)
        ids = f"team={team} user={user} form={form_id}"

        async def answer() -> Reply:
            roles = await self.people.roles(client, team, user, channel)
            return await self.core.on_form(FormSubmitted(team, channel, user, form_id, values, roles, flattened))

        task, ready = await self._in_time(answer())
        if ready:
            reply = await self._result(task, ids)
            assert reply is not None
            await ack(response_action="update", view=blocks.modal_result(reply, channel))
            return
        await ack()

        async def later() -> None:
            reply = await self._result(task, ids)
            if reply is not None:
                await self.outbound.send_direct(team, user, reply)

        self.deferred.submit(f"{team}:{user}", ids, later)
