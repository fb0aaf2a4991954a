"""Introducing a coffee group: one conversation for the whole group, with a calendar invite; DMs as the fallback.

Each placed group of a round is introduced in one conversation the platform opens for it (`Outbound.send_group`):
a Slack group DM, a private thread in the coffee channel on Discord (bots cannot open group DMs there), a group
message in the console. The introduction names everyone, gives the suggested time in each member's own zone,
starters for each member grounded in their profile, and the time as a calendar invite (bot/coffee/calendar_invite.py):
an .ics file and add-to-calendar links.

The platform may refuse (a Slack workspace that installed Rapport before it asked for `mpim:write`, a Discord
channel where the bot may not create private threads), or reach only some of the group (a member Discord would
not add to the thread). Whoever was not reached gets the introduction as a direct message instead, as before, with
the same invite: nobody is left out. The group message is sent once across processes under the round's key
(label `g{index}`); the seats it reached are recorded `sent`, so the DM pass (bot/coffee/rounds.send_to_seats)
skips them. The wording of an introduction lives here too: the round builds on this module, never the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.coffee import calendar_invite
from bot.coffee.calendar_invite import Meeting
from bot.core import Core
from bot.domain.coffee import GroupRecord, RoundRecord
from bot.events import zone_of
from bot.interests.starters import starters_for
from bot.ports import Matchers, Store
from bot.replies import Reply, Section
from bot.scheduling import send_once

log = logging.getLogger(__name__)


STARTERS_PER_PERSON = 3
_GENERIC = ("What are they enjoying working on at the moment?", "What does a good working day look like for them?")


def _local(at: datetime, tz: str | None) -> str:
    zone = zone_of(tz)
    return at.astimezone(zone).strftime("%a %d %b, %H:%M") + (f" your time ({tz})" if tz else " UTC")


def others_in(group: GroupRecord, user: str) -> list[str]:
    return [u for u in group.members if u != user]


def names(users: Sequence[str]) -> str:
    refs = [f"<@{u}>" for u in users]
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " and " + refs[-1]


async def pairing_message(store: Store, matchers: Matchers, group: GroupRecord, user: str, tz: str | None) -> Reply:
    matcher = await matchers.aget()
    others = others_in(group, user)
    per_person = STARTERS_PER_PERSON if len(others) == 1 else 2
    sections = []
    for other in others:
        lines = await starters_for(store, matcher, group.workspace, user, other, per_person)
        sections.append(Section(f"Ask <@{other}>", tuple(lines or _GENERIC)))
    when = (f"Suggested time: {_local(group.suggested_at, tz)}, inside everyone's working hours."
            if group.suggested_at else "I found no time inside everyone's working hours: agree one that suits you.")
    hello = "Say hello in a DM and confirm the time" if group.suggested_at else "Say hello in a DM and pick a time"
    return Reply(f"*Virtual coffee from <#{group.channel}>*: this round you are meeting {names(others)}.\n{when}\n"
                 f"{hello}. {_skip(group)}", tuple(sections))


def _skip(group: GroupRecord) -> str:
    # Read in a DM, a group DM or a thread, where a bare `coffee skip` would name that conversation, not the channel.
    return (f"Can't make it? Say so; `/rapport coffee skip <#{group.channel}>` sits you out of the next round "
            "as well.")


def _zone_time(at: datetime, tz: str | None) -> str:
    zone = zone_of(tz)
    return at.astimezone(zone).strftime("%a %d %b, %H:%M") + f" ({tz or 'UTC'})"


async def meeting(store: Store, group: GroupRecord) -> Meeting | None:
    """The group's suggested time as a calendar entry; None when no time was found."""
    if group.suggested_at is None:
        return None
    names = {m.user_id: m.name for m in await store.members.list(group.workspace)}
    people = [names.get(u) or u for u in group.members]
    listed = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]
    return Meeting(f"{group.round_key}:g{group.index}", f"Virtual coffee: {listed}",
                   f"Virtual coffee arranged by Rapport for {listed}. The time was suggested inside everyone's "
                   "working hours: move it if it does not suit.", group.suggested_at)


def calendar_section(found: Meeting | None) -> tuple[Section, ...]:
    if found is None:
        return ()
    return (Section("Add it to your calendar", ("The invite is attached: virtual-coffee.ics",
                                                *calendar_invite.links(found))),)


async def group_message(store: Store, matchers: Matchers, group: GroupRecord, zones: dict[str, str | None],
                        now: datetime) -> Reply:
    """The introduction the whole group sees in its conversation."""
    matcher = await matchers.aget()
    members = list(group.members)
    per_person = STARTERS_PER_PERSON if len(members) == 2 else 2
    found = await meeting(store, group)
    sections = []
    if group.suggested_at is not None:
        sections.append(Section("Suggested time, inside everyone's working hours (30 minutes)", tuple(
            f"<@{u}>: {_zone_time(group.suggested_at, zones.get(u))}" for u in members)))
    sections.extend(calendar_section(found))
    for position, other in enumerate(members):
        asker = members[position - 1]  # each member is asked about by the one before them
        lines = await starters_for(store, matcher, group.workspace, asker, other, per_person)
        sections.append(Section(f"Ask <@{other}>", tuple(lines)))
    when = "" if group.suggested_at else ("\nI found no time inside everyone's working hours: agree one that "
                                          "suits you.")
    return Reply(f"*Virtual coffee from <#{group.channel}>*: {names(members)}, you are this round's group. "
                 f"Say hello here and {'confirm the time' if group.suggested_at else 'agree a time'}.{when}\n"
                 f"{_skip(group)}", tuple(sections), ephemeral=False,
                 attachment=calendar_invite.attachment(found, group.due_at) if found else None)


async def direct_message(store: Store, matchers: Matchers, group: GroupRecord, user: str, tz: str | None,
                         ) -> Reply:
    """The fallback: the introduction to one member, with the same invite."""
    reply = await pairing_message(store, matchers, group, user, tz)
    found = await meeting(store, group)
    return Reply(reply.text, reply.sections + calendar_section(found), reply.buttons, reply.form, reply.ephemeral,
                 calendar_invite.attachment(found, group.due_at) if found else None)


async def send_to_group(core: Core, group: GroupRecord, reply: Reply) -> tuple[str, ...]:
    """A message in the group's conversation (the one it was given before, while the platform still has it); the id
    of a new one is kept with the group, so that what follows (its check-in) goes there too. The members reached."""
    sent = await core.outbound.send_group(group.workspace, group.channel, group.members, reply, group.conversation)
    if sent.id and sent.id != group.conversation:
        await core.store.coffee.set_conversation(group.id, sent.id)
    return sent.reached


async def send_once_to_group(core: Core, group: GroupRecord, key: str,
                             build: Callable[[], Awaitable[Reply]]) -> list[str]:
    """`build`'s message in the group's conversation once under `key` (its run label is the group's, `g2`): the
    members it reached, or none when the platform refused the group before (then its members get DMs). A message a
    process sent and died before recording reached everyone."""
    runs, label = core.store.runs, f"g{group.index}"
    if await runs.delivery(key, label) == "failed":
        return []
    reply = await build()
    reached: list[str] = []

    async def send() -> bool:
        reached.extend(await send_to_group(core, group, reply))
        return bool(reached)

    if not await send_once(runs, key, label, core.clock.now(), send) and not reached and (
            await runs.delivery(key, label) == "sent"):
        return list(group.members)
    return reached


async def send_to_groups(core: Core, record: RoundRecord, key: str, zones: dict[str, str | None]) -> None:
    """One conversation per placed group whose introduction has not gone out yet; seats it reached become sent."""
    store = core.store
    for group in record.placed:
        if any(seat.dm != "pending" for seat in group.seats):
            continue  # begun before (a resumed round): the DM pass finishes it

        async def build(group: GroupRecord = group) -> Reply:
            return await group_message(store, core.matchers, group, zones, core.clock.now())

        reached = await send_once_to_group(core, group, key, build)
        missing = [u for u in group.members if u not in reached]
        if reached and missing:
            log.info("coffee group g%d of %s: %d of %d members reached in the group conversation; DMs for the rest",
                     group.index, key, len(reached), len(group.members))
        for user in group.members:
            if user in reached:
                await store.coffee.set_seat(group.id, user, dm="sent")
