"""`/rapport <subcommand>` and button presses: parsing, routing, permission checks, usage messages.

Feature modules register their subcommands and actions on a Router in their own `register(router)`;
bot/app.py wires them. Handlers are async functions of (Context, Args) returning a Reply.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.domain.members import member_hash
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN
from bot.ports import Clock, Matchers, Outbound, Store
from bot.replies import Reply, Section

# Ids of any script: a console workspace file may name a member "élodie" (Slack and Discord ids are ASCII anyway).
# Punctuation typed after a mention ("with @bob.", "intro @dave,") is not part of it.
_USER = re.compile(r"^<@!?([\w.\-]+)(?:\|[^>]*)?>[.,;:!?]*$")
_CHANNEL = re.compile(r"^<#([\w.\-]+)(?:\|[^>]*)?>[.,;:!?]*$")


class UsageError(Exception):
    """Bad input from a member: the message is shown to them as is, with the command's usage, or with `usage`
    where a subcommand has its own (one usage line, never two)."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class Refused(UsageError):
    """Not allowed: the message says which permission is needed; repeating the usage would not help."""


@dataclass(frozen=True)
class Context:
    store: Store
    clock: Clock
    outbound: Outbound
    matchers: Matchers
    workspace: str
    channel: str
    user: str
    roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return WORKSPACE_ADMIN in self.roles

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Refused("Sorry, only a workspace admin can do that here.")

    async def manages(self, channel: str) -> bool:
        """Whether the member may manage `channel` (admins may manage every channel).

        The event's roles were granted for the channel the command was typed in; any other channel the command
        names is asked of the platform, so typing in a channel of one's own grants nothing elsewhere.
        """
        if self.is_admin:
            return True
        if channel == self.channel:
            return CHANNEL_MANAGER in self.roles
        return await self.outbound.manages(self.workspace, channel, self.user)

    async def tracked(self) -> bool:
        """Whether Rapport records the member's contacts now (not paused, not erased)."""
        return member_hash(self.workspace, self.user) not in await self.store.privacy.untracked(self.workspace)

    async def require_member(self, user: str) -> None:
        """A person a command names must be a member Rapport knows here (not any @name typed)."""
        if await self.store.members.get(self.workspace, user) is None:
            raise UsageError(f"I don't know <@{user}> in this workspace.")

    async def require_manager(self, channel: str) -> None:
        if not await self.manages(channel):
            where = "this channel" if channel == self.channel else f"<#{channel}>"
            raise Refused(f"Sorry, only a workspace admin or someone who manages {where} can do that.")


def whole_number(text: str, low: int, high: int, what: str) -> int:
    """A number a member typed, within its documented range (README, Commands); else a UsageError saying it.

    Checked as ASCII digits of bounded length before int(): "²" passes str.isdigit() and 5,000 digits make
    int() raise, and a huge value would overflow dates or a database column later."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)) \
            or not low <= int(text) <= high:
        raise UsageError(f"Give {what} from {low} to {high}.")
    return int(text)


@dataclass
class Args:
    tokens: list[str]

    @classmethod
    def parse(cls, text: str) -> Args:
        try:
            return cls(shlex.split(text))
        except ValueError:
            return cls(text.split())

    def word(self, what: str) -> str:
        if not self.tokens:
            raise UsageError(f"Missing {what}.")
        return self.tokens.pop(0)

    def optional_word(self) -> str | None:
        return self.tokens.pop(0) if self.tokens else None

    def user(self) -> str:
        token = self.word("a person (@mention them)")
        match = _USER.match(token)
        if not match:
            raise UsageError(f"`{token}` is not a person: @mention them.")
        return match.group(1)

    def optional_user(self) -> str | None:
        if self.tokens and _USER.match(self.tokens[0]):
            return self.user()
        return None

    def channel(self) -> str | None:
        """The first #channel among the words left, wherever it stands: members write `coffee checkin met #team`
        (as the check-in asks them to) as often as `coffee checkin #team met`."""
        for i, token in enumerate(self.tokens):
            if match := _CHANNEL.match(token):
                del self.tokens[i]
                return match.group(1)
        return None

    def rest(self) -> str:
        rest, self.tokens = " ".join(self.tokens), []
        return rest

    def done(self) -> None:
        if self.tokens:
            raise UsageError(f"I did not understand `{' '.join(self.tokens)}`.")


Handler = Callable[[Context, Args], Awaitable[Reply]]
ActionHandler = Callable[[Context, str], Awaitable[Reply | None]]
FormHandler = Callable[[Context, dict[str, str], frozenset[str]], Awaitable[Reply]]  # values, fields flattened


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    forms: dict[str, FormHandler] = field(default_factory=dict)

    def command(self, name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self.commands[name] = Command(name, usage, summary, handler)
            return handler

        return add

    def action(self, action_id: str) -> Callable[[ActionHandler], ActionHandler]:
        def add(handler: ActionHandler) -> ActionHandler:
            self.actions[action_id] = handler
            return handler

        return add

    def form(self, form_id: str) -> Callable[[FormHandler], FormHandler]:
        def add(handler: FormHandler) -> FormHandler:
            self.forms[form_id] = handler
            return handler

        return add

    def help(self) -> Reply:
        lines = tuple(f"`/rapport {c.usage}`: {c.summary}" for c in self.commands.values())
        return Reply("*Rapport* helps you get to know the people you work with.", (Section("Commands", lines),))

    def usage(self, problem: str) -> Reply:
        names = ", ".join(self.commands)
        return Reply(f"{problem}\nTry `/rapport help`. Commands: {names}.")

    async def dispatch(self, ctx: Context, text: str) -> Reply:
        args = Args.parse(text)
        name = (args.optional_word() or "help").lower()
        if name == "help":
            return self.help()
        command = self.commands.get(name)
        if command is None:
            return self.usage(f"I don't know the command `{name}`.")
        try:
            return await command.handler(ctx, args)
        except Refused as error:
            return Reply(str(error))
        except UsageError as error:
            return Reply(f"{error}\nUsage: `/rapport {error.usage or command.usage}`")

    async def press(self, ctx: Context, action_id: str, value: str) -> Reply | None:
        handler = self.actions.get(action_id)
        if handler is None:
            return Reply("That button no longer does anything. Try `/rapport help`.")
        try:
            return await handler(ctx, value)
        except UsageError as error:
            return Reply(str(error))


    async def submit(self, ctx: Context, form_id: str, values: dict[str, str],
                     flattened: frozenset[str] = frozenset()) -> Reply:
        handler = self.forms.get(form_id)
        if handler is None:
            return Reply("That form has expired. Try `/rapport help`.")
        try:
            return await handler(ctx, values, flattened)
        except UsageError as error:
            return Reply(str(error))
