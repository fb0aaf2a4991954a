"""Reading DiscordChatExporter's JSON (one file per channel or thread, or a folder of them) into a History.

Each file is {"guild": {...}, "channel": {...}, "messages": [...]}. Ids are those of the live Discord adapter:
message_id is the message snowflake, reply_to the replied-to message, and a thread's messages belong to its
parent channel with thread_id = the thread's id (which equals its starter message's id).

DiscordChatExporter writes a thread's parent channel as the thread's "categoryId" (since 2023; its schema
predates threads). Older versions wrote a category or nothing there, so the parent is first looked up in the
export itself: the channel holding the starter message, or the "ThreadCreated" notice pointing at the thread.
Message text goes into MessagePosted.text only, to be analysed in memory and dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.exportfiles import Budget, read_json
from bot.events import Member, MessagePosted
from bot.intake.ingest import History

THREAD_TYPES = {"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"}
PERSON_TYPES = {"Default", "Reply"}  # the rest are notices: joins, pins, thread created, call, ...
DIRECT_MESSAGES = "0"  # DiscordChatExporter's pseudo-guild for DMs
DIRECT_KINDS = {"DirectTextChat", "DirectGroupTextChat"}


@dataclass(frozen=True)
class _ChannelExport:
    guild: str
    channel: str
    kind: str
    category: str | None  # the parent channel for a thread, in current versions
    messages: list[Any]

    @property
    def is_thread(self) -> bool:
        return self.kind in THREAD_TYPES


def read_discord_export(path: Path, workspace: str | None = None) -> History:
    """Read one exported .json or a folder of them. Raises ValueError if no guild can be told apart."""
    skipped: Counter[str] = Counter()
    budget = Budget()
    exports = []
    for export in (_load(f, skipped, budget) for f in _files(path)):
        # Direct messages are never stored (PRIVACY.md), not even as who wrote to whom.
        if export and (export.guild == DIRECT_MESSAGES or export.kind in DIRECT_KINDS):
            skipped["direct-message conversation (never imported)"] += 1
        elif export:
            exports.append(export)
    if not exports:
        # "reason: count", as the import table reads: a reason is a phrase ("malformed file"), not a noun to count.
        why = ", ".join(f"{reason}: {count}" for reason, count in sorted(skipped.items())) or "no .json files"
        raise ValueError(f"{path} holds no DiscordChatExporter JSON export ({why})")
    guilds = sorted({e.guild for e in exports})
    if workspace is None:
        if len(guilds) != 1:
            found = ", ".join(guilds) or "none"
            raise ValueError(f"Cannot tell which Discord server this export is from (guild ids: {found}): "
                             "pass --workspace with the server id.")
        workspace = guilds[0]

    parents = _thread_parents(exports)
    members: dict[str, tuple[datetime, Member]] = {}
    events: dict[str, MessagePosted] = {}
    channels: set[str] = set()
    for export in exports:
        channel = parents[export.channel] if export.is_thread else export.channel
        thread = export.channel if export.is_thread else None
        channels.add(channel)
        for record in export.messages:
            event = _event(record, workspace, channel, thread, members, skipped)
            if event is None:
                continue
            if event.message_id in events:
                skipped["duplicate"] += 1
                continue
            events[event.message_id] = event
    ordered = sorted(events.values(), key=lambda e: (e.at, int(e.message_id) if e.message_id.isdigit() else 0))
    return History(workspace, [m for _, m in members.values()], ordered, len(channels), skipped)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():  # /dev/null, a pipe
        raise ValueError(f"{path} is neither a DiscordChatExporter JSON file nor a folder of them")
    # "<export>.json_Files" folders hold downloaded attachments, not exports.
    return sorted(p for p in path.rglob("*.json")
                  if p.is_file() and not any(part.endswith("_Files") for part in p.relative_to(path).parts[:-1]))


def _load(file: Path, skipped: Counter[str], budget: Budget) -> _ChannelExport | None:
    doc = read_json(file, skipped, budget)
    if doc is None:
        return None
    guild = doc.get("guild") if isinstance(doc, dict) else None
    channel = doc.get("channel") if isinstance(doc, dict) else None
    messages = doc.get("messages") if isinstance(doc, dict) else None
    if not (isinstance(guild, dict) and isinstance(channel, dict) and isinstance(messages, list)
            and _id(guild.get("id")) and _id(channel.get("id"))):
        skipped["malformed file"] += 1
        return None
    return _ChannelExport(guild["id"], channel["id"], str(channel.get("type") or ""),
                          _id(channel.get("categoryId")), messages)


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value.isdigit() else None


def _thread_parents(exports: list[_ChannelExport]) -> dict[str, str]:
    """Thread id -> parent channel id; a thread whose parent cannot be told stands as its own channel."""
    found: dict[str, str] = {}
    for export in exports:
        if export.is_thread:
            continue
        for record in export.messages:
            if not isinstance(record, dict):
                continue
            if _id(record.get("id")):
                found[record["id"]] = export.channel  # a thread started from this message has its id
            reference = record.get("reference")
            if record.get("type") == "ThreadCreated" and isinstance(reference, dict) and _id(
                    reference.get("channelId")):
                found[reference["channelId"]] = export.channel
    known_channels = {e.channel for e in exports if not e.is_thread}
    categories = {e.category for e in exports if not e.is_thread and e.category}
    parents: dict[str, str] = {}
    for thread in (e for e in exports if e.is_thread):
        category = thread.category if thread.category != "0" else None
        if category in categories and category not in known_channels:
            category = None  # an old export naming the parent's category
        parents[thread.channel] = found.get(thread.channel) or category or thread.channel
    return parents


def _event(record: Any, workspace: str, channel: str, thread: str | None,
           members: dict[str, tuple[datetime, Member]], skipped: Counter[str]) -> MessagePosted | None:
    author = record.get("author") if isinstance(record, dict) else None
    at = _time(record.get("timestamp")) if isinstance(record, dict) else None
    if not (isinstance(author, dict) and _id(author.get("id")) and _id(record.get("id")) and at):
        skipped["malformed record"] += 1
        return None
    _remember(members, workspace, author, at)
    if author.get("isBot"):
        skipped["bot message"] += 1
        return None
    if not isinstance(record.get("type"), str) or record["type"] not in PERSON_TYPES:
        skipped["system message"] += 1
        return None
    mentions: list[str] = []
    for user in record.get("mentions") or ():
        if isinstance(user, dict) and _id(user.get("id")):
            _remember(members, workspace, user, at)
            if not user.get("isBot"):
                mentions.append(user["id"])
    reference = record.get("reference")
    reply_to = _id(reference.get("messageId")) if record["type"] == "Reply" and isinstance(reference, dict) else None
    content = record.get("content")
    return MessagePosted(
        workspace, channel, record["id"], author["id"], at, content if isinstance(content, str) else "",
        reply_to=reply_to, thread_id=thread, mentions=tuple(dict.fromkeys(mentions)),
    )


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset; without one the instant is unknown."""
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return at.astimezone(UTC) if at is not None and at.tzinfo is not None else None


def _remember(members: dict[str, tuple[datetime, Member]], workspace: str, user: dict[str, Any],
              at: datetime) -> None:
    """Keep the name a user had most recently: nicknames change over a long history."""
    previous = members.get(user["id"])
    if previous and previous[0] > at:
        return
    name = next((n.strip() for n in (user.get("nickname"), user.get("name")) if isinstance(n, str) and n.strip()),
                user["id"])
    members[user["id"]] = (at, Member(workspace, user["id"], name, None, bool(user.get("isBot"))))
