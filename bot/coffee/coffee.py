"""Virtual coffee and warm introductions: `/rapport coffee ...`, `/rapport intro @someone`, check-in buttons.

A channel manager sets a channel's rounds up; members join, leave, skip a round, pause, or quietly avoid
someone. Rounds themselves (planning, DMs, check-ins, exactly once) live in bot/coffee/rounds.py.

    /rapport coffee setup weekly|biweekly|monthly DAY HH:MM [size 2|3] [cross-teams] [no-repeat N] [tz ZONE]
    /rapport coffee stop | status | join [team NAME] | leave | skip | pause until YYYY-MM-DD
    /rapport coffee avoid @someone | unavoid @someone | checkin met|not-yet|couldnt
    /rapport intro @someone

An avoid list holds for introductions too: nobody is asked to introduce two people when either avoids the other,
and the asker then hears what they would hear with no colleague in common (`_no_introduction`), so an avoid is
never revealed to the person avoided.

Every coffee subcommand but avoid takes an optional #channel anywhere after it (default: the channel it is typed
in; for checkin, the member's latest group in any channel).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.coffee import rounds
from bot.coffee.pairing import STAGE_REASONS
from bot.coffee.rounds import ANSWERS, first_anchor, next_run
from bot.commands import Args, Context, Refused, Router, UsageError, whole_number
from bot.core import Core
from bot.domain.coffee import DAYS, DEFAULT_NO_REPEAT, ChannelSettings, Membership, pair
from bot.domain.members import member_hash
from bot.events import zone_of
from bot.graph.rapport import Stage, assess
from bot.interests.starters import starters_for
from bot.nudges.nudges import plan_thanks
from bot.ports import Matchers, Store
from bot.profiles.profiles import time_zone, time_zone_of
from bot.replies import Button, Reply, Section
from bot.scheduling import DueSource, send_once
from bot.text import shown, tidy

SETUP_USAGE = "coffee setup weekly|biweekly|monthly DAY HH:MM [size 2|3] [cross-teams] [no-repeat N] [tz ZONE]"
USAGE = ("coffee setup|stop|status|join [team NAME]|leave|skip|pause until YYYY-MM-DD|avoid @someone|"
         "unavoid @someone|checkin met|not-yet|couldnt")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
INTRO_AGAIN_AFTER = timedelta(days=30)  # within it, a pair already introduced is told so rather than introduced again


def _day(word: str) -> int:
    word = word.lower()
    for i, name in enumerate(DAYS):
        if len(word) >= 3 and name.startswith(word):
            return i
    raise UsageError(f"`{word}` is not a day of the week.")


async def _viewer_zone(ctx: Context) -> tuple[str | None, str]:
    tz = await time_zone_of(ctx.store, ctx.workspace, ctx.user)
    return tz, "" if tz else " (I don't know your time zone, so this is UTC: set it in `/rapport profile`)"


def _when(at: datetime, tz: str | None) -> str:
    return at.astimezone(zone_of(tz)).strftime("%a %d %b %Y, %H:%M") + (f" {tz}" if tz else " UTC")


async def _settings(ctx: Context, channel: str) -> ChannelSettings:
    found = await ctx.store.coffee.channel(ctx.workspace, channel)
    if found is None or found.next_run_at is None:
        raise UsageError(f"Virtual coffee is not running in <#{channel}>; a channel manager can start it.",
                         SETUP_USAGE)
    return found


# --- managers -------------------------------------------------------------------------------------------------


async def setup(ctx: Context, args: Args, channel: str) -> Reply:
    await ctx.require_manager(channel)
    cadence = (args.optional_word() or "").lower()
    if cadence not in rounds.CADENCES:
        raise UsageError("Say how often: weekly, biweekly or monthly, e.g. `coffee setup weekly monday 10:00`.")
    day = _day(args.word("a day of the week"))
    match = _TIME.match(args.word("a time like 10:00"))
    if not match:
        raise UsageError("Give the time as HH:MM, from 00:00 to 23:59, e.g. 10:00.")
    hour, minute = int(match.group(1)), int(match.group(2))
    size, cross, no_repeat = 2, False, DEFAULT_NO_REPEAT
    tz = await time_zone_of(ctx.store, ctx.workspace, ctx.user) or "UTC"
    while (word := args.optional_word()) is not None:
        word = word.lower()
        if word == "size":
            if (size_text := args.word("a group size, 2 or 3")) not in ("2", "3"):
                raise UsageError("Give a group size of 2 or 3.")
            size = int(size_text)
        elif word in ("cross-teams", "cross-team", "crossteams"):
            cross = True
        elif word == "no-repeat":
            no_repeat = whole_number(args.word("a number of rounds"), 0, 52, "a number of rounds for no-repeat")
        elif word == "tz":
            tz = time_zone(args.word("a time zone"))
        else:
            raise UsageError(f"I did not understand `{word}`.")
    now = ctx.clock.now()
    settings = ChannelSettings(ctx.workspace, channel, cadence, day, hour, minute, tz,
                               first_anchor(day, tz, hour, minute, now), size, cross, no_repeat, manager=ctx.user)
    settings = replace(settings, next_run_at=next_run(settings, now))
    await ctx.store.coffee.save_channel(settings)
    members = await ctx.store.coffee.memberships(ctx.workspace, channel)
    viewer_tz, note = await _viewer_zone(ctx)
    assert settings.next_run_at is not None
    which = "First" if await ctx.store.coffee.last_round(ctx.workspace, channel) is None else "Next"
    return Reply(f"*Virtual coffee in <#{channel}>*: {settings.describe()}.\n"
                 f"{which} round: {_when(settings.next_run_at, viewer_tz)}{note}. "
                 f"{len(members)} in so far: join with {_join(ctx, channel)}.", ephemeral=False)


async def stop(ctx: Context, args: Args, channel: str) -> Reply:
    args.done()
    await ctx.require_manager(channel)
    settings = await _settings(ctx, channel)
    await ctx.store.coffee.save_channel(replace(settings, next_run_at=None))
    return Reply(f"Virtual coffee in <#{channel}> is stopped. Members stay signed up for when it starts again.",
                 ephemeral=False)


async def status(ctx: Context, args: Args, channel: str) -> Reply:
    args.done()
    settings = await _settings(ctx, channel)
    assert settings.next_run_at is not None
    due = settings.next_run_at
    tz, note = await _viewer_zone(ctx)
    members = await ctx.store.coffee.memberships(ctx.workspace, channel)
    mine = next((m for m in members if m.user == ctx.user), None)
    lines = [f"*Virtual coffee in <#{channel}>*: {settings.describe()}.",
             f"Next round: {_when(due, tz)}{note}."]
    if mine is None:
        lines.append(f"You are not in: {_join(ctx, channel)}.")
    elif mine.is_paused(due):
        lines.append(f"{_paused(mine, tz)}: {_join(ctx, channel)} brings you back.")
    else:
        lines.append("You are in" + (", sitting out the next round." if mine.skip_at == due else "."))
    sections = [Section(f"In for the next round ({sum(m.available(due) for m in members)})",
                        tuple(f"<@{m.user}>" + (f" ({shown(m.team)})" if m.team else "")
                              for m in members if m.available(due)))]
    away = [m for m in members if not m.available(due)]
    if away:
        sections.append(Section("Paused or skipping", tuple(
            f"<@{m.user}>: " + ("skipping this one" if not m.is_paused(due) else "paused") for m in away)))
    if await ctx.manages(channel):
        sections.extend(await _last_round(ctx, channel, settings.tz))
    return Reply("\n".join(lines), tuple(sections))


def _join(ctx: Context, channel: str) -> str:
    """The join command for `channel`, as typed where the reply is read: elsewhere, a bare `coffee join` would
    join the channel it is typed in."""
    return "`/rapport coffee join`" if channel == ctx.channel else f"`/rapport coffee join <#{channel}>`"


def _paused(member: Membership, tz: str | None) -> str:
    until = member.paused_until_day(tz)
    return "You are paused" + (f" until {until.isoformat()}" if until else "")


async def _last_round(ctx: Context, channel: str, tz: str) -> list[Section]:
    last = await ctx.store.coffee.last_round(ctx.workspace, channel)
    if last is None:
        return [Section("Last round", ("none yet",))]
    title = f"Last round ({rounds.round_day(last.due_at, tz, '%d %b %Y')}, {last.status})"
    if not last.placed:
        return [Section(title, (last.note or "no groups",))]
    lines = []
    for g in last.placed:
        people = ", ".join(f"<@{s.user}>" + ("" if not s.answer else f" said {ANSWERS[s.answer]}")
                           + (" (DM undeliverable)" if s.dm == "undeliverable" else "")
                           + (" (check-in undeliverable)" if s.checkin == "undeliverable" else "")
                           for s in g.seats)
        reasons = _without_stages(g.reasons)
        lines.append(people + (": " + "; ".join(reasons) if reasons else ""))
    lines.extend(f"<@{u}>: not placed" for u in last.unplaced)
    return [Section(title, tuple(lines))]


def _without_stages(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """A group's reasons as a channel manager may see them: where two members stand with each other is theirs
    alone (`/rapport privacy` promises it), so "strangers so far" and "@a & @b: already peers" are left out."""
    return tuple(r for r in reasons if r.rsplit(": ", 1)[-1] not in STAGE_REASONS)


# --- members --------------------------------------------------------------------------------------------------


async def join(ctx: Context, args: Args, channel: str) -> Reply:
    team = ""
    if args.tokens and args.tokens[0].lower() == "team":
        args.word("team")
        team = tidy(args.rest())[:64]
        if not team:
            raise UsageError("Give your team's name after `team`.")
    args.done()
    settings = await _settings(ctx, channel)
    old = await ctx.store.coffee.membership(ctx.workspace, channel, ctx.user)
    now = ctx.clock.now()
    member = Membership(ctx.workspace, channel, ctx.user, old.joined_at if old else now,
                        team or (old.team if old else ""))
    await ctx.store.coffee.save_membership(member)
    tz, note = await _viewer_zone(ctx)
    assert settings.next_run_at is not None
    # "Welcome back" only to someone who was away from the next round (paused, or sitting it out): a join brings
    # them back in. A skip or a pause that is over leaves its mark on the membership, but they are in already.
    opening = ("You are in" if old is None else "Welcome back to" if not old.available(settings.next_run_at)
               else "You are already in")
    named = f" Your team: {shown(team)}." if team else ""  # said back, so that a change of team is seen to hold
    return Reply(f"{opening} virtual coffee in <#{channel}>.{named} Next round: {_when(settings.next_run_at, tz)}"
                 f"{note}. I will DM you who you are meeting.")


async def leave(ctx: Context, args: Args, channel: str) -> Reply:
    args.done()
    if await ctx.store.coffee.remove_membership(ctx.workspace, channel, ctx.user):
        return Reply(f"You have left virtual coffee in <#{channel}>. {_join(ctx, channel)} any time to come back.")
    return Reply(f"You were not in virtual coffee in <#{channel}>.")


async def _membership(ctx: Context, channel: str) -> Membership:
    found = await ctx.store.coffee.membership(ctx.workspace, channel, ctx.user)
    if found is None:
        raise UsageError(f"You are not in virtual coffee in <#{channel}>: {_join(ctx, channel)} first.")
    return found


async def skip(ctx: Context, args: Args, channel: str) -> Reply:
    args.done()
    settings = await _settings(ctx, channel)
    member = await _membership(ctx, channel)
    assert settings.next_run_at is not None
    if member.is_paused(settings.next_run_at):  # a skip would promise "back in after that", which a pause is not
        tz = await time_zone_of(ctx.store, ctx.workspace, ctx.user)
        return Reply(f"{_paused(member, tz)}, so you sit the next round out anyway. "
                     f"{_join(ctx, channel)} brings you back.")
    await ctx.store.coffee.save_membership(replace(member, skip_at=settings.next_run_at))
    tz, _ = await _viewer_zone(ctx)
    return Reply(f"You will sit out the round of {_when(settings.next_run_at, tz)}; you are back in after that.")


async def pause(ctx: Context, args: Args, channel: str) -> Reply:
    if (args.optional_word() or "").lower() != "until":
        raise UsageError("Say until when: `/rapport coffee pause until 2026-04-01`.")
    text = args.word("a date (YYYY-MM-DD)")
    args.done()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"`{text}` is not a date: write it like 2026-04-01.") from None
    member = await _membership(ctx, channel)
    tz = await time_zone_of(ctx.store, ctx.workspace, ctx.user)
    zone = zone_of(tz)
    # Compared as dates in the member's zone before any conversion: midnight of 0001-01-01 east of UTC is before
    # datetime.min, and astimezone() raised OverflowError at it.
    if day <= ctx.clock.now().astimezone(zone).date():
        raise UsageError("That date has passed: give one in the future.")
    until = datetime.combine(day, time(0), zone).astimezone(UTC)
    await ctx.store.coffee.save_membership(replace(member, paused=True, paused_until=until, pause_reason="asked"))
    return Reply(f"Paused until {day.isoformat()}: no coffee rounds for you before then, then you are back in.")


async def avoid(ctx: Context, args: Args, undo: bool) -> Reply:
    other = args.user()
    args.done()
    if other == ctx.user:
        raise UsageError("That is you.")
    if undo:
        if await ctx.store.coffee.unavoid(ctx.workspace, ctx.user, other):
            return Reply(f"<@{other}> is off your avoid list.")
        return Reply(f"<@{other}> was not on your avoid list: nothing changed.")
    await ctx.require_member(other)
    await ctx.store.coffee.avoid(ctx.workspace, ctx.user, other)
    return Reply(f"Noted, privately: you will never be grouped with <@{other}> in virtual coffee, in any channel, "
                 "nor introduced to them. "
                 f"They are not told. `/rapport coffee unavoid <@{other}>` undoes it.")


async def checkin_command(ctx: Context, args: Args, channel: str | None) -> Reply:
    word = (args.optional_word() or "").lower().replace("_", "-")
    args.done()
    answer = {"met": "met", "not-yet": "not-yet", "notyet": "not-yet", "couldnt": "couldnt",
              "couldn't": "couldnt"}.get(word)
    if answer is None:
        raise UsageError("Answer with met, not-yet or couldnt.")
    group = await ctx.store.coffee.latest_group(ctx.workspace, ctx.user, channel)
    if group is None:
        return Reply("You have no coffee check-in to answer" + (f" in <#{channel}>." if channel else "."))
    return await _answer(ctx, group.id, answer)


async def _answer(ctx: Context, group_id: int, answer: str) -> Reply:
    group = await ctx.store.coffee.group(group_id)
    if group is None or group.workspace != ctx.workspace or ctx.user not in group.members:
        return Reply("That check-in is not yours, or it is no longer there.")
    if len(group.seats) < 2:  # the others left it (erased their data): no meetup to ask about
        return Reply("No one else is in that coffee group any more, so there is no check-in to answer.")
    already_met = group.met_at is not None
    now = ctx.clock.now()
    updated = await ctx.store.coffee.answer(group_id, ctx.user, answer, now)
    if answer == "met" and updated is not None and not already_met:
        await rounds.record_meeting(ctx.store, updated, now)
    await _no_checkin_for(ctx, group, now)
    return Reply({"met": "Lovely, thanks! Glad you met.",
                  "not-yet": "Thanks! There is still time: a short call is enough.",
                  "couldnt": "Thanks for letting me know. Maybe next round."}[answer])


async def _no_checkin_for(ctx: Context, group: Any, now: datetime) -> None:
    """Someone who answered before their check-in DM went out does not get it: its delivery is reserved as done.
    The key and the label are the ones rounds.run_checkin sends that DM under (through send_to_seats)."""
    position = next((i for i, seat in enumerate(group.seats) if seat.user == ctx.user), None)
    if position is None or group.seats[position].checkin != "pending":
        return
    key, label = f"{group.round_key}:checkin", f"g{group.index}.{position}"
    if await ctx.store.runs.deliver_once(key, label, now):
        await ctx.store.runs.delivered(key, label, True, now)


def _answer_button(answer: str) -> Any:
    async def press(ctx: Context, value: str) -> Reply | None:
        if not (value.isascii() and value.isdigit() and len(value) <= 18):  # a row id, from our own button
            return Reply("That check-in is not yours, or it is no longer there.")
        return await _answer(ctx, int(value), answer)

    return press


SUBCOMMANDS = {"setup": setup, "stop": stop, "status": status, "join": join, "leave": leave, "skip": skip,
               "pause": pause}


async def coffee_command(ctx: Context, args: Args) -> Reply:
    named = args.channel()  # wherever it stands, `coffee #team` (its status) included
    word = (args.optional_word() or "status").lower()
    if word in ("avoid", "unavoid"):
        if named:
            raise UsageError("Avoiding someone holds in every channel: leave the channel out.")
        return await avoid(ctx, args, undo=word == "unavoid")
    if word == "checkin":  # answered from a DM as often as not: without a channel named, the latest group anywhere
        return await checkin_command(ctx, args, named)
    handler = SUBCOMMANDS.get(word)
    if handler is None:
        raise UsageError(f"I don't know `coffee {word}`.")
    try:
        return await handler(ctx, args, named or ctx.channel)
    except UsageError as error:
        # A slip among setup's many words is answered with setup's usage, not with every subcommand's.
        if word == "setup" and not isinstance(error, Refused):
            error.usage = error.usage or SETUP_USAGE
        raise


# --- warm introductions ---------------------------------------------------------------------------------------


def _no_introduction(other: str) -> Reply:
    """The one answer for every reason an introduction cannot be asked for on someone's behalf: no colleague knows
    them both, the person paused tracking, or they have the asker on their coffee avoid list. One wording, so that
    the asker cannot tell an avoid (private: "they are not told") from having no colleague in common."""
    return Reply(f"I can't arrange an introduction to <@{other}> at the moment: it takes a colleague who knows you "
                 "both well, and I have no one to ask yet. Virtual coffee is a good way to meet new people: "
                 "`/rapport coffee join` in a channel that runs it.")


async def intro_command(ctx: Context, args: Args) -> Reply:
    other = args.user()
    args.done()
    if other == ctx.user:
        raise UsageError("That is you! Try `/rapport intro @someone`.")
    store, ws, now = ctx.store, ctx.workspace, ctx.clock.now()
    await ctx.require_member(other)
    if not await ctx.tracked():  # the introduction would record the asker again, against their own pause
        return Reply("Tracking is paused for you, and an introduction would record you again: "
                     "`/rapport resume-tracking` first if you would like one.")
    if await store.coffee.avoids(ws, ctx.user, other):  # the asker's own list: no secret to keep from them
        return Reply(f"<@{other}> is on your coffee avoid list, so I won't ask anyone to introduce you. "
                     f"`/rapport coffee unavoid <@{other}>` first if you have changed your mind.")
    bots = {m.user_id for m in await store.members.list(ws) if m.is_bot}

    async def known_to(user: str) -> dict[str, int]:
        return {s.other(user): a.stage.rank for s in await store.graph.pair_stats(ws, now, user=user)
                if (a := assess(s, now)).stage.rank >= Stage.ACQUAINTANCE.rank}

    mine, theirs = await known_to(ctx.user), await known_to(other)
    if other in mine:
        return Reply(f"You already know <@{other}>: just say hello! `/rapport starters <@{other}>` has ideas.")
    made = [i for i in await store.coffee.introductions_since(ws, now - INTRO_AGAIN_AFTER)
            if {i.a, i.b} == {ctx.user, other}]
    if made:  # asking the colleague again would send the same two people a second introduction
        last = max(made, key=lambda i: i.made_at)
        return Reply(f"<@{last.introducer}> introduced you to <@{other}> on {last.made_at.strftime('%d %b')}: "
                     f"just say hello! `/rapport starters <@{other}>` has ideas.")
    if not await _may_introduce(ctx, ctx.user, other):
        return _no_introduction(other)  # nobody is asked, so neither the colleague nor the person hears of it
    candidates = (mine.keys() & theirs.keys()) - bots - {ctx.user, other}
    # A colleague in an avoid pair with either of the two is not asked to bring them together.
    avoided = await store.coffee.avoid_pairs(ws, [ctx.user, other, *candidates])
    mutual = sorted((c for c in candidates if not {pair(c, ctx.user), pair(c, other)} & avoided),
                    key=lambda c: (-min(mine[c], theirs[c]), -(mine[c] + theirs[c]), c))
    value = f"{ctx.user} {other}"
    key = _intro_key(ws, ctx.user, other, "ask", now)
    for connector in mutual:
        label = hashlib.sha256(connector.encode()).hexdigest()[:16]
        # send_once, unrolled: a reservation already there means this request went out earlier today.
        if not await store.runs.deliver_once(key, label, now):
            # Not named: if that DM failed, a later colleague in the list was the one asked.
            return Reply(f"You asked for an introduction to <@{other}> today already: I asked a colleague who knows "
                         "you both, and the request is pending. Give them a day or two.")
        ok = False
        try:
            ok = bool(await ctx.outbound.send_direct(ws, connector, Reply(
                f"<@{ctx.user}> would like to get to know <@{other}>, and you know them both. Would you introduce "
                "them? One press sends them both a short introduction from you, with a few questions to start. "
                "If you would rather not, just ignore this.",
                buttons=(Button("Introduce them", "coffee:introduce", value, "primary"),))))
        finally:
            await store.runs.delivered(key, label, ok, now)
        if ok:
            return Reply(f"I asked <@{connector}>, who knows you both, to introduce you to <@{other}>.")
    return _no_introduction(other)


async def _may_introduce(ctx: Context, asker: str, other: str) -> bool:
    """Neither of the two paused tracking or erased their data (an introduction names both and would store them
    again), and neither has the other on their coffee avoid list."""
    ws = ctx.workspace
    if {member_hash(ws, asker), member_hash(ws, other)} & await ctx.store.privacy.untracked(ws):
        return False
    return not await ctx.store.coffee.avoid_pairs(ws, [asker, other])


def _intro_key(ws: str, a: str, b: str, what: str, now: datetime) -> str:
    # Hashed: run keys never hold user ids (erasure does not touch run rows). One request per pair per day.
    digest = hashlib.sha256(f"{ws}:{a}:{b}".encode()).hexdigest()[:24]
    return f"intro:{what}:{digest}:{now.date().isoformat()}"


async def introduce(ctx: Context, value: str) -> Reply | None:
    parts = value.split()
    if len(parts) != 2 or ctx.user in parts:
        return Reply("That introduction is no longer available.")
    asker, other = parts
    store, ws, now = ctx.store, ctx.workspace, ctx.clock.now()
    # The request may have waited in the colleague's DMs while one of the two erased their data, paused tracking
    # or put the other on their avoid list: the colleague is told no more than for any of those.
    if not await _may_introduce(ctx, asker, other):
        return Reply("That introduction is no longer available.")
    matcher = await ctx.matchers.aget()
    sent = 0
    for label, me, them in (("asker", asker, other), ("other", other, asker)):
        lines = await starters_for(store, matcher, ws, me, them, 3)

        async def send(me: str = me, them: str = them, lines: list[str] = lines) -> bool:
            return bool(await ctx.outbound.send_direct(ws, me, Reply(
                f"<@{ctx.user}> would like to introduce you to <@{them}>: they think you two would get on. "
                "Say hello!", (Section(f"Ask <@{them}>", tuple(lines)),))))

        sent += await send_once(store.runs, _intro_key(ws, asker, other, "made", now), label, now, send)
    if sent:
        await store.coffee.record_introduction(ws, asker, other, ctx.user, now)
        await plan_thanks(store, ws, ctx.user, (asker, other), now)
        return Reply(f"Thank you! I sent <@{asker}> and <@{other}> an introduction from you.")
    return Reply("Those introductions have already gone out (or I could not reach them by DM).")


# --- dry run ----------------------------------------------------------------------------------------------------


async def dry_run(store: Store, matchers: Matchers, workspace: str, channel: str, now: datetime) -> dict[str, Any]:
    """The channel's next round as it would be planned now, as a JSON-ready document. Sends and stores nothing.
    UsageError when the channel runs no coffee."""
    settings = await store.coffee.channel(workspace, channel)
    if settings is None or settings.next_run_at is None:
        running = [s.channel for s in await store.coffee.channels(workspace) if s.next_run_at is not None]
        raise UsageError(f"no virtual coffee runs in channel {channel!r} of workspace {workspace!r}"
                         + (f" (it runs in: {', '.join(running)})" if running else ""))
    due = settings.next_run_at
    planned = await rounds.plan(store, matchers, settings, due, now, topics=True)
    return {
        "workspace": workspace, "channel": channel, "round_at": due.isoformat(), "schedule": settings.describe(),
        "eligible": planned.eligible, "problem": planned.problem or None,
        "groups": [{"members": list(g.members), "score": g.score, "reasons": list(g.reasons),
                    "suggested_at": g.suggested_at.isoformat() if g.suggested_at else None}
                   for g in planned.groups if g.index >= 0],
        "unpaired": [{"member": u, "why": why.split(": ", 1)[-1]}
                     for g in planned.groups if g.index < 0 for u, why in zip(g.members, g.reasons, strict=True)],
    }


# --- wiring ---------------------------------------------------------------------------------------------------


def sources(core: Core) -> list[DueSource]:
    return [rounds.CoffeeSource(core)]


def register(router: Router) -> None:
    router.command("coffee", USAGE, "virtual coffee: meet people from a channel, a few at a time")(coffee_command)
    router.command("intro", "intro @someone", "ask someone who knows you both to introduce you")(intro_command)
    for answer in ANSWERS:
        router.action(f"coffee:{answer}")(_answer_button(answer))
    router.action("coffee:introduce")(introduce)
