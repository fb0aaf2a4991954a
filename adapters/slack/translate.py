"""Slack payloads into the core's events. Pure functions of the payload: no I/O, no platform objects out."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
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


# Ids Bolt reads from any payload to tell whose it is (the workspace to authorize): at its top, and in its parts,
# whose id is there whenever the part is.
_IDS = ("type", "team_id", "enterprise_id", "user_id", "channel_id", "api_app_id", "event_id", "callback_id",
        "trigger_id", "response_url")
_PART_IDS = {"team": ("id", "enterprise_id"), "enterprise": ("id",), "user": ("id", "team_id"), "channel": ("id",)}
# What Rapport reads of the events it listens to, as text: first what Slack always sends, then the rest.
_EVENT_TEXT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "message": (("channel",), ("subtype", "user", "bot_id", "ts", "thread_ts", "deleted_ts", "text")),
    "member_joined_channel": (("channel", "user"), ()),
    "channel_deleted": (("channel",), ()),
    "app_home_opened": (("user",), ("tab",)),
}
# What Slack always sends with each kind of request Rapport takes (and with two that Bolt reads further itself).
_NEEDS = {"command": ("user_id", "trigger_id"), "block_actions": ("user", "actions", "trigger_id"),
          "view_submission": ("user", "view"), "view_closed": ("user", "view"), "interactive_message": ("actions",),
          "workflow_step_edit": ("workflow_step",)}


def _wrong(value: Any, path: str, needed: Collection[str] = (), text: Collection[str] = (),
           objects: Collection[str] = ()) -> str | None:
    """The path of the first part of `value` that is not what it is read as: `value` an object, its `needed`
    fields there and not empty, its `text` fields strings and its `objects` objects (where present: null reads as
    absent). None when all are."""
    if not isinstance(value, dict):
        return path
    for key in needed:
        if not value.get(key):
            return f"{path}.{key}"
    for key in text:
        if value.get(key) is not None and not isinstance(value[key], str):
            return f"{path}.{key}"
    for key in objects:
        if value.get(key) is not None and not isinstance(value[key], dict):
            return f"{path}.{key}"
    return None


def _first(problems: Iterable[str | None]) -> str | None:
    return next((problem for problem in problems if problem is not None), None)


def _envelope(body: dict[str, Any]) -> str | None:
    authorizations = body.get("authorizations") or []
    parts = (_wrong(body[part], part, ids[:1], ids) for part, ids in _PART_IDS.items() if body.get(part))
    if problem := _wrong(body, "payload", text=_IDS, objects=(*_PART_IDS, "view")) or _first(parts):
        return problem
    if not str(body.get("response_url") or "https:").startswith(("https:", "http:")):  # Bolt posts errors there
        return "payload.response_url"
    if not isinstance(authorizations, list):
        return "payload.authorizations"
    return _first(_wrong(each, f"authorizations.{i}", text=("team_id", "enterprise_id", "user_id"))
                  for i, each in enumerate(authorizations))


def _event(event: Any) -> str | None:
    if problem := _wrong(event, "event", ("type",), ("type",)):
        return problem
    tokens = event.get("tokens", {})  # Bolt's revocation listener reads its lists of ids
    if not isinstance(tokens, dict) or not all(
            isinstance(ids := tokens.get(kind, []), list) and all(isinstance(i, str) for i in ids)
            for kind in ("oauth", "bot")):
        return "event.tokens"
    needed, text = _EVENT_TEXT.get(event["type"], ((), ()))
    return (_wrong(event, "event", needed, (*needed, *text), ("message", "previous_message"))
            or _wrong(event.get("message") or {}, "event.message", text=("subtype", "ts"))
            or _wrong(event.get("previous_message") or {}, "event.previous_message", text=("ts",)))


def _view(view: dict[str, Any]) -> str | None:
    """A modal, with the note Rapport put on it (blocks.modal) and the values typed into it."""
    if problem := _wrong(view, "view", ("id", "type"),
                         ("id", "type", "hash", "callback_id", "private_metadata", "team_id", "app_installed_team_id"),
                         ("state",)):
        return problem
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return "view.private_metadata"
    state = view.get("state") or {}
    return (_wrong(meta, "view.private_metadata", text=("form_id", "channel"))
            or _wrong(state, "view.state", objects=("values",))
            or _first(_wrong(fields, f"view.state.values.{block}", objects=("value",))
                      or _wrong(fields.get("value") or {}, f"view.state.values.{block}.value", text=("value",))
                      for block, fields in (state.get("values") or {}).items()))


def _interaction(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if actions is not None and not (isinstance(actions, list) and actions):  # Bolt reads the first
        return "payload.actions"
    return (_first(_wrong(action, f"actions.{i}", ("action_id",) if body.get("type") == "block_actions" else (),
                          ("action_id", "value"))
                   for i, action in enumerate(actions or ()))
            or (_view(body["view"]) if body.get("view") else None))


def malformed(body: dict[str, Any]) -> str | None:
    """Where a payload is not shaped as Slack sends it, as a path ("event.channel"), never what it holds; None when
    it is. What is checked is what Bolt and Rapport's listeners read, as they read it: a correctly signed payload
    of another shape failed in there with a 500, which Slack retries, or reached the store."""
    kind = "command" if "command" in body else body.get("type")
    if problem := _envelope(body) or _wrong(body, "payload", _NEEDS.get(kind or "", ())):
        return problem
    if kind == "event_callback" or "event" in body:
        return _event(body.get("event"))
    return None if kind == "command" else _interaction(body)  # a command is a form: all its values are text


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request belongs to, whatever its shape (event, command, interaction)."""
    return (
        body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )
