"""Nudges: small private suggestions at the right moment, so that relationships grow between conversations.

Kinds (bot.nudges.policy.Kind):
- follow_up: a day after a coffee meetup, one concrete act of giving to the person met: an introduction to
  someone here who has what they are looking for, an article on what they look for or what you share (sent with
  `/rapport share @them URL note`), or a word of thanks;
- thanks: a day after an introduction, to each person introduced: thank the colleague who made it (planned when
  the introduction goes out, the one moment Rapport knows who made it);
- unanswered: a question put to you whose answer window closed: a link to it (never its text);
- cooling: a relationship that mattered (acquaintance or closer) going quiet: reconnect, with a starter;
- stage: you and someone became peers (or one became the other's trusted advisor);
- ask_back: you are often in touch with someone but have never asked them a question: ask one.

How it runs (bot/scheduling.py): the planner, once a day per workspace, inserts candidate nudges (a UNIQUE dedup
key per recipient makes planning idempotent, across processes too) with the first moment the recipient allows
one (bot/nudges/policy.py). Delivery, every tick, takes each member's most valuable due nudge as one run
(key `nudge:<id>:<attempt>:<deliver_at>`), re-checks every rule at that moment and sends it with
`send_once(runs, "nudge:<id>:<attempt>", ...)`; a nudge that may not go out yet is moved to its next allowed
moment. Only ids and times are stored; the words are composed when a nudge is sent.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bot.commands import Args, Context, Router, UsageError, whole_number
from bot.core import Core
from bot.domain.members import member_hash
from bot.domain.nudges import DONE, DROPPED, EXPIRED, FAILED, PENDING, SENT, Kind, Nudge, NudgeSettings
from bot.domain.profiles import Phrase, Profile
from bot.graph.rapport import Stage, assess
from bot.interests.similarity import Matcher, similarity_matrix
from bot.interests.starters import find_links, starters_for
from bot.interests.vectors import phrase_vectors
from bot.nudges.policy import (
    CAP_WINDOW,
    MAX_CAP,
    Hours,
    allowed,
    cap_frees_at,
    describe_days,
    hours_of,
    next_allowed,
    parse_days,
    parse_quiet,
    stale,
    value_of,
)
from bot.ports import Matchers, Store
from bot.replies import Button, Reply, Section, plural
from bot.scheduling import Daily, Due, DueSource, send_once
from bot.text import shown

log = logging.getLogger(__name__)

FOLLOW_UP_DELAY = timedelta(days=1)
LOOKBACK = timedelta(days=3)  # meetings and closed answer windows the daily plan still picks up
STAGE_RECENT = timedelta(days=7)  # a stage is news only if the pair was in touch this recently
ASK_BACK_MIN_DAYS = 5  # contact days without a single question from you
ASK_BACK_RECENT = timedelta(days=14)
DUE_LIMIT = 2000  # due nudges looked at per tick
SNOOZES = {"1": timedelta(days=1), "7": timedelta(days=7)}
URL_MAX = 2000
NOTE_MAX = 500


# --- planning ---------------------------------------------------------------------------------------------------


@dataclass
class Audience:
    """Who may be nudged, or nudged about, in a workspace, and when each member may be reached."""

    store: Store
    workspace: str
    members: dict[str, Any]
    untracked: frozenset[str]
    profiles: dict[str, Profile]
    settings: dict[str, NudgeSettings]

    @classmethod
    async def load(cls, store: Store, workspace: str) -> Audience:
        return cls(
            store, workspace,
            {m.user_id: m for m in await store.members.list(workspace) if not m.is_bot},
            await store.privacy.untracked(workspace),
            {p.user_id: p for p in await store.profiles.list(workspace)},
            await store.nudges.all_settings(workspace),
        )

    def present(self, user: str) -> bool:
        """A member still here who has not paused tracking or erased their data."""
        return user in self.members and member_hash(self.workspace, user) not in self.untracked

    def settings_of(self, user: str) -> NudgeSettings:
        return self.settings.get(user) or NudgeSettings(self.workspace, user)

    def hours_of(self, user: str) -> Hours:
        p, m = self.profiles.get(user), self.members.get(user)
        return hours_of(p.tz if p else None, p.work_start if p else None, p.work_end if p else None,
                        m.tz if m else None)


def _candidate(ws: str, recipient: str, kind: Kind, subject: str, ref: str, due: datetime, now: datetime,
               channel: str | None = None, rank: int = 0) -> Nudge:
    return Nudge(ws, recipient, kind, subject, ref, value_of(kind, rank), now, due, due, channel)


async def candidates(store: Store, workspace: str, now: datetime) -> list[Nudge]:
    """Every nudge the workspace's activity calls for now, before the rules about people and moments."""
    ws = workspace
    found: list[Nudge] = []
    # Coffee meetings only: an introduction is followed up by a THANKS nudge to the introducer (plan_thanks).
    for meeting in await store.coffee.meetings_since(ws, now - LOOKBACK - FOLLOW_UP_DELAY):
        ref = f"{meeting.channel}/{meeting.round_key}"
        for member in meeting.members:
            for other in meeting.members:
                if other != member:
                    found.append(_candidate(ws, member, Kind.FOLLOW_UP, other, ref,
                                            meeting.met_at + FOLLOW_UP_DELAY, now, meeting.channel))
    for q in await store.nudges.unanswered(ws, now - LOOKBACK, now):
        found.append(_candidate(ws, q.addressee, Kind.UNANSWERED, q.asker, q.message_id, q.deadline, now, q.channel))
    told: dict[tuple[str, str], int] = {}
    for recipient, subject, stage in await store.nudges.told(ws, Kind.STAGE):
        told[(recipient, subject)] = max(told.get((recipient, subject), -1), Stage(stage).rank)
    for stats in await store.graph.pair_stats(ws, now):
        a = assess(stats, now)
        if a.stage.rank < Stage.ACQUAINTANCE.rank and not stats.contact_days:
            continue
        recent = stats.last_contact is not None and now - stats.last_contact <= STAGE_RECENT
        for user in (stats.a, stats.b):
            other = stats.other(user)
            if a.cooling and a.stage.rank >= Stage.ACQUAINTANCE.rank and stats.last_contact:
                found.append(_candidate(ws, user, Kind.COOLING, other, stats.last_contact.date().isoformat(),
                                        now, now, rank=a.stage.rank))
            if (a.stage in (Stage.PEERS, Stage.TRUSTED_ADVISOR) and recent
                    and told.get((user, other), -1) < a.stage.rank):
                found.append(_candidate(ws, user, Kind.STAGE, other, a.stage.value, now, now, rank=a.stage.rank))
            if (not stats.seen_from(user)[0] and stats.contact_days >= ASK_BACK_MIN_DAYS and stats.last_contact
                    and now - stats.last_contact <= ASK_BACK_RECENT):
                found.append(_candidate(ws, user, Kind.ASK_BACK, other, "", now, now, rank=a.stage.rank))
    return found


async def plan(store: Store, workspace: str, now: datetime) -> int:
    """Insert the workspace's new nudges, each timed for the first moment its recipient allows. Returns how many
    were new (those planned before are skipped by their dedup key)."""
    audience = await Audience.load(store, workspace)
    return await _schedule(store, audience, await candidates(store, workspace, now), now)


async def plan_thanks(store: Store, workspace: str, introducer: str, introduced: Sequence[str], now: datetime) -> int:
    """A day after an introduction, each person introduced is nudged to thank the one who made it."""
    # The ref holds no user id: erasing the other person introduced must leave nothing of them here.
    found = [_candidate(workspace, user, Kind.THANKS, introducer, f"intro:{now.date().isoformat()}",
                        now + FOLLOW_UP_DELAY, now) for user in introduced]
    return await _schedule(store, await Audience.load(store, workspace), found, now)


async def _schedule(store: Store, audience: Audience, found_nudges: list[Nudge], now: datetime) -> int:
    """Insert nudges that the recipients' settings allow, each at the first moment its recipient allows."""
    by_recipient: dict[str, list[Nudge]] = {}
    for n in found_nudges:
        if not audience.present(n.recipient) or not audience.settings_of(n.recipient).wants(n.kind):
            continue
        if n.subject and not audience.present(n.subject):
            continue
        by_recipient.setdefault(n.recipient, []).append(n)
    planned: list[Nudge] = []
    for recipient, found in by_recipient.items():
        settings, hours = audience.settings_of(recipient), audience.hours_of(recipient)
        soonest = next_allowed(now, hours, settings)
        # More than a week's cap in one day could never go out before going stale: the rest wait for a later plan.
        for n in sorted(found, key=lambda n: (-n.value, n.due_at))[:settings.cap]:
            at = soonest if n.due_at <= now else next_allowed(n.due_at, hours, settings)
            if at is not None:
                planned.append(replace(n, deliver_at=at))
    return await store.nudges.add(planned)


# --- delivery --------------------------------------------------------------------------------------------------


def _ago(then: datetime, now: datetime) -> str:
    days = (now - then).days
    return "today" if days < 1 else "yesterday" if days == 1 else f"{days} days ago"


def buttons(n: Nudge) -> tuple[Button, ...]:
    return (
        Button("Done", "nudge:done", str(n.id), "primary"),
        Button("Snooze a day", "nudge:snooze", f"{n.id}:1"),
        Button("Snooze a week", "nudge:snooze", f"{n.id}:7"),
        Button("No more of these", "nudge:mute", str(n.id)),
    )


async def _matcher(matchers: Matchers) -> Matcher | None:
    try:
        return await matchers.aget()
    except Exception:
        log.exception("no matcher for nudges")
        return None


async def giving_idea(store: Store, matchers: Matchers, audience: Audience, giver: str, receiver: str) -> str:
    """One concrete act of giving from `giver` to `receiver`: an introduction to someone who has what the
    receiver is looking for, else an article on what they look for or on what the two share, else thanks."""
    them = f"<@{receiver}>"
    share = f"`/rapport share {them} URL your note`"
    theirs = audience.profiles.get(receiver)
    matcher = await _matcher(matchers) if theirs else None
    if theirs is not None and matcher is not None:
        wanted = [p for p in theirs.phrases() if p.level == "looking_for"]
        intro = await _introduction(store, audience, matcher, giver, theirs, wanted) if wanted else None
        if intro:
            return intro
        if wanted:
            return (f"{them} is looking for “{shown(wanted[0].text)}”. Share an article on it with a note on why "
                    f"it is worth reading for them: {share}.")
        mine = audience.profiles.get(giver) or Profile(audience.workspace, giver)
        vectors = await phrase_vectors(store, matcher, [mine, theirs])
        links = await find_links(matcher, mine, theirs, vectors)
        if links:
            return (f"You both care about “{shown(links[0].theirs.text)}”. Share an article on it with a note on why "
                    f"it is worth reading for {them}: {share}.")
    return f"Send {them} a word of thanks for their time, and one thing you took away from the conversation."


async def _introduction(store: Store, audience: Audience, matcher: Matcher, giver: str, theirs: Profile,
                        wanted: list[Any]) -> str | None:
    others = [p for u, p in audience.profiles.items()
              if u not in (giver, theirs.user_id) and audience.present(u) and p.phrases()]
    if not others:
        return None
    vectors = await phrase_vectors(store, matcher, [theirs, *others], workspace_wide=True)
    want = np.stack([vectors[theirs.user_id][p.key] for p in wanted])
    best: tuple[float, str, Phrase, Phrase] | None = None
    for profile in others:
        offers = [p for p in profile.phrases() if p.level != "looking_for" or p.intent == "mentor"]
        if not offers:
            continue
        sims = similarity_matrix(want, np.stack([vectors[profile.user_id][p.key] for p in offers]))
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        score = float(sims[i, j])
        if score >= matcher.threshold and (best is None or score > best[0]):
            best = (score, profile.user_id, wanted[i], offers[j])
    if best is None or not matcher.judge(best[2].text, best[3].text, best[2].level, best[3].level).related:
        return None
    _, who, topic, offer = best
    return (f"<@{theirs.user_id}> is looking for “{shown(topic.text)}”, and <@{who}> listed “{shown(offer.text)}”. "
            f"Introduce them to each other: one message to both is enough.")


async def compose(core: Core, audience: Audience, n: Nudge, now: datetime) -> Reply | None:
    """The nudge's words, or None when what it was about has gone (a question answered or deleted meanwhile)."""
    store: Store = core.store
    other = f"<@{n.subject}>"
    if n.kind is Kind.FOLLOW_UP:
        if await store.nudges.gave(n.workspace, n.recipient, n.subject, n.created_at - LOOKBACK):
            return None
        idea = await giving_idea(store, core.matchers, audience, n.recipient, n.subject)
        return Reply(f"You met {other} for coffee recently. A small way to give something back:\n{idea}",
                     buttons=buttons(n))
    if n.kind is Kind.THANKS:
        return Reply(f"{other} made an introduction for you {_ago(n.created_at, now)}. Send them a word of "
                     "thanks, and tell them how it went once you have talked.", buttons=buttons(n))
    if n.kind is Kind.UNANSWERED:
        asked_at = await store.nudges.open_question(n.workspace, n.ref, n.recipient)
        if asked_at is None:
            return None
        link = await core.outbound.permalink(n.workspace, n.channel or "", n.ref)
        where = f": {link}" if link else (f" in <#{n.channel}>" if n.channel else "")
        return Reply(f"{other} asked you a question {_ago(asked_at, now)} that is still waiting for an answer"
                     f"{where}. Even a short reply or a pointer to someone who knows helps.", buttons=buttons(n))
    if n.kind is Kind.STAGE:
        if n.ref == Stage.PEERS.value:
            text = (f"{other} asks you questions too now, and you answer each other: you and {other} are now "
                    f"*peers*. Nice.")
        else:
            text = (f"You and {other} have a *trusted advisor* relationship now: one of you keeps coming to the "
                    f"other for answers. `/rapport with {other}` shows which way; a thank-you goes a long way.")
        return Reply(text, buttons=buttons(n))
    matcher = await _matcher(core.matchers)
    starters = await starters_for(store, matcher, n.workspace, n.recipient, n.subject, limit=1) if matcher else []
    starter = starters[0] if starters else None
    if n.kind is Kind.COOLING:
        text = f"It has gone quieter than usual between you and {other}. A good moment to reconnect."
    else:
        text = (f"You and {other} are often in touch, but you have not asked them a question yet. Asking is how "
                f"people get to know each other: try one.")
    if starter:
        text += f"\nSomething to ask {other}: {starter}"
    return Reply(text, buttons=buttons(n))


async def deliver_to(core: Core, workspace: str, recipient: str, run: str | None = None) -> str:
    """Send the member's most valuable due nudge if every rule allows it now; move the rest on. Returns what
    happened to the best one (a status, or "deferred")."""
    store: Store = core.store
    now = core.clock.now()
    audience = await Audience.load(store, workspace)
    settings = audience.settings_of(recipient)
    due = [n for n in await store.nudges.due_for(workspace, recipient, now) if n.status == PENDING]
    live: list[Nudge] = []
    for n in due:
        if stale(n.due_at, now):
            await store.nudges.change(n, status=EXPIRED)
        elif (not audience.present(recipient) or not settings.wants(n.kind)
              or (n.subject and not audience.present(n.subject))):
            await store.nudges.change(n, status=DROPPED)
        else:
            live.append(n)
    if not live:
        return DROPPED
    hours = audience.hours_of(recipient)
    live.sort(key=lambda n: (-n.value, n.deliver_at, n.id or 0))
    wait_until = None if allowed(now, hours, settings) else now
    if wait_until is None:
        wait_until = cap_frees_at(await store.nudges.sent_times(workspace, recipient, now - CAP_WINDOW), now,
                                  settings.cap)
    best, rest = live[0], live[1:]
    if wait_until is None:
        reply = await compose(core, audience, best, now)
        if reply is None:
            await store.nudges.change(best, status=DROPPED)
            return DROPPED

        async def send() -> bool:
            return bool(await core.outbound.send_direct(workspace, recipient, reply))

        # Keyed without deliver_at, so a nudge moved later is never sent twice; `run` (the ticker's claim) lets the
        # process that resumes the run send one its owner was cut off sending, as coffee rounds do.
        ok = await send_once(store.runs, f"nudge:{best.id}:{best.attempt}", recipient, now, send, run)
        if ok:
            core.activity.nudges_sent += 1
        await store.nudges.change(best, status=SENT if ok else FAILED, sent_at=now)
        # The daily cap now holds the others back; they compete again from the next free slot.
        wait_until = cap_frees_at([*await store.nudges.sent_times(workspace, recipient, now - CAP_WINDOW)],
                                  now, settings.cap) or now
        moved = rest
        outcome = SENT if ok else FAILED
    else:
        moved = live
        outcome = "deferred"
    later = next_allowed(wait_until, hours, settings)
    for n in moved:
        await store.nudges.change(n, **({"deliver_at": later} if later else {"status": DROPPED}))
    return outcome


@dataclass
class Delivery:
    """Every tick: one run per member with a due nudge, keyed by their most valuable one."""

    core: Core

    async def due(self, now: datetime) -> list[Due]:
        best: dict[tuple[str, str], Nudge] = {}
        for n in await self.core.store.nudges.due(now, DUE_LIMIT):
            key = (n.workspace, n.recipient)
            if key not in best or (-n.value, n.deliver_at, n.id or 0) < (
                    -best[key].value, best[key].deliver_at, best[key].id or 0):
                best[key] = n

        def run_for(n: Nudge) -> Due:
            key = f"nudge:{n.id}:{n.attempt}:{n.deliver_at.isoformat()}"

            async def run() -> None:
                await deliver_to(self.core, n.workspace, n.recipient, key)

            return Due(key, run)

        return [run_for(n) for n in best.values()]


def sources(core: Core) -> list[DueSource]:
    async def plan_for(workspace: str) -> None:
        added = await plan(core.store, workspace, core.clock.now())
        log.info("nudges: %d planned in %s", added, workspace)

    return [Daily("nudge-plan", core.store.graph.workspaces, plan_for), Delivery(core)]


# --- commands and buttons ---------------------------------------------------------------------------------------


def _is_id(value: str) -> bool:
    """A row id from one of our own buttons; anything else (a forged value) finds nothing, without int() on it."""
    return value.isascii() and value.isdigit() and len(value) <= 18


async def _own_nudge(ctx: Context, value: str) -> Nudge:
    nudge_id = value.split(":")[0]
    n = await ctx.store.nudges.get(int(nudge_id)) if _is_id(nudge_id) else None
    if n is None or n.workspace != ctx.workspace or n.recipient != ctx.user:
        raise UsageError("That nudge is no longer around.")
    return n


async def done_button(ctx: Context, value: str) -> Reply:
    n = await _own_nudge(ctx, value)
    await ctx.store.nudges.change(n, status=DONE)
    return Reply("Marked as done. Thank you!")


async def snooze_button(ctx: Context, value: str) -> Reply:
    n = await _own_nudge(ctx, value)
    delay = SNOOZES.get(value.partition(":")[2], SNOOZES["1"])
    until = ctx.clock.now() + delay
    await ctx.store.nudges.change(n, status=PENDING, deliver_at=until, due_at=until, attempt=n.attempt + 1)
    return Reply(f"I'll remind you again in {'a day' if delay.days == 1 else 'a week'} (within your working hours).")


async def mute_button(ctx: Context, value: str) -> Reply:
    n = await _own_nudge(ctx, value)
    settings = await ctx.store.nudges.settings(ctx.workspace, ctx.user)
    await ctx.store.nudges.save_settings(replace(settings, muted=settings.muted | {n.kind.value}))
    await ctx.store.nudges.change(n, status=DONE)
    return Reply(f"No more nudges about {n.kind.label}. `/rapport nudges on` turns them all back on.")


def _settings_lines(s: NudgeSettings, hours: Hours) -> tuple[str, ...]:
    return (
        "Nudges: " + ("on" if s.enabled else "off"),
        f"Delivered {hours.start:02d}:00-{hours.end:02d}:00 your time ({hours.tz}), "
        f"up to {s.cap} a week, at most one a day",
        "Quiet hours: " + (s.quiet or "none"),
        "Days off: " + describe_days(s.days_off),
        "Muted: " + (", ".join(Kind(k).label for k in sorted(s.muted)) or "none"),
    )


# One nudge as the member's list names it, with whom it concerns: a kind's label is a plural for settings ("no more
# nudges about unanswered questions"), and "about @Bob" read wrongly for most kinds ("thanks after an introduction
# about @Bob", when Bob made the introduction).
_ITEM = {
    Kind.FOLLOW_UP: "follow-up after your coffee with {}",
    Kind.THANKS: "thank {} for an introduction",
    Kind.UNANSWERED: "unanswered question from {}",
    Kind.COOLING: "reconnect with {}",
    Kind.STAGE: "new stage with {}",
    Kind.ASK_BACK: "ask {} a question back",
}


def _nudge_line(n: Nudge, hours: Hours) -> str:
    what = _ITEM[n.kind].format(f"<@{n.subject}>") if n.subject else n.kind.label
    when = n.sent_at if n.status != PENDING and n.sent_at else n.deliver_at
    local = when.astimezone(hours.zone).strftime("%a %d %b %H:%M")
    return f"{what}: {n.status} ({local})"


async def nudges_command(ctx: Context, args: Args) -> Reply:
    store, ws = ctx.store, ctx.workspace
    word = (args.optional_word() or "").lower()
    settings = await store.nudges.settings(ws, ctx.user)
    if word in ("on", "off"):
        args.done()
        await store.nudges.save_settings(replace(settings, enabled=word == "on",
                                                 muted=frozenset() if word == "on" else settings.muted))
        return Reply("Nudges are on." if word == "on" else "Nudges are off: I won't send you any.")
    if word == "quiet":
        text = args.rest()
        try:
            quiet = parse_quiet(text)
        except ValueError:
            raise UsageError("Write quiet hours like `22:00-08:00` (times from 00:00 to 23:59), or `off`.") from None
        start, end = quiet or (None, None)
        changed = replace(settings, quiet_start=start, quiet_end=end)
        hours = (await Audience.load(store, ws)).hours_of(ctx.user)
        if next_allowed(ctx.clock.now(), hours, changed) is None:  # as good as off, but would still read "on"
            raise UsageError(f"Those quiet hours cover all of your working hours ({hours.start:02d}:00-"
                             f"{hours.end:02d}:00, {hours.tz}), so no nudge could ever reach you. "
                             "To have none, say `/rapport nudges off`.")
        await store.nudges.save_settings(changed)
        # Said back as stored ("22-8" is 22:00-08:00), so the member sees how it was read.
        return Reply(f"Quiet hours: {changed.quiet or 'none'}.")
    if word == "cap":
        number = args.word("a number of nudges a week")
        args.done()
        try:
            cap = whole_number(number, 1, MAX_CAP, "a number of nudges a week")
        except UsageError as error:
            raise UsageError(f"{error} To have none, say `/rapport nudges off`.") from None
        await store.nudges.save_settings(replace(settings, cap=cap))
        return Reply(f"At most {plural(cap, 'nudge')} a week.")
    if word == "days":
        try:
            days = parse_days(args.rest().split())
        except ValueError:
            raise UsageError("Name your days off like `sat sun`, or `none`.") from None
        await store.nudges.save_settings(replace(settings, days_off=days))
        return Reply(f"Days off: {describe_days(days)}.")
    if word:
        raise UsageError(f"I did not understand `{word}`.")
    audience = await Audience.load(store, ws)
    hours = audience.hours_of(ctx.user)
    mine = await store.nudges.recent(ws, ctx.user, 10)
    pending = tuple(_nudge_line(n, hours) for n in mine if n.status == PENDING) or ("none",)
    recent = tuple(_nudge_line(n, hours) for n in mine if n.status != PENDING) or ("none",)
    return Reply("*Your nudges*", (Section("Settings", _settings_lines(settings, hours)),
                                   Section("Pending", pending), Section("Recent", recent)))


# The top-level label is letters, or punycode for a non-Latin one (".テスト" is "xn--zckzah" once encoded).
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\.?$")


def valid_url(text: str) -> str:
    """A link to share, whole: a host with a domain ("https://exa" is what is left of "https://exa mple.com")."""
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise UsageError("Give a web link starting with http:// or https://.") from None
    if (len(text) > URL_MAX or parts.scheme.lower() not in ("http", "https") or not host
            or any(c.isspace() or c in "<>|" for c in text)):
        raise UsageError("Give a web link starting with http:// or https://.")
    if not (_HOST.match(host) or _is_ip(host)):
        raise UsageError(f"`{text}` is not a whole web address (links cannot contain spaces). "
                         "Paste the link as one word, then your note.")
    return text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def share_command(ctx: Context, args: Args) -> Reply:
    other = args.user()
    url = valid_url(args.word("a link (http:// or https://)"))
    note = args.rest().strip()
    if other == ctx.user:
        raise UsageError("That is you! Share it with a colleague.")
    if not note:
        raise UsageError("Add a note on why it is worth reading for them.")
    if len(note) > NOTE_MAX:
        raise UsageError(f"Keep the note under {NOTE_MAX} characters.")
    await ctx.require_member(other)
    message = Reply(f"<@{ctx.user}> shared something with you:\n{url}\n_Why it is worth reading for you:_ "
                    f"{shown(note)}", ephemeral=False)
    if not await ctx.outbound.send_direct(ctx.workspace, other, message):
        return Reply(f"I could not reach <@{other}>; nothing was sent.")
    untracked = await ctx.store.privacy.untracked(ctx.workspace)
    if not {member_hash(ctx.workspace, ctx.user), member_hash(ctx.workspace, other)} & untracked:
        await ctx.store.nudges.record_share(ctx.workspace, ctx.user, other, ctx.clock.now())
    return Reply(f"Sent {url} to <@{other}> with your note. (I keep only that you shared, never the link or the "
                 "note.)")


def register(router: Router) -> None:
    router.command("nudges", "nudges [on | off | quiet 22:00-08:00 | cap 3 | days sat sun]",
                   "your pending and recent nudges, and when you get them")(nudges_command)
    router.command("share", "share @someone URL note",
                   "send someone a link with a note on why it is worth reading for them")(share_command)
    router.action("nudge:done")(done_button)
    router.action("nudge:snooze")(snooze_button)
    router.action("nudge:mute")(mute_button)
