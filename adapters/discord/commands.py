"""`/rapport` as an app_commands.Group built from the core's Router, so features that add subcommands appear here.

Options come from each command's usage line: `@someone` becomes a member option, `#channel` a channel option
(in [brackets]: optional); anything else becomes one free text option. Whatever the member picks is turned
back into the text the core parses (`with <@123>`), so the core sees the same CommandInvoked as on Slack.

Coffee is the exception: its subcommands have typed options (choices, ranges, autocomplete for time zones and
times) rather than one `details` string to get right. What only managers may run (coffee setup and stop,
insights, setting retention) is a second command, `/rapport-admin`, with default permissions Manage Channels:
Discord sets default permissions per top-level command, not per subcommand, so a separate command is the only
way to hide them from members. The core still checks each member's role; the default only hides the command.
"""

from __future__ import annotations

import inspect
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional

import discord
from discord import app_commands

from bot.commands import Router
from bot.domain.coffee import DAYS
from bot.privacy.privacy import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS
from bot.replies import Reply, Section

RunCommand = Callable[[discord.Interaction, str, Sequence[discord.Member]], Awaitable[None]]
SUBCOMMANDS_MAX = 25
BUILT_IN = {"help": "what Rapport can do"}  # the core answers help without registering it
# Core commands that get their own Discord shape (below) instead of the one built from the usage line.
SHAPED = {"coffee", "insights"}
CHOICES_MAX = 25  # Discord shows at most 25 autocomplete choices
ADMIN_PERMISSIONS = discord.Permissions(manage_channels=True)
CADENCES = [app_commands.Choice(name=c, value=c) for c in ("weekly", "biweekly", "monthly")]
WEEKDAYS = [app_commands.Choice(name=d.capitalize(), value=d) for d in DAYS]
CHECKINS = [app_commands.Choice(name=n, value=v) for n, v in
            (("we met", "met"), ("not yet", "not-yet"), ("we couldn't", "couldnt"))]
TIMES = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
_ZONES = sorted(zoneinfo.available_timezones())


@dataclass(frozen=True)
class Option:
    name: str
    kind: type[Any]
    required: bool
    description: str

    def as_text(self, value: Any) -> str:
        if isinstance(value, discord.abc.User):
            return f"<@{value.id}>"
        if isinstance(value, discord.abc.GuildChannel):
            return f"<#{value.id}>"
        return str(value)


def _name(token: str, fallback: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", token.lower())[:32] or fallback


def options(name: str, usage: str) -> list[Option]:
    """Options in the order the usage line names them: each `@someone` a member, each `#channel` a channel,
    the other words one free text option. A usage with choices (`[...]` or `a|b`) makes every option optional,
    so `/rapport profile` alone works as well as `/rapport profile someone:@Bob` or `details:more`."""
    tokens = [t for t in re.split(r"[\s|]+", usage) if t]
    if tokens and tokens[0] == name:
        tokens = tokens[1:]
    required = not any(mark in usage for mark in "[|")
    found: list[Option] = []
    for token in tokens:
        inner = token.strip("[]|")
        if inner.startswith(("@", "#")):
            member = inner.startswith("@")
            option = Option(_name(inner[1:], "member" if member else "channel"),
                            discord.Member if member else discord.TextChannel, required,
                            f"{inner} (a {'member' if member else 'channel'})")
        elif inner:
            option = Option("details", str, required, usage.removeprefix(name).strip()[:100])
        else:
            continue
        if option.name not in {o.name for o in found}:
            found.append(option)
    return found


def subcommand(name: str, summary: str, opts: list[Option], run: RunCommand) -> app_commands.Command[Any, Any, None]:
    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        words = [name, *(o.as_text(values[o.name]) for o in opts if values.get(o.name) is not None)]
        people = [v for v in values.values() if isinstance(v, discord.Member)]
        await run(interaction, " ".join(words), people)

    # discord.py reads options from the callback's signature: give it one per option.
    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    parameters += [
        inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, annotation=o.kind) if o.required else
        inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[o.kind], default=None)  # noqa: UP045
        for o in opts
    ]
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = {o.name: o.description for o in opts}  # type: ignore[attr-defined]
    return app_commands.Command(name=name, description=summary[:100] or name, callback=callback)


def rapport_group(router: Router, run: RunCommand) -> app_commands.Group:
    group = app_commands.Group(name="rapport", description="Get to know the people you work with", guild_only=True)
    commands: list[tuple[str, str, list[Any]]] = [
        (name, summary, []) for name, summary in BUILT_IN.items() if name not in router.commands]
    commands += [(c.name, c.summary, options(c.name, c.usage)) for c in router.commands.values()
                 if c.name not in SHAPED]
    if "coffee" in router.commands:
        group.add_command(coffee_group(run))
    for name, summary, opts in commands[:SUBCOMMANDS_MAX - len(group.commands)]:
        group.add_command(subcommand(_name(name, name), summary, opts, run))
    return group


def _words(*parts: object) -> str:
    """The core's command text from the options given (None: not given)."""
    out: list[str] = []
    for part in parts:
        if part is None or part is False:
            continue
        # A channel (cached, or as the interaction resolved it) or a member: the core reads their mentions.
        mention = getattr(part, "mention", None)
        out.append(mention if isinstance(mention, str) else str(part))
    return " ".join(out)


async def time_zones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """IANA zones containing what was typed ("paris", "new_york", "new york")."""
    typed = current.strip().lower().replace(" ", "_")
    found = [z for z in _ZONES if typed in z.lower()] if typed else ["UTC", *(z for z in _ZONES if z != "UTC")]
    return [app_commands.Choice(name=z, value=z) for z in found[:CHOICES_MAX]]


async def times(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Whole and half hours starting with what was typed ("9" -> 09:00, 09:30; "14:" -> 14:00, 14:30)."""
    typed = current.strip()
    typed = "0" + typed if len(typed) == 1 or (len(typed) > 1 and typed[1] == ":") else typed
    found = [t for t in TIMES if t.startswith(typed)] or ([current.strip()] if current.strip() else TIMES)
    return [app_commands.Choice(name=t, value=t) for t in found[:CHOICES_MAX]]


Where = Optional[discord.TextChannel]  # noqa: UP045 (discord.py reads the annotation at runtime)
Someone = discord.Member
Days = app_commands.Range[int, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS]


def coffee_group(run: RunCommand) -> app_commands.Group:
    """`/rapport coffee ...` for members: every option typed. Setup and stop live in `/rapport-admin`."""
    coffee = app_commands.Group(name="coffee", description="Virtual coffee: meet people from a channel")

    async def go(interaction: discord.Interaction, *parts: object) -> None:
        await run(interaction, _words("coffee", *parts),
                  [p for p in parts if isinstance(p, discord.Member)])

    @coffee.command(name="join", description="take part in this channel's coffee (or the channel named)")
    @app_commands.describe(channel="the coffee channel (default: this one)", team="your team, to meet across teams")
    async def join(interaction: discord.Interaction, channel: Where = None,
                   team: app_commands.Range[str, 1, 64] | None = None) -> None:
        await go(interaction, "join", channel, *(("team", team) if team else ()))

    @coffee.command(name="leave", description="stop taking part")
    @app_commands.describe(channel="the coffee channel (default: this one)")
    async def leave(interaction: discord.Interaction, channel: Where = None) -> None:
        await go(interaction, "leave", channel)

    @coffee.command(name="skip", description="sit the next round out")
    @app_commands.describe(channel="the coffee channel (default: this one)")
    async def skip(interaction: discord.Interaction, channel: Where = None) -> None:
        await go(interaction, "skip", channel)

    @coffee.command(name="pause", description="sit rounds out until a date")
    @app_commands.describe(until="YYYY-MM-DD", channel="the coffee channel (default: this one)")
    async def pause(interaction: discord.Interaction, until: app_commands.Range[str, 10, 10],
                    channel: Where = None) -> None:
        await go(interaction, "pause", channel, "until", until)

    @coffee.command(name="status", description="the next round, in your own time zone")
    @app_commands.describe(channel="the coffee channel (default: this one)")
    async def status(interaction: discord.Interaction, channel: Where = None) -> None:
        await go(interaction, "status", channel)

    @coffee.command(name="avoid", description="never be grouped with someone (they are not told)")
    async def avoid(interaction: discord.Interaction, someone: Someone) -> None:
        await go(interaction, "avoid", someone)

    @coffee.command(name="unavoid", description="allow being grouped with someone again")
    async def unavoid(interaction: discord.Interaction, someone: Someone) -> None:
        await go(interaction, "unavoid", someone)

    @coffee.command(name="checkin", description="did your group meet?")
    @app_commands.choices(answer=CHECKINS)
    @app_commands.describe(channel="the coffee channel (default: your latest group)")
    async def checkin(interaction: discord.Interaction, answer: app_commands.Choice[str],
                      channel: Where = None) -> None:
        await go(interaction, "checkin", channel, answer.value)

    return coffee


def admin_group(router: Router, run: RunCommand) -> app_commands.Group:
    """`/rapport-admin`: commands for those who run the server or a channel, hidden from members by default."""
    admin = app_commands.Group(name="rapport-admin", description="Rapport for server and channel managers",
                               guild_only=True, default_permissions=ADMIN_PERMISSIONS)

    async def go(interaction: discord.Interaction, *parts: object) -> None:
        await run(interaction, _words(*parts), [])

    if "coffee" in router.commands:
        @admin.command(name="coffee-setup", description="set up virtual coffee in this channel (or the one named)")
        @app_commands.choices(cadence=CADENCES, day=WEEKDAYS)
        @app_commands.autocomplete(time=times, tz=time_zones)
        @app_commands.describe(time="HH:MM, in the time zone given", size="people per group",
                               cross_teams="prefer groups across teams", no_repeat="rounds before two meet again",
                               tz="time zone (default: yours)", channel="the coffee channel (default: this one)")
        async def setup(interaction: discord.Interaction, cadence: app_commands.Choice[str],
                        day: app_commands.Choice[str], time: app_commands.Range[str, 4, 5],
                        size: app_commands.Range[int, 2, 3] = 2, cross_teams: bool = False,
                        no_repeat: app_commands.Range[int, 0, 52] | None = None, tz: str | None = None,
                        channel: Where = None) -> None:
            await go(interaction, "coffee", "setup", channel, cadence.value, day.value, time, "size", size,
                     "cross-teams" if cross_teams else None, *(("no-repeat", no_repeat) if no_repeat is not None
                                                                else ()), *(("tz", tz) if tz else ()))

        @admin.command(name="coffee-stop", description="stop virtual coffee in this channel (or the one named)")
        @app_commands.describe(channel="the coffee channel (default: this one)")
        async def stop(interaction: discord.Interaction, channel: Where = None) -> None:
            await go(interaction, "coffee", "stop", channel)

    if "insights" in router.commands:
        @admin.command(name="insights", description="totals for leads, never a name")
        @app_commands.describe(channel="a coffee channel's members only (channel managers)")
        async def insights(interaction: discord.Interaction, channel: Where = None) -> None:
            await go(interaction, "insights", channel)

    if "retention" in router.commands:
        @admin.command(name="retention", description="how long contact history is kept; admins set it")
        @app_commands.describe(days="keep contact history this many days")
        async def retention(interaction: discord.Interaction,
                            days: Days | None = None) -> None:
            await go(interaction, "retention", days)

    return admin


def visibility(with_text: bool) -> Section:
    """What the bot can and cannot see here: part of `/rapport status`."""
    if with_text:
        lines = ("Message text: read to tell questions from other messages, then dropped; never stored.",
                 "Replies, threads and mentions: seen.")
    else:
        lines = ("Message text: *not visible* (Message Content intent off), so Rapport cannot tell questions "
                 "from other messages.",
                 "Replies, threads and mentions: seen; Rapport links who answers whom from these alone.")
    return Section("What Rapport sees on Discord", lines)


ON_DISCORD = Section("On Discord", (
    "Options are typed: pick them as Discord offers them (`/rapport coffee join channel:` ...).",
    "Managers' commands are under `/rapport-admin`: `coffee-setup`, `coffee-stop`, `insights` and `retention`; "
    "Discord shows it to members with Manage Channels.",
))


def help_reply(core_reply: Reply) -> Reply:
    """The core's help names its text commands; say where they differ here."""
    return replace(core_reply, sections=(*core_reply.sections, ON_DISCORD))


def status_reply(core_reply: Reply, with_text: bool) -> Reply:
    return replace(core_reply, sections=(*core_reply.sections, visibility(with_text)))
