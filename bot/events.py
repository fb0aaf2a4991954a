"""What adapters tell the core. Frozen dataclasses of neutral values: no platform objects, no raw payloads.

Message text is carried only for the moment of analysis: it is excluded from repr() so that it cannot leak
into logs or exception messages, and nothing in the core stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Roles an adapter may grant on a command or button press, as the platform itself reports them.
WORKSPACE_ADMIN = "workspace_admin"
CHANNEL_MANAGER = "channel_manager"


@dataclass(frozen=True)
class Member:
    workspace: str
    user_id: str
    name: str
    tz: str | None = None
    is_bot: bool = False

    def __post_init__(self) -> None:
        # A platform or an export may report a zone this machine does not know ("Mars/Olympus", a newer name):
        # unknown, as if unset, rather than an error in every coffee message and nudge that places the member.
        if self.tz is not None:
            object.__setattr__(self, "tz", zone_named(self.tz))


# In the tz database but no place's time: "localtime" is whatever the server is set to, "Factory" a placeholder.
_NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones() - _NOT_ZONES}


def zone_of(tz: str | None) -> tzinfo:
    """The zone to place a time in for a member or a schedule: UTC when they have none."""
    return ZoneInfo(tz) if tz else UTC


def zone_named(name: str) -> str | None:
    """The IANA time zone a name means, in its own spelling ("europe/berlin", "America/New York"), or None when
    this machine knows no such place's time. Where members type a zone and where platforms report one."""
    return _zones_by_lower().get(name.strip().replace(" ", "_").lower())


@dataclass(frozen=True)
class MembersSeen:
    """Members as the platform showed them (a lookup, a gateway event, an import): their names let questions be
    addressed by name ("bob: ...") and their time zones place coffee and nudges in their day."""

    members: tuple[Member, ...]


@dataclass(frozen=True)
class MessagePosted:
    workspace: str
    channel: str
    message_id: str
    author: str
    at: datetime
    text: str | None = field(default=None, repr=False)  # None when the platform hides content
    reply_to: str | None = None  # the message this one explicitly replies to
    thread_id: str | None = None  # the root message of the thread this message is in
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageDeleted:
    workspace: str
    channel: str
    message_id: str


@dataclass(frozen=True)
class WorkspaceRemoved:
    """Rapport was removed from a workspace (Slack's uninstall, Discord's removal from a server): its data goes."""

    workspace: str


@dataclass(frozen=True)
class ConversationDeleted:
    """A channel, or a thread in one, deleted on the platform: what Rapport kept of its messages goes too."""

    workspace: str
    channel: str
    thread_id: str | None = None  # None: the whole channel, its threads included


@dataclass(frozen=True)
class BotJoinedChannel:
    """Rapport was added to a channel (Slack) or a server (Discord: its system channel)."""

    workspace: str
    channel: str


@dataclass(frozen=True)
class CommandInvoked:
    """`/rapport <text>`; user mentions in text are normalised by the adapter to `<@USER_ID>`."""

    workspace: str
    channel: str
    user: str
    text: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ButtonPressed:
    workspace: str
    channel: str
    user: str
    action_id: str
    value: str = ""
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FormSubmitted:
    workspace: str
    channel: str
    user: str
    form_id: str
    values: tuple[tuple[str, str], ...] = ()
    roles: frozenset[str] = frozenset()
    flattened: frozenset[str] = frozenset()  # fields whose mentions and links the adapter turned into plain text
