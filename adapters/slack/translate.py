"""Slack payloads into the core's events. Pure functions of the payload: no I/O, no platform objects out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.events import MessageDeleted, MessagePosted

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|<>\s]+)(?:\|[^<>]*)?>")

# Subtypes that are a person writing in the channel; everything else (joins, topic changes, bots) is not chat.
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})
# Slackbot posts reminders and auto-responses as a user with no bot_id, and users.info says is_bot false.
SLACKBOT = "USLACKBOT"


def message_id(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def command_text(text: str) -> str:
    """A slash command's text as the core parses it. The manifest turns on "escape channels, users, and links":
    `<@U123|name>` becomes `<@U123>`, and a link, `<https://x>` or `<https://x|x>`, the link itself
    (`/rapport share @bob https://x note` would otherwise be refused as not a link). Slack sends `&`, `<` and `>`
    as `&amp;`, `&lt;` and `&gt;`: unescaped last, so that a team "R&D" is stored as typed."""
    text = _LINK.sub(r"\1", _MENTION.sub(r"<@\1>", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_MENTION.findall(text)))


def posted(team_id: str, event: dict[str, Any]) -> MessagePosted | None:
    """A message event as MessagePosted, or None when it is not a person chatting."""
    if (event.get("subtype") not in HUMAN_SUBTYPES or event.get("bot_id") or not event.get("user")
            or event["user"] == SLACKBOT):
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return None
    thread_ts = event.get("thread_ts")
    text = event.get("text") or ""
    return MessagePosted(
        workspace=team_id,
        channel=channel,
        message_id=message_id(channel, ts),
        author=event["user"],
        at=at(ts),
        text=text,
        thread_id=message_id(channel, thread_ts) if thread_ts and thread_ts != ts else None,
        mentions=mentions(text),
    )


def is_deletion(event: dict[str, Any]) -> bool:
    """message_deleted, or a thread's parent deleted while it has replies: Slack keeps it as a tombstone ("This
    message was deleted.") and says so with message_changed."""
    return event.get("subtype") == "message_deleted" or (
        event.get("subtype") == "message_changed" and (event.get("message") or {}).get("subtype") == "tombstone")


def deleted(team_id: str, event: dict[str, Any]) -> MessageDeleted | None:
    ts = (event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
          or (event.get("message") or {}).get("ts"))
    channel = event.get("channel")
    return MessageDeleted(team_id, channel, message_id(channel, ts)) if channel and ts else None


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request belongs to, whatever its shape (event, command, interaction)."""
    return (
        body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )
