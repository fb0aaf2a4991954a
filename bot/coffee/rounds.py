"""Virtual coffee rounds: the schedule, who is in, planning a round and carrying it out exactly once.

A channel's schedule is a row with `next_run_at` (bot.ports.Coffee). `CoffeeSource` hands the ticker one Due
per round that is due, keyed `coffee:{workspace}:{channel}:{due time}`, and one per round whose check-in is due.

A round run is resumable: the groups are planned once and persisted before anything is sent, every DM goes
through `send_once` under the round's key (recipients are seat labels like `g2.1`, never user ids, so run rows
hold no personal data), the channel announcement goes last so it can name the people whose DM failed.
A round missed while every process was down still runs when it is at most GRACE late; later than that it is
recorded as missed, logged, and the schedule moves on to the next future date.

Check-ins go out CHECKIN_AFTER the round: a group introduced in its own conversation is asked there once (each
member presses for themselves), everyone else by DM, as is whoever that conversation does not reach.

Closing a round (when the channel's next round is planned) counts check-ins left unanswered: MISSES_TO_PAUSE
in a row pauses the member, with a private notice saying how to come back.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.coffee import interest_pairs
from bot.coffee.intro import direct_message, names, others_in, send_once_to_group, send_to_groups
from bot.coffee.pairing import (
    Candidate,
    PairFacts,
    Round,
    SharedInterest,
    describe_group,
    plan_round,
    suggest_meeting_time,
)
from bot.core import Core
from bot.domain.coffee import (
    ChannelSettings,
    GroupRecord,
    PairKey,
    RoundRecord,
    Seat,
    pair,
    round_key,
)
from bot.domain.members import member_hash
from bot.domain.profiles import Profile
from bot.events import Member, zone_of
from bot.graph.conversation import Contact, Outcome, SeenMessage
from bot.graph.rapport import assess
from bot.interests.starters import find_links
from bot.interests.vectors import phrase_vectors
from bot.ports import Matchers, Store
from bot.replies import Button, Reply, Section
from bot.scheduling import Due, send_once
from bot.text import shown

log = logging.getLogger(__name__)

CADENCES = ("weekly", "biweekly", "monthly")
GRACE = timedelta(hours=6)  # a round missed while all processes were down still runs if at most this late
CHECKIN_AFTER = timedelta(days=5)  # the meetup window: check-ins go out this long after the round
MISSES_TO_PAUSE = 2
HISTORY_ROUNDS = 26  # rounds of history whose pairs score lower the more recently they met
ANSWERS = {"met": "we met", "not-yet": "not yet", "couldnt": "we couldn't"}


# --- the schedule ---------------------------------------------------------------------------------------------


def occurrence(settings: ChannelSettings, local_day: date) -> datetime:
    """The round's UTC time on a local date: the local hour stays put when the zone changes its offset."""
    local = datetime.combine(local_day, time(settings.hour, settings.minute), ZoneInfo(settings.tz))
    return local.astimezone(UTC)


def next_run(settings: ChannelSettings, after: datetime) -> datetime:
    """The first round strictly after `after`."""
    zone = ZoneInfo(settings.tz)
    day = max(after.astimezone(zone).date() - timedelta(days=1), settings.anchor)
    while True:
        if settings.cadence == "monthly":
            first = day.replace(day=1)
            candidate = first + timedelta(days=(settings.weekday - first.weekday()) % 7)
            if candidate < day:
                following = (first + timedelta(days=32)).replace(day=1)
                candidate = following + timedelta(days=(settings.weekday - following.weekday()) % 7)
        else:
            step = 7 if settings.cadence == "weekly" else 14
            candidate = day + timedelta(days=(settings.weekday - day.weekday()) % 7)
            if settings.cadence == "biweekly":
                candidate += timedelta(days=(-(candidate - settings.anchor).days) % step)
        at = occurrence(settings, candidate)
        if at > after:
            return at
        day = candidate + timedelta(days=1)


def first_anchor(weekday: int, tz: str, hour: int, minute: int, now: datetime) -> date:
    """The local date of the first round: the next such weekday whose time is still ahead."""
    local = now.astimezone(ZoneInfo(tz))
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    if datetime.combine(day, time(hour, minute), ZoneInfo(tz)) <= now:
        day += timedelta(days=7)
    return day


# --- planning -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    groups: tuple[GroupRecord, ...]  # persisted as is, including the index -1 group of the unplaced
    eligible: int
    problem: str = ""  # why no round can be made


async def _zones_and_profiles(store: Store, workspace: str, users: Sequence[str], listed: Sequence[Member] = ()
                              ) -> tuple[dict[str, str | None], dict[str, Profile]]:
    wanted = set(users)
    profiles = {p.user_id: p for p in await store.profiles.list(workspace) if p.user_id in wanted}
    members = {m.user_id: m for m in listed or await store.members.list(workspace)}
    zones = {u: (profiles[u].tz if u in profiles and profiles[u].tz else None)
             or (members[u].tz if u in members else None) for u in users}
    return zones, profiles


def candidate(user: str, tz: str | None, profile: Profile | None, team: str) -> Candidate:
    start = profile.work_start if profile and profile.work_start is not None else 9
    end = profile.work_end if profile and profile.work_end is not None else 17
    return Candidate(user, tz, start, end, frozenset({team.lower()}) if team else frozenset())


async def shared_interests(store: Store, matchers: Matchers, profiles: Sequence[Profile],
                           ) -> dict[PairKey, SharedInterest]:
    """Shared interest of each member with its likeliest partners (bot/coffee/interest_pairs.py)."""
    return await interest_pairs.shared_interests(store, matchers, profiles)


async def judged(store: Store, matchers: Matchers, planned: Round, cands: dict[str, Candidate], facts: PairFacts,
                 profiles: dict[str, Profile]) -> Round:
    """The round with each group's shared ground as starters and introductions judge it (find_links: the level a
    phrase sits under, the whole phrase, a threshold chosen for precision). The planner ranks pairs on the fast
    vector score; a pair that score counted but the judge does not is shown sharing nothing, and a shared
    interest is named by the phrases the judge related. Scores are the planner's."""
    matcher = await matchers.aget()
    pairs = [(a, b, shared) for group in planned.groups for a, b in combinations(group.members, 2)
             if (shared := facts.interest(a, b)).score > 0 and a in profiles and b in profiles]
    if not pairs:
        return planned
    listed = {u: profiles[u] for a, b, _ in pairs for u in (a, b)}
    vectors = await phrase_vectors(store, matcher, listed.values(), workspace_wide=len(listed) > 500)
    named: dict[PairKey, SharedInterest] = {}
    for a, b, shared in pairs:
        links = await find_links(matcher, profiles[a], profiles[b], vectors)
        if not links:
            named[pair(a, b)] = SharedInterest(0.0)
            continue
        x, y = links[0].mine, links[0].theirs
        named[pair(a, b)] = SharedInterest(shared.score, (
            shown(x.text) if x.key == y.key else f"{shown(x.text)} / {shown(y.text)}",))
    shown_facts = replace(facts, interests={**facts.interests, **named})  # type: ignore[dict-item]
    return replace(planned, groups=tuple(
        replace(describe_group([cands[u] for u in g.members], shown_facts), score=g.score) for g in planned.groups))


def _suggest(cands: Sequence[Candidate], due_at: datetime) -> datetime | None:
    for days in range(1, 6):  # from the next day, so nobody is asked to meet within the hour
        found = suggest_meeting_time(cands, (due_at + timedelta(days=days)).date())
        # The next UTC day can begin an hour after the round (08:00 in Tokyo is 23:00 UTC): a time on the round's
        # own day for someone in the group is not the next day, so the search goes on.
        if found is not None and all(_local_day(found, c.tz) > _local_day(due_at, c.tz) for c in cands):
            return found
    return None


def _local_day(at: datetime, tz: str | None) -> date:
    try:
        return at.astimezone(zone_of(tz)).date()
    except (ZoneInfoNotFoundError, ValueError):  # as pairing reads an unknown zone: UTC
        return at.astimezone(UTC).date()


class _CollectorPause:
    """Python's cyclic garbage collector held off while rounds are planned (re-entrant: rounds of several channels
    may be planned at once). Planning a large round creates some hundreds of thousands of objects that live until
    it ends; their count triggers full collections, each of which walks every object of the process, caches
    included, and frees nothing (20,000 members: three a round, 0.7-1.5 CPU s of about 5). Cyclic garbage made
    meanwhile is collected once the last plan ends; reference counting frees the rest as usual."""

    def __init__(self) -> None:
        self.holders = 0
        self.resume = False

    def __enter__(self) -> None:
        if self.holders == 0:
            self.resume = gc.isenabled()
            gc.disable()
        self.holders += 1

    def __exit__(self, *exc: object) -> None:
        self.holders -= 1
        if self.holders == 0 and self.resume:
            gc.enable()


_COLLECTOR_PAUSE = _CollectorPause()


async def plan(store: Store, matchers: Matchers, settings: ChannelSettings, due_at: datetime, now: datetime,
               topics: bool = False) -> Plan:
    """The groups for the round at `due_at`, with their reasons. Sends nothing, stores nothing."""
    with _COLLECTOR_PAUSE:
        return await _plan(store, matchers, settings, due_at, now, topics)


async def _plan(store: Store, matchers: Matchers, settings: ChannelSettings, due_at: datetime, now: datetime,
                topics: bool) -> Plan:
    ws, channel = settings.workspace, settings.channel
    members = await store.coffee.memberships(ws, channel)
    listed = await store.members.list(ws)
    bots = {m.user_id for m in listed if m.is_bot}
    eligible = sorted((m for m in members if m.available(due_at) and m.user not in bots), key=lambda m: m.user)
    if len(eligible) < 2:
        paused = sum(1 for m in members if not m.available(due_at))
        who = "nobody is" if not members else f"{len(members)} {'person is' if len(members) == 1 else 'people are'}"
        detail = f"{who} in" + (f", {paused} paused or sitting this one out" if paused else "")
        return Plan((), len(eligible), f"Not enough people for a round: {detail}. It takes at least two.")
    users = [m.user for m in eligible]
    zones, profiles = await _zones_and_profiles(store, ws, users, listed)
    cands = {m.user: candidate(m.user, zones[m.user], profiles.get(m.user), m.team) for m in eligible}
    inside = set(users)
    stages = {pair(s.a, s.b): assess(s, now).stage.rank for s in await store.graph.pair_stats(ws, now)
              if s.a in inside and s.b in inside}
    # History beyond no-repeat too: once every allowed pair has met, the planner prefers those that met longest ago.
    history = await store.coffee.recent_rounds(ws, channel, due_at, max(settings.no_repeat, HISTORY_ROUNDS))
    meetings: dict[PairKey, list[int]] = {}
    for ago, r in enumerate(history, start=1):  # newest first
        for g in r.placed:
            for a in g.members:
                for b in g.members:
                    if a < b:
                        meetings.setdefault(pair(a, b), []).append(ago)
    recent = {key for key, agos in meetings.items() if agos[0] <= settings.no_repeat}
    previous = {frozenset(g.members) for g in history[0].placed} if history else set()
    avoid = await store.coffee.avoid_pairs(ws, users)
    interests = await shared_interests(store, matchers, [profiles[u] for u in users if u in profiles])
    facts = PairFacts(stages, interests, recent, avoid, settings.cross_teams, due_at.date(),
                      {k: tuple(v) for k, v in meetings.items()}, previous)
    planned = plan_round(cands.values(), facts, settings.group_size)
    if topics:
        planned = await judged(store, matchers, planned, cands, facts, profiles)
    suggested: dict[tuple[tuple[str, int, int], ...], datetime | None] = {}  # groups alike in zones and hours

    def suggest(members: Sequence[str]) -> datetime | None:
        group = [cands[u] for u in members]
        key = tuple(sorted((c.tz or "", c.work_start, c.work_end) for c in group))
        if key not in suggested:
            suggested[key] = _suggest(group, due_at)
        return suggested[key]

    groups = [GroupRecord(ws, channel, due_at, i, tuple(Seat(u) for u in g.members), round(g.score, 3),
                          g.reasons, suggest(g.members))
              for i, g in enumerate(planned.groups)]
    if planned.unpaired:
        groups.append(GroupRecord(ws, channel, due_at, -1, tuple(Seat(u) for u in planned.unpaired),
                                  reasons=planned.notes))
    return Plan(tuple(groups), len(eligible))


# --- carrying a round out -------------------------------------------------------------------------------------


async def send_to_seats(core: Core, record: RoundRecord, field: Literal["dm", "checkin"], key: str,
                        build: Callable[[GroupRecord, str], Awaitable[Reply]]) -> None:
    """One DM per seat of the round, once across processes, recording sent / undeliverable on the seat."""
    for group in record.placed:
        for position, seat in enumerate(group.seats):
            if getattr(seat, field) != "pending":
                continue
            outcome: list[bool] = []
            # Built before the reservation: a process that dies building it leaves nothing in doubt.
            reply = await build(group, seat.user)

            async def send(group: GroupRecord = group, user: str = seat.user, reply: Reply = reply,
                           outcome: list[bool] = outcome) -> bool:
                ok = bool(await core.outbound.send_direct(group.workspace, user, reply))
                outcome.append(ok)
                return ok

            label = f"g{group.index}.{position}"
            await send_once(core.store.runs, key, label, core.clock.now(), send)
            if not outcome:  # reserved earlier: by a live process (it records the seat), or by one that died after
                # recording the delivery but before the seat
                outcome = {"sent": [True], "failed": [False]}.get(await core.store.runs.delivery(key, label) or "", [])
            if outcome:
                status = "sent" if outcome[0] else "undeliverable"
                await core.store.coffee.set_seat(group.id, seat.user, dm=status if field == "dm" else None,
                                                 checkin=status if field == "checkin" else None)


def announcement(record: RoundRecord) -> Reply:
    people = sum(len(g.seats) for g in record.placed)
    groups = len(record.placed)
    # A group whose members share no working hours gets no time and no invite: the channel is not told it did.
    timed = sum(1 for g in record.placed if g.suggested_at)
    says = ("who is in it, a time that suits everyone, a calendar invite and a few questions to start."
            if timed == groups else
            "who is in it, a time that suits everyone with a calendar invite where their working hours meet, and "
            "a few questions to start." if timed else
            "who is in it and a few questions to start; working hours do not meet, so the time is theirs to agree.")
    lines = [f"*Virtual coffee*: {people} people in {groups} group{'s' if groups != 1 else ''} this round. "
             f"Each group has a conversation with me (or a DM) saying {says}"]
    sections = []
    stuck = [(g, s.user) for g in record.placed for s in g.seats if s.dm == "undeliverable"]
    if stuck:
        sections.append(Section("I could not DM these people", tuple(
            f"<@{u}>: you are meeting {names(others_in(g, u))}. Allow DMs from Rapport to get the details."
            for g, u in stuck)))
    if record.unplaced:
        sections.append(Section("No group this time", tuple(
            # No promise of a place next round: nothing gives them one, and the avoid lists that kept them out
            # this round may well keep them out the next.
            f"<@{u}>: everyone else is already grouped or on your avoid list; you are in the next round's draw "
            "as usual."
            for u in record.unplaced)))
    lines.append("Want in next time? `/rapport coffee join`")
    return Reply("\n".join(lines), tuple(sections), ephemeral=False)


async def tell_manager(core: Core, settings: ChannelSettings, record: RoundRecord) -> None:
    """One DM per round to whoever set coffee up in the channel, naming the members whose pairing DM was given up
    (names only). With nobody to tell, or when that DM fails, the channel announcement, which names them too, is
    what remains. Not asked of the platform again: the names are the ones the announcement shows the channel."""
    stuck = [s.user for g in record.placed for s in g.seats if s.dm == "undeliverable"]
    manager = settings.manager
    if not stuck or manager is None or manager in stuck:  # their own DM just failed: the channel is the way
        return
    them = "them" if len(stuck) > 1 else "this member"
    reply = Reply(f"*Virtual coffee in <#{settings.channel}>*: I could not DM {names(stuck)} about this round, "
                  f"even after retrying, so they may not know whom they are meeting. The channel announcement names "
                  f"{them} too; a word from you may help (they may have DMs from Rapport turned off). You get this "
                  "because you set coffee up there.")
    await send_once(core.store.runs, record.key, "manager", core.clock.now(),
                    lambda: core.outbound.send_direct(settings.workspace, manager, reply))


async def close_previous(core: Core, settings: ChannelSettings, due_at: datetime) -> None:
    """Count unanswered check-ins of the channel's earlier rounds; whoever has now missed MISSES_TO_PAUSE in a row
    is paused, and told once."""
    store = core.store
    ws, channel = settings.workspace, settings.channel
    for record in await store.coffee.rounds_to_close(ws, channel, due_at):
        await store.coffee.close_round(record.workspace, record.channel, record.due_at)
    for member in await store.coffee.memberships(ws, channel):
        # is_paused, not the flag: a pause until a date leaves the flag set once the date has passed, and such a
        # member, back in the rounds, must be paused like anyone else after the check-ins they leave unanswered.
        if member.missed < MISSES_TO_PAUSE or member.is_paused(due_at):
            continue
        await store.coffee.save_membership(replace(member, paused=True, paused_until=None, pause_reason="checkins"))

        async def send(user: str = member.user) -> bool:
            return bool(await core.outbound.send_direct(ws, user, Reply(
                f"I have paused your virtual coffee in <#{channel}>: the last {MISSES_TO_PAUSE} check-ins went "
                "unanswered, so I guessed the timing is not right just now. No problem! Whenever you want to meet "
                f"people again, `/rapport coffee join <#{channel}>` brings you back.")))

        await send_once(store.runs, f"{round_key(ws, channel, due_at)}:paused", member.user, core.clock.now(), send)


async def run_round(core: Core, settings: ChannelSettings, due_at: datetime) -> None:
    store, ws, channel = core.store, settings.workspace, settings.channel
    key = round_key(ws, channel, due_at)
    record = await store.coffee.round(ws, channel, due_at)
    now = core.clock.now()
    if record is None and now - due_at > GRACE:
        log.warning("coffee round %s skipped: %s late, more than the %s grace period", key, now - due_at, GRACE)
        await store.coffee.save_round(RoundRecord(ws, channel, due_at, "missed", note="missed while Rapport was down"))
        await store.coffee.advance(ws, channel, due_at, next_run(settings, max(now, due_at)))
        return
    if record is None:
        await close_previous(core, settings, due_at)
        planned = await plan(store, core.matchers, settings, due_at, now)
        status = "planned" if planned.groups and not planned.problem else "empty"
        # Persisted before anything is sent: a resumed run sends these same groups.
        record = await store.coffee.save_round(RoundRecord(ws, channel, due_at, status, planned.groups,
                                                           note=planned.problem))
    if record.status == "empty":
        why = record.note
        await send_once(store.runs, key, "channel", now, lambda: core.outbound.send_channel(ws, channel, Reply(
            f"No virtual coffee this round. {why} `/rapport coffee join` to take part.", ephemeral=False)))
    elif record.status == "planned":

        zones, _ = await _zones_and_profiles(store, ws, [u for g in record.placed for u in g.members])
        await send_to_groups(core, record, key, zones)  # one conversation per group where the platform has them
        record = await store.coffee.round(ws, channel, due_at) or record

        async def build(group: GroupRecord, user: str) -> Reply:
            return await direct_message(store, core.matchers, group, user, zones.get(user))

        await send_to_seats(core, record, "dm", key, build)  # whoever the group conversation did not reach
        record = await store.coffee.round(ws, channel, due_at) or record
        await tell_manager(core, settings, record)
        await send_once(store.runs, key, "channel", core.clock.now(),
                        lambda: core.outbound.send_channel(ws, channel, announcement(record)))
        await store.coffee.mark_round(ws, channel, due_at, status="sent", checkin_at=due_at + CHECKIN_AFTER)
        core.activity.rounds_sent += 1
    await store.coffee.advance(ws, channel, due_at, next_run(settings, max(core.clock.now(), due_at)))


def round_day(due_at: datetime, tz: str | None, fmt: str = "%d %b") -> str:
    """A round's date as its schedule names it, in the channel's zone: a round at 08:00 in Tokyo is on the day
    before in UTC."""
    return due_at.astimezone(zone_of(tz)).strftime(fmt)


def checkin_message(group: GroupRecord, user: str, day: str) -> Reply:
    value = str(group.id)
    return Reply(
        f"How did your virtual coffee with {names(others_in(group, user))} go? (<#{group.channel}>, round of "
        f"{day})",
        buttons=(Button("We met", "coffee:met", value, "primary"), Button("Not yet", "coffee:not-yet", value),
                 Button("We couldn't", "coffee:couldnt", value)))


def group_checkin_message(group: GroupRecord, users: Sequence[str], day: str) -> Reply:
    """The check-in asked once in the group's own conversation: each member answers for themselves (a press
    records the presser's answer only, and the thanks is seen by them alone)."""
    value = str(group.id)
    return Reply(
        f"How did your virtual coffee go, {names(users)}? (<#{group.channel}>, round of "
        f"{day}) Each of you, press for yourself, or answer with "
        f"`/rapport coffee checkin met|not-yet|couldnt <#{group.channel}>`.",
        buttons=(Button("We met", "coffee:met", value, "primary"), Button("Not yet", "coffee:not-yet", value),
                 Button("We couldn't", "coffee:couldnt", value)), ephemeral=False)


async def ask_groups(core: Core, record: RoundRecord, key: str, day: str) -> None:
    """One check-in per group in the conversation its introduction went to (where the platform opened one), for
    the members who have not answered yet; the seats it reached become sent, so no DM follows. Groups introduced
    by DM, and whoever the group conversation does not reach, get the DM check-in (send_to_seats)."""
    store = core.store
    for group in record.placed:
        if await store.runs.delivery(record.key, f"g{group.index}") != "sent":
            continue  # introduced by DMs: asked by DM
        waiting = [seat.user for seat in group.seats if seat.checkin == "pending" and not seat.answer]
        if len(waiting) < 2:
            continue  # one person left to ask is a DM

        async def build(group: GroupRecord = group, waiting: list[str] = waiting) -> Reply:
            return group_checkin_message(group, waiting, day)

        reached = await send_once_to_group(core, group, key, build)
        for user in waiting:
            if user in reached:
                await store.coffee.set_seat(group.id, user, checkin="sent")


async def run_checkin(core: Core, record: RoundRecord) -> None:
    settings = await core.store.coffee.channel(record.workspace, record.channel)
    day = round_day(record.due_at, settings.tz if settings else None)

    async def build(group: GroupRecord, user: str) -> Reply:
        return checkin_message(group, user, day)

    key = f"{record.key}:checkin"
    current = await core.store.coffee.round(record.workspace, record.channel, record.due_at) or record
    await ask_groups(core, current, key, day)
    current = await core.store.coffee.round(record.workspace, record.channel, record.due_at) or current
    await send_to_seats(core, current, "checkin", key, build)
    await core.store.coffee.mark_round(record.workspace, record.channel, record.due_at, checkin_sent=True)


async def record_meeting(store: Store, group: GroupRecord, at: datetime) -> None:
    """A meetup is contact between every two people of the group (idempotent: a synthetic message id)."""
    untracked = await store.privacy.untracked(group.workspace)
    people = [u for u in group.members if member_hash(group.workspace, u) not in untracked]
    if len(people) < 2:
        return
    message_id = f"coffee:{group.channel}:{group.due_at.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}:{group.index}"
    contacts = tuple(Contact(group.workspace, message_id, a, b, at, "meeting")
                     for a in people for b in people if a != b)
    # A channel of its own: the synthetic message must never sit among a real channel's recent chat.
    seen = SeenMessage(group.workspace, f"coffee:{group.channel}"[:64], message_id, people[0], at)
    await store.graph.record([Outcome(seen, contacts=contacts)])


@dataclass
class CoffeeSource:
    """Due rounds and due check-ins, for the ticker (bot/scheduling.py)."""

    core: Core

    async def due(self, now: datetime) -> list[Due]:
        repo = self.core.store.coffee
        items: list[Due] = []
        for settings in await repo.due_channels(now):
            due_at = settings.next_run_at
            if due_at is None:  # due_channels lists scheduled channels only
                continue

            async def run(settings: ChannelSettings = settings, due_at: datetime = due_at) -> None:
                await run_round(self.core, settings, due_at)

            items.append(Due(round_key(settings.workspace, settings.channel, due_at), run))
        for record in await repo.due_checkins(now):
            async def checkin(record: RoundRecord = record) -> None:
                await run_checkin(self.core, record)

            items.append(Due(f"{record.key}:checkin", checkin))
        return items



def with_seat(group: GroupRecord, user: str, **changes: Any) -> GroupRecord:
    return replace(group, seats=tuple(replace(s, **changes) if s.user == user else s for s in group.seats))
