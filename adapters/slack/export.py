"""Reading a Slack workspace export (the folder or .zip an admin downloads from Slack) into a History.

Layout: users.json, channels.json (plus groups.json / mpims.json / dms.json in fuller exports) at the top, then
one folder per channel holding a YYYY-MM-DD.json list of messages per day. Direct messages (mpims.json, dms.json)
are skipped and counted: Rapport never stores them.

Ids are those of the live Slack adapter, so an import and live events describe the same messages:
message_id = "{channel}:{ts}", thread_id = "{channel}:{thread_ts}" for a reply in a thread (not for its root).
Message text goes into MessagePosted.text only, to be analysed in memory and dropped.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from adapters.exportfiles import Budget, read_json
from adapters.slack.translate import SLACKBOT
from bot.events import Member, MessagePosted
from bot.intake.ingest import History

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
TS = re.compile(r"(\d+)(?:\.(\d{1,6}))?")
CHANNEL_LISTS = ("channels.json", "groups.json")
# Direct messages are never stored (PRIVACY.md), not even as metadata: fuller exports list them here and keep each
# in a folder named by its id (D...) or its mpdm- name, which are skipped.
DIRECT_LISTS = ("mpims.json", "dms.json")
DIRECT_FOLDER = re.compile(r"D[A-Z0-9]{8,}|mpdm-.+")
# Subtypes a person writes; every other subtype is Slack narrating something (topic set, pin added, ...).
PERSON_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
JOIN_LEAVE = {"channel_join", "channel_leave", "group_join", "group_leave"}


@dataclass(frozen=True)
class _Post:
    channel: str
    ts: str
    at: datetime
    user: str
    text: str
    thread_ts: str | None


def read_slack_export(path: Path, workspace: str | None = None) -> History:
    """Read an export folder or .zip. Raises ValueError if it is not a Slack export or names no workspace."""
    if not path.is_dir() and not path.is_file():  # /dev/null, a pipe
        raise ValueError(f"{path} is neither a Slack export folder nor a .zip")
    if path.is_file():
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(f"{path} is neither a Slack export folder nor a .zip") from None
        with archive:
            return _read(_export_root(zipfile.Path(archive), path), workspace)
    return _read(_export_root(path, path), workspace)


def _export_root(top: Traversable, path: Path) -> Traversable:
    """The folder holding users.json: the top, or the single folder a re-zipped export wraps everything in."""
    candidates = [top, *(d for d in top.iterdir() if d.is_dir() and not _ignored(d.name))]
    for folder in candidates:
        if (folder / "users.json").is_file() or (folder / "channels.json").is_file():
            return folder
    raise ValueError(f"{path} is not a Slack export: no users.json or channels.json found")


def _ignored(name: str) -> bool:
    return name.startswith((".", "__"))  # .DS_Store, __MACOSX from re-zipping on a Mac


def _load_list(file: Traversable, skipped: Counter[str], budget: Budget) -> list[Any]:
    """A JSON list (every file of an export is one); nothing for a missing file, counted for a broken one."""
    if not file.is_file():
        return []
    loaded = read_json(file, skipped, budget)
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        skipped["malformed file"] += 1
        return []
    return loaded


def _read(root: Traversable, workspace: str | None) -> History:
    skipped: Counter[str] = Counter()
    budget = Budget()
    users = [u for u in _load_list(root / "users.json", skipped, budget)
             if isinstance(u, dict) and isinstance(u.get("id"), str)]
    bots = {u["id"] for u in users if u.get("is_bot")} | {SLACKBOT}
    channel_ids = _channel_ids(root, CHANNEL_LISTS, skipped, budget)
    direct = set(_channel_ids(root, DIRECT_LISTS, skipped, budget)) - set(channel_ids)

    posts: list[_Post] = []
    teams: Counter[str] = Counter(u["team_id"] for u in users if isinstance(u.get("team_id"), str))
    message_teams: Counter[str] = Counter()
    channels = 0
    for folder in sorted((d for d in root.iterdir() if d.is_dir() and not _ignored(d.name)), key=lambda d: d.name):
        channel = channel_ids.get(folder.name)
        if channel is None and (folder.name in direct or DIRECT_FOLDER.fullmatch(folder.name)):
            skipped["direct-message conversation (never imported)"] += 1
            continue
        if channel is None:
            channel = folder.name
            skipped["unknown channel"] += 1
        channels += 1
        for day in sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name):
            for record in _load_list(day, skipped, budget):
                post = _post(record, channel, bots, skipped)
                if post:
                    posts.append(post)
                    if isinstance(record.get("team"), str):
                        message_teams[record["team"]] += 1

    workspace = workspace or _most_common(teams) or _most_common(message_teams)
    if not workspace:
        raise ValueError("No workspace (team) id found in this Slack export: pass --workspace with the team id "
                         "(it starts with T, e.g. T0123ABCD).")
    return _history(workspace, users, bots, posts, channels, skipped)


def _channel_ids(root: Traversable, listings: tuple[str, ...], skipped: Counter[str],
                 budget: Budget) -> dict[str, str]:
    """Folder name -> channel id, from these listings. Direct messages have no name: their folder is named by id."""
    ids: dict[str, str] = {}
    for listing in listings:
        for entry in _load_list(root / listing, skipped, budget):
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                ids[str(entry.get("name") or entry["id"])] = entry["id"]
    return ids


def _post(record: Any, channel: str, bots: set[str], skipped: Counter[str]) -> _Post | None:
    subtype = record.get("subtype") if isinstance(record, dict) else None
    user = record.get("user") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(subtype, str | None) or not isinstance(user, str | None):
        skipped["malformed record"] += 1
        return None
    reason = None
    if subtype in JOIN_LEAVE:
        reason = "join/leave"
    elif record.get("bot_id") or subtype == "bot_message" or user in bots:
        reason = "bot message"
    elif subtype not in PERSON_SUBTYPES:
        reason = "system message"
    elif not user:
        reason = "no user"
    if reason:
        skipped[reason] += 1
        return None
    ts = record.get("ts")
    at = _time(ts)
    if at is None or not isinstance(ts, str) or user is None:
        skipped["malformed record"] += 1
        return None
    thread_ts = record.get("thread_ts")
    thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts != ts and _time(thread_ts) else None
    text = record.get("text")
    return _Post(channel, ts, at, user, text if isinstance(text, str) else "", thread_ts)


def _time(ts: Any) -> datetime | None:
    """Slack's "seconds.micros" string, read exactly (a float would drift by a microsecond)."""
    match = TS.fullmatch(ts) if isinstance(ts, str) else None
    if not match:
        return None
    micros = int((match.group(2) or "0").ljust(6, "0"))
    try:
        return datetime.fromtimestamp(int(match.group(1)), UTC) + timedelta(microseconds=micros)
    except (OverflowError, OSError, ValueError):
        return None


def _most_common(counts: Counter[str]) -> str | None:
    return counts.most_common(1)[0][0] if counts else None


def _name(user: dict[str, Any]) -> str:
    profile = user.get("profile")
    if not isinstance(profile, dict):
        profile = {}
    for name in (profile.get("display_name"), user.get("real_name"), profile.get("real_name"), user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    return str(user["id"])


def _history(workspace: str, users: list[dict[str, Any]], bots: set[str], posts: list[_Post], channels: int,
             skipped: Counter[str]) -> History:
    members = {
        u["id"]: Member(workspace, u["id"], _name(u), u.get("tz") if isinstance(u.get("tz"), str) else None,
                        u["id"] in bots)
        for u in users
    }
    events: list[MessagePosted] = []
    seen: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.at, p.channel, p.ts)):
        message_id = f"{post.channel}:{post.ts}"
        if message_id in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(message_id)
        mentions = tuple(dict.fromkeys(m for m in MENTION.findall(post.text) if m not in bots))
        for user in (post.user, *mentions):
            members.setdefault(user, Member(workspace, user, user))
        events.append(MessagePosted(
            workspace, post.channel, message_id, post.user, post.at, post.text,
            thread_id=f"{post.channel}:{post.thread_ts}" if post.thread_ts else None,
            mentions=mentions,
        ))
    return History(workspace, list(members.values()), events, channels, skipped)
