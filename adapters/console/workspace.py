"""Who and where the console workspace is: members (with time zones and admin flags) and channels."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.commands import UsageError
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, Member
from bot.profiles.profiles import time_zone


@dataclass(frozen=True)
class ConsoleMember:
    user_id: str
    name: str
    tz: str = "UTC"
    admin: bool = False


@dataclass(frozen=True)
class ConsoleChannel:
    channel_id: str
    name: str
    managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workspace:
    workspace_id: str
    members: tuple[ConsoleMember, ...]
    channels: tuple[ConsoleChannel, ...]

    def member(self, name_or_id: str) -> ConsoleMember | None:
        key = name_or_id.lstrip("@").lower()
        return next((m for m in self.members if key in (m.user_id.lower(), m.name.lower())), None)

    def channel(self, name_or_id: str) -> ConsoleChannel | None:
        key = name_or_id.lstrip("#").lower()
        return next((c for c in self.channels if key in (c.channel_id.lower(), c.name.lower())), None)

    def roles(self, user_id: str, channel_id: str) -> frozenset[str]:
        member = self.member(user_id)
        channel = self.channel(channel_id)
        roles = set()
        if member and member.admin:
            roles.add(WORKSPACE_ADMIN)
        if channel and user_id in channel.managers:
            roles.add(CHANNEL_MANAGER)
        return frozenset(roles)

    def as_members(self) -> list[Member]:
        return [Member(self.workspace_id, m.user_id, m.name, m.tz) for m in self.members]


DEFAULT = Workspace(
    "console",
    (
        ConsoleMember("alice", "Alice", "Europe/Lisbon", admin=True),
        ConsoleMember("bob", "Bob", "America/New_York"),
        ConsoleMember("carol", "Carol", "Europe/Berlin"),
        ConsoleMember("dave", "Dave", "Asia/Kolkata"),
        ConsoleMember("erin", "Erin", "America/Los_Angeles"),
    ),
    (
        ConsoleChannel("general", "general"),
        ConsoleChannel("engineering", "engineering", managers=("carol",)),
        ConsoleChannel("random", "random"),
    ),
)


class WorkspaceFileError(ValueError):
    """The workspace file cannot be used; the message says why, in one line."""


def load_workspace(path: Path | None) -> Workspace:
    """The default workspace, or one described in a JSON file:
    {"workspace": "acme", "members": [{"id": "ana", "name": "Ana", "tz": "Europe/Paris", "admin": true}],
     "channels": [{"id": "general", "name": "general", "managers": ["ana"]}]}"""
    if path is None:
        return DEFAULT
    try:
        data = json.loads(path.read_text())
        workspace = Workspace(
            str(data.get("workspace", "console")),
            tuple(ConsoleMember(str(m["id"]), str(m.get("name", m["id"])), str(m.get("tz", "UTC")),
                                bool(m.get("admin"))) for m in data["members"]),
            tuple(ConsoleChannel(str(c["id"]), str(c.get("name", c["id"])), tuple(c.get("managers", ())))
                  for c in data["channels"]),
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise WorkspaceFileError(f"cannot read the workspace file {path}: {str(error).splitlines()[0]}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise WorkspaceFileError(f"the workspace file {path} is not shaped like {{\"members\": [{{\"id\": ...}}], "
                                 f"\"channels\": [{{\"id\": ...}}]}} ({type(error).__name__}: {error})") from None
    # The console types as the first member in the first channel, and finds members and channels by id: it needs
    # one of each, each id once, and managers who are members.
    if not workspace.members or not workspace.channels:
        raise WorkspaceFileError(f"the workspace file {path} needs at least one member and one channel")
    for kind, ids in (("member", [m.user_id for m in workspace.members]),
                      ("channel", [c.channel_id for c in workspace.channels])):
        twice = [id_ for id_, count in Counter(ids).items() if count > 1]
        if twice:
            raise WorkspaceFileError(f"the workspace file {path} lists the {kind} {twice[0]!r} twice")
    members = {m.user_id for m in workspace.members}
    for channel in workspace.channels:
        strangers = [m for m in channel.managers if m not in members]
        if strangers:
            raise WorkspaceFileError(f"the workspace file {path} gives {channel.channel_id} the manager "
                                     f"{strangers[0]!r}, who is not one of its members")
    for member in workspace.members:  # checked here, not when the member first joins a coffee round
        try:
            time_zone(member.tz)
        except UsageError:
            raise WorkspaceFileError(f"the workspace file {path} gives {member.user_id} the time zone "
                                     f"{member.tz!r}, which is not an IANA zone like Europe/Paris") from None
    return workspace
