"""Rapport's core as adapters see it: hand it an event, get a reply (or nothing) back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot import home, relationships, status
from bot.coffee import coffee
from bot.commands import Context, Router
from bot.core import Activity
from bot.events import (
    BotJoinedChannel,
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    MembersSeen,
    MessagePosted,
)
from bot.insight import insights
from bot.intake.ingest import Directory, ingest
from bot.intake.intake import Intake
from bot.interests import starters
from bot.interests.vectors import MatcherSource
from bot.nudges import nudges
from bot.ports import Clock, Outbound, Store
from bot.privacy import privacy
from bot.profiles import profiles
from bot.replies import Reply
from bot.scheduling import Ticker

log = logging.getLogger(__name__)

FEATURES = (relationships, profiles, starters, coffee, nudges, insights, privacy, status)


def build_router() -> Router:
    router = Router()
    for feature in FEATURES:
        feature.register(router)
    return router


@dataclass
class Rapport:
    store: Store
    clock: Clock
    outbound: Outbound
    router: Router = field(default_factory=build_router)
    directory: Directory = field(init=False)
    intake: Intake = field(init=False)  # live messages from the platforms, in order, kept through outages
    ticker: Ticker = field(init=False)
    activity: Activity = field(default_factory=Activity)
    matchers: MatcherSource = field(default_factory=MatcherSource)  # the semantic matcher, loaded on first use

    def __post_init__(self) -> None:
        self.directory = Directory(self.store)
        self.intake = Intake(self.store, self.directory)
        # Features with scheduled work (coffee rounds, nudges) expose `sources(core)`: DueSources for the ticker.
        self.ticker = Ticker(self.store.runs, self.clock, [
            source for feature in FEATURES if hasattr(feature, "sources") for source in feature.sources(self)
        ])

    def context(self, workspace: str, channel: str, user: str, roles: frozenset[str]) -> Context:
        return Context(self.store, self.clock, self.outbound, self.matchers, workspace, channel, user, roles)

    async def on_members_seen(self, event: MembersSeen) -> None:
        await self.store.members.upsert(event.members)

    async def on_message(self, event: MessagePosted) -> bool:
        """False when the message was seen before (a redelivery) or its author is not tracked."""
        return await ingest(self.store, self.directory, [event]) == 1

    async def on_joined(self, event: BotJoinedChannel) -> bool:
        return await privacy.announce_joined(self.store, self.outbound, event.workspace, event.channel,
                                             self.clock.now())

    async def on_command(self, event: CommandInvoked) -> Reply:
        ctx = self.context(event.workspace, event.channel, event.user, event.roles)
        try:
            return await self.router.dispatch(ctx, event.text)
        finally:
            self.directory.invalidate(event.workspace)  # a pause or erasure takes effect here at once

    async def home(self, workspace: str, user: str, roles: frozenset[str] = frozenset()) -> Reply:
        """The member's own page: relationships, profile, coffee and nudges (Slack's App Home)."""
        return await home.home(self.router, self.context(workspace, "", user, roles))

    async def on_button(self, event: ButtonPressed) -> Reply | None:
        ctx = self.context(event.workspace, event.channel, event.user, event.roles)
        try:
            return await self.router.press(ctx, event.action_id, event.value)
        finally:
            self.directory.invalidate(event.workspace)

    async def on_form(self, event: FormSubmitted) -> Reply:
        ctx = self.context(event.workspace, event.channel, event.user, event.roles)
        return await self.router.submit(ctx, event.form_id, dict(event.values), event.flattened)
