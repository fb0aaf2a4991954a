"""`/rapport` as an app_commands.Group built from the core's Router, so features that add subcommands appear here.

Options come from each command's usage line: `@someone` becomes a member option, `#channel` a channel option
(in [brackets]: optional); anything else becomes one free text option. Whatever the member picks is turned
back into the text the core parses (`with <@123>`), so the core sees the same CommandInvoked as on Slack.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional

import discord
from discord import app_commands

from bot.commands import Router
from bot.replies import Reply, Section

RunCommand = Callable[[discord.Interaction, str, Sequence[discord.Member]], Awaitable[None]]
SUBCOMMANDS_MAX = 25
BUILT_IN = {"help": "what Rapport can do"}  # the core answers help without registering it


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
    commands += [(c.name, c.summary, options(c.name, c.usage)) for c in router.commands.values()]
    for name, summary, opts in commands[:SUBCOMMANDS_MAX]:
        group.add_command(subcommand(_name(name, name), summary, opts, run))
    return group


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


def status_reply(core_reply: Reply, with_text: bool) -> Reply:
    return replace(core_reply, sections=(*core_reply.sections, visibility(with_text)))
