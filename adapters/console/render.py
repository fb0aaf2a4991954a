"""Our Reply as terminal text: people as @name, buttons as numbered choices."""

from __future__ import annotations

import re

from adapters.console.workspace import Workspace
from bot.replies import Reply

_USER_REF = re.compile(r"<@([^>|]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#([^>|]+)(?:\|[^>]*)?>")


def names(text: str, workspace: Workspace) -> str:
    def name(match: re.Match[str]) -> str:
        member = workspace.member(match.group(1))
        return f"@{member.name if member else match.group(1)}"

    def channel(match: re.Match[str]) -> str:
        found = workspace.channel(match.group(1))
        return f"#{found.name if found else match.group(1)}"

    return _CHANNEL_REF.sub(channel, _USER_REF.sub(name, text))


def render(reply: Reply, workspace: Workspace) -> str:
    lines = [names(reply.text, workspace)]
    for section in reply.sections:
        lines.append(f"  {names(section.title, workspace)}")
        lines.extend(f"    - {names(line, workspace)}" for line in section.lines)
    if reply.buttons:
        lines.append("  " + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1)))
    if reply.form:
        lines.append(f"  Form: {reply.form.title}. {reply.form.note}".rstrip())
        lines.extend(f"    {f.name}: {f.label}" + (f" (now: {f.value})" if f.value else "") for f in reply.form.fields)
    return "\n".join(lines)
