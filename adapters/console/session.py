"""Running the console workspace: typed lines (or a script on stdin) become events for the core.

Script format, one action per line (the interactive prompt takes the same lines):

    # a comment
    at 2026-03-02T09:00        set the workspace clock (UTC unless the time has an offset; 2000 to 2999)
    +2h                        move the clock forward (s, m, h, d); what falls due on the way runs in order
    as bob                     type as bob from now on
    in #random                 type in #random from now on
    hello @bob, how was it?    post a message (as the current member, in the current channel)
    @alice #general: hi all    post as alice in #general (both optional; the colon is optional too;
                               so a line that starts with @name is spoken by that member: to mention
                               someone, write "hey @bob ...")
    @bob ^3 yes, it is green   reply to message [3]
    @carol ~3 me too           post in the thread of message [3]
    @alice /rapport me         run a slash command
    @alice press 2             press button 2 of the last reply, DM or group message alice got
    @alice form behaviour="trail running" capability=Rust
                               submit the last form alice got (its fields by name, shell quoting for
                               values; `/rapport profile` lists them)
    members | channels | help | quit

Messages are numbered [1], [2], ... as they are posted. Text is shown here and handed to the core for
analysis; the core keeps only who, whom and when.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from adapters import markup
from adapters.console.render import render
from adapters.console.workspace import ConsoleChannel, ConsoleMember, Workspace
from bot.app import Rapport
from bot.coffee.rounds import GRACE
from bot.events import (
    CHANNEL_MANAGER,
    BotJoinedChannel,
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    MembersSeen,
    MessagePosted,
)
from bot.replies import Form, GroupConversation, Reply

# A name starts with a letter of any script and may hold apostrophes, dots and hyphens ("@zoë", "@o'brien"); the
# longest part of it that names a member counts, so "@bob's" and "@bob." mention Bob.
_AS_MENTION = re.compile(r"(?<![\w<])@([^\W\d_][\w.'’\-]*)")
_TRAILING = ".'’-"
_AS_CHANNEL = re.compile(r"(?<![\w<])#([A-Za-z][\w.\-]*)")
_DURATION = re.compile(r"^\+(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
log = logging.getLogger(__name__)


class ConsoleError(Exception):
    """A line the console cannot act on; shown to the person typing."""


T = TypeVar("T")


def _found(thing: T | None, name: str, kind: str, known: list[str]) -> T:
    if thing is None:
        raise ConsoleError(f"no {kind} {name.strip()!r} here ({kind}s: {', '.join(known)})")
    return thing


# The workspace clock stays where the core's date arithmetic (retention, rounds, nudges) has room either side.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 23, 59, tzinfo=UTC)
# Time travel runs scheduled work every hour on the way (a running bot ticks every 15 s, but nothing scheduled needs
# finer: nudges wait for a member's working hours anyway); a long jump takes TRAVEL_TICKS longer strides, never
# longer than a round may start late (GRACE), so that no round is missed on the way; and it stops at the moment
# each pending nudge may go out, since a member's allowed window can be shorter than a stride.
TRAVEL_STEP, TRAVEL_TICKS = timedelta(hours=1), 300
TRAVEL_STRIDE = GRACE - TRAVEL_STEP
NUDGE_STOPS = 2000  # pending nudges looked at for the next stop (the workspace's, so few)


def _in_range(at: datetime) -> datetime:
    if not EARLIEST <= at <= LATEST:
        raise ConsoleError(f"the workspace clock runs from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}: "
                           "pick a time in between")
    return at


@dataclass
class ConsoleClock:
    """Real time, until a script sets it; then virtual, one second further per posted message."""

    virtual: datetime | None = None

    def now(self) -> datetime:
        return self.virtual or datetime.now(UTC)

    def tick(self) -> datetime:
        if self.virtual is not None:
            self.virtual += timedelta(seconds=1)
        return self.now()


@dataclass
class ConsoleOutbound:
    """What the core sends on its own (pairings, nudges) is printed as a DM or a channel post."""

    workspace: Workspace
    write: Callable[[str], None]
    # Shared with the session: a DM's buttons are what `press N` presses next, as in a chat app.
    last_reply: dict[str, Reply] = field(default_factory=dict)

    def owns(self, workspace: str) -> bool:
        return workspace == self.workspace.workspace_id

    exports: Path = Path("exports")  # where files sent with a message (a calendar invite) are written

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        member = self.workspace.member(user)
        if member is None:
            return False
        self.write(f"[DM to @{member.name}] {render(reply, self.workspace)}")
        self._file(reply, [member.name])
        if reply.buttons or reply.form:
            self.last_reply[member.user_id] = reply
        return True

    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """A group message, as a group DM in a chat app: every member sees it (no id: there is nothing to find
        again)."""
        members = [m for m in (self.workspace.member(u) for u in users) if m is not None]
        if len(members) < 2:
            return GroupConversation()
        self.write(f"[group message to {', '.join('@' + m.name for m in members)}] {render(reply, self.workspace)}")
        self._file(reply, [m.name for m in members])
        if reply.buttons:  # the check-in's buttons, which each member of the group presses for themselves
            for member in members:
                self.last_reply[member.user_id] = reply
        return GroupConversation(None, tuple(m.user_id for m in members))

    def _file(self, reply: Reply, names: Sequence[str]) -> None:
        """A file sent with a message is written under exports/, named after its recipients, and its path shown."""
        if reply.attachment is None:
            return
        stem, dot, ext = reply.attachment.filename.rpartition(".")
        who = "-".join(re.sub(r"[^\w]+", "", n.lower()) or "member" for n in names)
        digest = hashlib.sha256(reply.attachment.content).hexdigest()[:8]
        self.exports.mkdir(parents=True, exist_ok=True)
        path = self.exports / f"{stem or ext}-{who}-{digest}{dot}{ext if stem else ''}"
        path.write_bytes(reply.attachment.content)
        path.chmod(0o600)
        self.write(f"  file: {path.resolve()}")

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        self.write(f"[#{channel}] {render(reply, self.workspace)}")
        return True

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        return CHANNEL_MANAGER in self.workspace.roles(user, channel)


@dataclass
class Posted:
    message_id: str
    channel: str
    thread_id: str | None


@dataclass
class ConsoleSession:
    core: Rapport
    workspace: Workspace
    clock: ConsoleClock
    write: Callable[[str], None]
    session_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%d%H%M%S%f"))
    user: str = ""
    channel: str = ""
    posted: list[Posted] = field(default_factory=list)
    last_reply: dict[str, Reply] = field(default_factory=dict)
    exports: Path = Path("exports")

    def __post_init__(self) -> None:
        self.user = self.user or self.workspace.members[0].user_id
        self.channel = self.channel or self.workspace.channels[0].channel_id

    async def start(self) -> None:
        await self.core.on_members_seen(MembersSeen(tuple(self.workspace.as_members())))
        for channel in self.workspace.channels:  # the bot is in every console channel; says so once
            await self.core.on_joined(BotJoinedChannel(self.workspace.workspace_id, channel.channel_id))

    @property
    def prompt(self) -> str:
        member = self.workspace.member(self.user)
        return f"{member.name if member else self.user} in #{self.channel}> "

    async def handle(self, line: str) -> bool:
        """Act on one line. False when the session should end."""
        line = line.strip()
        if not line or line == "#" or line.startswith("# "):  # "#general ..." is a post, "# ..." a comment
            return True
        try:
            return await self._handle(line)
        except ConsoleError as error:
            self.write(f"! {error}")
            return True
        except Exception:
            # As on Slack and Discord: one failing event is reported and logged (not the line: it may be message
            # text), and the workspace, its clock and its messages go on.
            log.exception("console: the core failed on a line")
            self.write("! Something went wrong on Rapport's side (the log has the details); carry on.")
            return True

    async def _travel(self, to: datetime) -> None:
        """Move the workspace clock to `to`. Forward, scheduled work (coffee rounds, check-ins, nudges) runs at each
        step on the way, in order, as a bot left running would have run it. Back (or the first `at` of a script),
        the clock is just set."""
        start = self.clock.virtual
        if start is not None and to > start:
            step = min(max(TRAVEL_STEP, (to - start) / TRAVEL_TICKS), TRAVEL_STRIDE)
            at = await self._next_stop(start, start + step)
            while at < to:
                self.clock.virtual = at
                await self.core.ticker.tick()
                at = await self._next_stop(at, at + step)
        self.clock.virtual = to
        await self.core.ticker.tick()

    async def _next_stop(self, after: datetime, stride: datetime) -> datetime:
        """Where the clock stops next: the stride's end, or sooner the moment a pending nudge may go out. A nudge
        waits for the first moment its recipient allows (the start of their working hours, the end of quiet
        hours), which may open a window shorter than a stride: ticking past it would let a bot left running
        deliver what time travel lets expire."""
        pending = await self.core.store.nudges.due(stride, NUDGE_STOPS)
        return min((n.deliver_at for n in pending if after < n.deliver_at < stride), default=stride)

    async def _handle(self, line: str) -> bool:
        word = line.split(maxsplit=1)[0].lower()
        rest = line[len(word):].strip()
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.write(__doc__ or "")
            return True
        if word == "members":
            self.write(", ".join(f"@{m.name} ({m.tz}{', admin' if m.admin else ''})" for m in self.workspace.members))
            return True
        if word == "channels":
            self.write(", ".join(f"#{c.name}" for c in self.workspace.channels))
            return True
        if word == "at":
            await self._travel(_in_range(self._time(rest)))
            return True
        if _DURATION.match(word):
            number, unit = _DURATION.match(word).groups()  # type: ignore[union-attr]
            try:
                later = self.clock.now() + timedelta(**{_UNITS[unit]: float(number)})
            except OverflowError:
                later = datetime.max.replace(tzinfo=UTC)
            await self._travel(_in_range(later))
            return True
        if word == "as":
            self.user = self._member(rest).user_id
            return True
        if word == "in":
            self.channel = self._channel(rest).channel_id
            return True
        await self._act(line)
        return True

    async def _act(self, line: str) -> None:
        user, channel = self.user, self.channel
        tokens = line.split(maxsplit=1)
        # A leading @name then #channel say who speaks and where; later @names are mentions.
        for sigil in "@#":
            if not tokens or not tokens[0].startswith(sigil) or len(tokens[0]) == 1:
                continue
            head = tokens[0].rstrip(":")
            if sigil == "@":
                user = self._member(head).user_id
            else:
                channel = self._channel(head).channel_id
            tokens = tokens[1].split(maxsplit=1) if len(tokens) > 1 else []
        body = " ".join(tokens).lstrip(": ").strip()
        if not body:
            raise ConsoleError("nothing to say: type a message, /rapport ..., press N or form ...")
        if body.startswith("/rapport"):
            await self._command(user, channel, body[len("/rapport"):].strip())
        elif body.startswith("/"):
            raise ConsoleError(f"unknown slash command {body.split()[0]}: try /rapport help")
        elif re.fullmatch(r"press \d+", body):
            await self._press(user, channel, int(body.split()[1]))
        elif body.startswith("form ") or body == "form":
            await self._form(user, channel, body[4:].strip())
        else:
            await self._post(user, channel, body)

    async def _post(self, user: str, channel: str, body: str) -> None:
        reply_to = thread_id = None
        marker = re.match(r"^([~^])(\d+)\s+(.*)$", body, re.S)
        if marker:
            kind, number, body = marker.group(1), int(marker.group(2)), marker.group(3)
            target = self._message(number)
            channel = target.channel
            if kind == "^":
                reply_to, thread_id = target.message_id, target.thread_id
            else:
                thread_id = target.thread_id or target.message_id
        mentions = []
        for name in _AS_MENTION.findall(body):
            member, _ = self._mentioned(name)
            if member:
                mentions.append(member.user_id)
        message_id = f"{self.session_id}-{len(self.posted) + 1}"
        self.posted.append(Posted(message_id, channel, thread_id))
        event = MessagePosted(self.workspace.workspace_id, channel, message_id, user, self.clock.tick(), body,
                              reply_to=reply_to, thread_id=thread_id, mentions=tuple(dict.fromkeys(mentions)))
        where = f"#{channel}" + (f" (thread of [{self._number(thread_id)}])" if thread_id else "")
        where += f" replying to [{self._number(reply_to)}]" if reply_to else ""
        self.write(f"[{len(self.posted)}] @{self._name(user)} in {where}: {body}")
        await self.core.on_message(event)

    async def _command(self, user: str, channel: str, text: str) -> None:
        # As Slack and Discord do, names become ids: `@bob` -> <@bob>, `#engineering` -> <#engineering>.
        text = _AS_MENTION.sub(lambda m: self._ref(m.group(1)), text)
        text = _AS_CHANNEL.sub(self._channel_ref, text)
        reply = await self.core.on_command(CommandInvoked(
            self.workspace.workspace_id, channel, user, text, self.workspace.roles(user, channel)))
        self._show(user, reply)

    async def _press(self, user: str, channel: str, number: int) -> None:
        last = self.last_reply.get(user)
        if not last or not 1 <= number <= len(last.buttons):
            raise ConsoleError(f"@{self._name(user)} has no button {number} to press")
        button = last.buttons[number - 1]
        reply = await self.core.on_button(ButtonPressed(
            self.workspace.workspace_id, channel, user, button.action_id, button.value,
            self.workspace.roles(user, channel)))
        if reply:
            self._show(user, reply)

    async def _form(self, user: str, channel: str, text: str) -> None:
        last = self.last_reply.get(user)
        form: Form | None = last.form if last else None
        if form is None:
            raise ConsoleError(f"@{self._name(user)} has no form open")
        try:
            pairs = [token.split("=", 1) for token in shlex.split(text)]
        except ValueError as error:
            raise ConsoleError(f"cannot read the form values: {error}") from None
        known = {f.name for f in form.fields}
        values = {}
        for pair in pairs:
            if len(pair) != 2 or pair[0] not in known:
                raise ConsoleError(f"form fields are: {', '.join(sorted(known))} (write name=value)")
            values[pair[0]] = pair[1]
        plain, flattened = markup.form_values(values.items())
        reply = await self.core.on_form(FormSubmitted(
            self.workspace.workspace_id, channel, user, form.form_id, plain, self.workspace.roles(user, channel),
            flattened))
        self._show(user, reply)

    async def ask_form(self, user: str, channel: str, form: Form, ask: Callable[[str], Awaitable[str]]) -> None:
        """Interactive forms: one prompt per field; Enter keeps the current value."""
        values = []
        for f in form.fields:
            answer = await ask(f"{f.label}{f' [{f.value}]' if f.value else ''}: ")
            values.append((f.name, answer if answer else f.value))
        plain, flattened = markup.form_values(values)
        reply = await self.core.on_form(FormSubmitted(
            self.workspace.workspace_id, channel, user, form.form_id, plain, self.workspace.roles(user, channel),
            flattened))
        self._show(user, reply)

    def _show(self, user: str, reply: Reply) -> None:
        self.last_reply[user] = reply
        audience = f"only @{self._name(user)} sees this" if reply.ephemeral else "everyone in the channel sees this"
        self.write(f"rapport ({audience}):\n{render(reply, self.workspace)}")
        if reply.attachment:
            self.exports.mkdir(parents=True, exist_ok=True)
            path = self.exports / reply.attachment.filename
            path.write_bytes(reply.attachment.content)
            path.chmod(0o600)  # personal data: readable by the person running the console only
            self.write(f"  file: {path.resolve()}")

    def _mentioned(self, name: str) -> tuple[ConsoleMember | None, str]:
        """The member a typed @name mentions, and what follows the name ("'s" of "@bob's")."""
        for end in range(len(name), 0, -1):
            if end == len(name) or name[end] in _TRAILING:  # "@bobby" never mentions Bob
                member = self.workspace.member(name[:end])
                if member:
                    return member, name[end:]
        return None, ""

    def _ref(self, name: str) -> str:
        member, rest = self._mentioned(name)
        if member:
            return f"<@{member.user_id}>{rest}"
        bare = name.rstrip(_TRAILING)
        return f"<@{bare}>{name[len(bare):]}"

    def _channel_ref(self, found: re.Match[str]) -> str:
        name = found.group(1)
        for known in (name, name.rstrip(_TRAILING)):  # "#engineering." names #engineering, as "@bob." names Bob
            channel = self.workspace.channel(known)
            if channel:
                return f"<#{channel.channel_id}>{name[len(known):]}"
        return found.group(0)  # a URL's #anchor stays as it is

    def _name(self, user: str) -> str:
        member = self.workspace.member(user)
        return member.name if member else user

    def _member(self, name: str) -> ConsoleMember:
        return _found(self.workspace.member(name.strip()), name, "member",
                      [f"@{m.name}" for m in self.workspace.members])

    def _channel(self, name: str) -> ConsoleChannel:
        return _found(self.workspace.channel(name.strip()), name, "channel",
                      [f"#{c.name}" for c in self.workspace.channels])

    def _message(self, number: int) -> Posted:
        if not 1 <= number <= len(self.posted):
            raise ConsoleError(f"there is no message [{number}] yet")
        return self.posted[number - 1]

    def _number(self, message_id: str | None) -> int:
        return next(i for i, p in enumerate(self.posted, 1) if p.message_id == message_id)

    @staticmethod
    def _time(text: str) -> datetime:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ConsoleError(f"cannot read the time {text!r}: write it like 2026-03-02T09:00") from None
        return at if at.tzinfo else at.replace(tzinfo=UTC)
