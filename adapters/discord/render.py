"""The core's Reply as a Discord message: an embed for the text and sections, a view for the buttons."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from adapters.discord.views import buttons_view
from bot.replies import Reply, Section

DESCRIPTION_MAX = 4096
FIELD_MAX = 1024
FIELDS_MAX = 25
EMBED_MAX = 6000  # characters in all of a message's embeds: titles, descriptions, field names and values
MORE = "…and more"
BLANK = "\u200b"  # Discord refuses empty embed field names and values
COLOUR = discord.Colour.blurple()

# The core writes *bold* (Slack style); in Discord markdown single stars are italics.
_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>")


def markdown(text: str) -> str:
    return _BOLD.sub(r"**\1**", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_values(lines: tuple[str, ...]) -> list[str]:
    """Section lines packed into as few embed fields as fit, never splitting a line."""
    values: list[str] = []
    current = ""
    for line in (clip(markdown(line), FIELD_MAX) for line in lines):
        if current and len(current) + 1 + len(line) > FIELD_MAX:
            values.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*values, current or BLANK]


def _section_fields(section: Section) -> list[tuple[str, str]]:
    """(name, value) of each embed field a section takes. Discord renders mentions in field values, not in field
    names, so a title naming someone ("Ask <@123>") leads the value in bold instead."""
    if _MENTION.search(section.title):
        return [(BLANK, value) for value in _field_values((f"*{section.title}*", *section.lines))]
    title = clip(markdown(section.title), 256)
    return [(title if n == 0 else BLANK, value) for n, value in enumerate(_field_values(section.lines))]


def embed(reply: Reply) -> discord.Embed:
    """Discord refuses the whole message when an embed passes a limit, so a long answer is cut, as on Slack, with
    a last field saying there is more."""
    card = discord.Embed(description=clip(markdown(reply.text), DESCRIPTION_MAX) or None, colour=COLOUR)
    fields = [field for section in reply.sections for field in _section_fields(section)]
    room = EMBED_MAX - len(card.description or "")
    if len(fields) > FIELDS_MAX or sum(len(name) + len(value) for name, value in fields) > room:
        room -= len(BLANK) + len(MORE)
        kept = []
        for name, value in fields[:FIELDS_MAX - 1]:
            room -= len(name) + len(value)
            if room < 0:
                break
            kept.append((name, value))
        fields = [*kept, (BLANK, MORE)]
    for name, value in fields:
        card.add_field(name=name, value=value, inline=False)
    return card


def message(reply: Reply, workspace: str) -> dict[str, Any]:
    """Keyword arguments for Messageable.send, InteractionResponse.send_message and Webhook.send."""
    kwargs: dict[str, Any] = {"embed": embed(reply)}
    view = buttons_view(workspace, reply.buttons)
    if view is not None:
        kwargs["view"] = view
    if reply.attachment is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.attachment.content), filename=reply.attachment.filename)
    return kwargs
