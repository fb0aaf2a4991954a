"""Members own their data: what Rapport records, see / export / erase, pausing, and history retention.

What is recorded: who asked whom, when, whether it was answered; who was in contact with whom, when. Never what
was said. An erased member is deleted from every table (each repository with member data implements
bot.ports.PersonalData) and only a one-way hash remains so that they are not tracked again; resuming tracking
removes it. Pausing keeps what exists but records nothing new about them until they resume.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.commands import Args, Context, Router, whole_number
from bot.core import Core
from bot.domain.members import member_hash
from bot.graph.rapport import assess
from bot.insight.figures import WHAT_LEADS_SEE
from bot.ports import Store
from bot.replies import Attachment, Button, Reply, Section, plural
from bot.scheduling import Daily, DueSource, send_once

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 365
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650  # ten years; "keep forever" is not a retention
# Whom a message spoke to is kept for ranking the replies to it, which come within an hour (HORIZON); a day allows
# for a backlog delivered late.
ADDRESSING_KEPT = timedelta(days=1)
# A delivery row (who a run's message went to; for nudges a member id) is needed while its run can still resume,
# hours; kept no longer than the shortest retention, so no member id outlives it there.
DELIVERIES_KEPT = timedelta(days=MIN_RETENTION_DAYS)

WHAT_WE_RECORD = (
    "Rapport records *who asks whom and when*, whether a question got an answer, and who was in contact with "
    "whom: ids, times and counts. *It never stores what anyone wrote.* Your profile holds only what you typed "
    "into it. Members of this workspace see your profile and their own relationship with you; nobody sees your "
    "relationships with others, and your map (`/rapport me map`) shows only your own ties. Admins see only "
    "counts. Where a channel runs virtual coffee, whoever manages it "
    "sees who was grouped with whom, why (shared working hours, interests, teams) and the check-in answers, never "
    "where two people stand with each other."
)


def channel_notice() -> Reply:
    return Reply(
        "Hi! I'm Rapport. In this channel I notice *who asks whom and when*, and whether questions get answered, "
        "to help people here get to know each other. I never store what anyone writes. "
        "`/rapport privacy` shows what I know about you and can export or erase it; "
        "`/rapport pause-tracking` stops me noticing you.",
        ephemeral=False,
    )


async def announce_joined(store: Store, outbound: Any, workspace: str, channel: str, now: datetime) -> bool:
    """Say once per channel, however many processes or rejoins, what Rapport records there."""

    async def send() -> bool:
        return bool(await outbound.send_channel(workspace, channel, channel_notice()))

    return await send_once(store.runs, f"joined:{workspace}:{channel}", channel, now, send)


async def export(store: Store, workspace: str, user: str, now: datetime) -> dict[str, Any]:
    """Everything Rapport knows about one member, as a JSON-ready document."""
    document: dict[str, Any] = {"workspace": workspace, "user": user, "exported_at": now.isoformat()}
    pairs = [assess(s, now) for s in await store.graph.pair_stats(workspace, now, user=user)]
    document["relationships"] = [{
        "with": a.stats.other(user), "stage": a.stage.value, "advisor": a.advisor, "cooling": a.cooling,
        "you_asked": a.stats.seen_from(user)[0], "they_answered": a.stats.seen_from(user)[1],
        "they_asked": a.stats.seen_from(user)[2], "you_answered": a.stats.seen_from(user)[3],
        "last_contact": a.stats.last_contact.isoformat() if a.stats.last_contact else None,
    } for a in pairs]
    for repo in store.personal:
        document.update(await repo.export_member(workspace, user))
    return document


def graph_export(user: str, questions: Iterable[Any], contacts: Iterable[Any]) -> dict[str, Any]:
    """A member's questions and contacts as the export shows them, from any store's rows (the same field names):
    one shape for the SQL store and the in-memory one."""
    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "questions": [{
            "direction": "asked" if q.asker == user else "received",
            "other": q.addressee if q.asker == user else q.asker,
            "message_id": q.message_id, "channel": q.channel,
            "asked_at": iso(q.asked_at), "answered_at": iso(q.answered_at),
        } for q in questions],
        "contacts": [{
            "direction": "from" if c.source == user else "to",
            "other": c.target if c.source == user else c.source,
            "message_id": c.message_id, "kind": c.kind, "at": iso(c.at),
        } for c in contacts],
    }


def messages_export(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """What is kept of a member's messages, from any store's rows (the same field names): where and when, what it
    replied to or sat in, whether it was a question. There is no text to show: none is kept."""
    return [{"message_id": m.message_id, "channel": m.channel, "at": m.at.isoformat(), "thread_id": m.thread_id,
             "reply_to": m.reply_to, "is_question": m.is_question} for m in messages]


def vectors_export(by_matcher: dict[str, dict[str, bytes]]) -> list[dict[str, Any]]:
    """The numbers a matcher made of a member's interest phrases (one list of floats a phrase: derived from what they
    typed, so theirs to see), from any store: per matcher, in the stored order."""
    return [{"matcher": matcher, "vectors": {phrase: [round(float(x), 6) for x in np.frombuffer(blob, "<f4")]
                                             for phrase, blob in found.items()}}
            for matcher, found in sorted(by_matcher.items()) if found]


def stores_anything(document: dict[str, Any]) -> bool:
    """Whether an export holds anything about the member (settings are always there, as defaults)."""
    return any(value not in (None, 0, "", [], {}) for key, value in document.items()
               if key not in ("workspace", "user", "exported_at", "nudge_settings"))


def summary(document: dict[str, Any]) -> list[str]:
    """The see-summary: one line per kind of data in the export."""
    lines = []
    for key, value in document.items():
        if key in ("workspace", "user", "exported_at"):
            continue
        if isinstance(value, list):
            lines.append(f"{key.replace('_', ' ')}: {len(value)}")
        elif isinstance(value, dict):
            filled = sum(1 for v in value.values() if v not in (None, "", [], {}))
            lines.append(f"{key.replace('_', ' ')}: {filled} item{'s' if filled != 1 else ''}")
        elif value is None:
            lines.append(f"{key.replace('_', ' ')}: none")
        else:
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return lines


async def erase(store: Store, workspace: str, user: str, now: datetime) -> int:
    """Delete the member from every table, stop tracking them, and scrub the deleted bytes."""
    removed = 0
    for repo in store.personal:
        removed += await repo.erase_member(workspace, user)
    await store.privacy.forget_forever(workspace, member_hash(workspace, user), now)
    await store.privacy.scrub()
    return removed


async def erase_workspace(store: Store, workspace: str) -> int:
    """The app was removed from a workspace: its data goes too (Slack's and Discord's terms ask for it)."""
    removed = await store.privacy.forget_workspace(workspace)
    await store.privacy.scrub()
    log.info("workspace %s removed: %d records erased", workspace, removed)
    return removed


async def privacy(ctx: Context, args: Args) -> Reply:
    args.done()
    return Reply(WHAT_WE_RECORD, (Section("What leads see", (WHAT_LEADS_SEE,)),), buttons=(
        Button("See what is stored", "privacy:see"),
        Button("Export (JSON)", "privacy:export"),
        Button("Erase everything", "privacy:erase", style="danger"),
    ))


async def see(ctx: Context, _value: str) -> Reply:
    document = await export(ctx.store, ctx.workspace, ctx.user, ctx.clock.now())
    return Reply("*What Rapport stores about you*", (Section("Stored", tuple(summary(document))),))


async def export_file(ctx: Context, _value: str) -> Reply:
    document = await export(ctx.store, ctx.workspace, ctx.user, ctx.clock.now())
    content = json.dumps(document, indent=2, sort_keys=True).encode()
    return Reply("Here is everything Rapport stores about you.",
                 attachment=Attachment(f"rapport-{ctx.workspace}-{ctx.user}.json", content))


async def erase_ask(ctx: Context, _value: str) -> Reply:
    return Reply(
        "Erase everything Rapport knows about you? Your profile, pairings, nudges, settings and every "
        "relationship record that involves you are deleted, for others too, and Rapport stops tracking you. "
        "This cannot be undone.",
        buttons=(Button("Yes, erase it all", "privacy:erase-confirm", style="danger"),
                 Button("Cancel", "privacy:cancel")),
    )


async def erase_confirm(ctx: Context, _value: str) -> Reply:
    removed = await erase(ctx.store, ctx.workspace, ctx.user, ctx.clock.now())
    return Reply(f"Done: I erased {plural(removed, 'record')} about you, and Rapport no longer tracks you. "
                 "`/rapport resume-tracking` starts again from nothing if you ever want to.")


async def cancel(ctx: Context, _value: str) -> Reply:
    return Reply("Nothing was erased.")


async def pause_tracking(ctx: Context, args: Args) -> Reply:
    args.done()
    await ctx.store.privacy.pause(ctx.workspace, ctx.user, ctx.clock.now())
    return Reply("Paused: Rapport records nothing new about you until `/rapport resume-tracking`. "
                 "What it already knows stays; `/rapport privacy` can erase it.")


async def resume_tracking(ctx: Context, args: Args) -> Reply:
    args.done()
    if await ctx.tracked():
        return Reply("Tracking is already on for you: Rapport notices who you ask and answer (never what you "
                     "write). `/rapport pause-tracking` stops it.")
    await ctx.store.privacy.resume(ctx.workspace, ctx.user)
    return Reply("Welcome back: Rapport notices who you ask and answer again (never what you write).")


async def retention(ctx: Context, args: Args) -> Reply:
    days_text = args.optional_word()
    args.done()
    if days_text is None:
        days = await ctx.store.privacy.retention_days(ctx.workspace)
        return Reply(f"Contact history is kept for {days} days; older detail is deleted every day.")
    ctx.require_admin()
    days = whole_number(days_text, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS, "a number of days")
    await ctx.store.privacy.set_retention_days(ctx.workspace, days)
    return Reply(f"Contact history is now kept for {days} days.", ephemeral=False)


async def expire(store: Store, workspace: str, now: datetime, days: int) -> int:
    """`days` is the workspace's retention, read by the caller: the import prints the very value it deleted by."""
    removed = await store.privacy.expire_history(workspace, now - timedelta(days=days))
    # Deliveries name no workspace, so every workspace's pass clears all old ones; not counted as this one's.
    if forgotten := await store.runs.forget_deliveries(now - DELIVERIES_KEPT):
        log.info("retention: %d deliveries older than %s deleted", forgotten, DELIVERIES_KEPT)
    return removed + await store.graph.expire_addressing(workspace, now - ADDRESSING_KEPT)


def sources(core: Core) -> list[DueSource]:
    async def expire_in(workspace: str) -> None:
        days = await core.store.privacy.retention_days(workspace)
        removed = await expire(core.store, workspace, core.clock.now(), days)
        log.info("retention: %d old records deleted in %s", removed, workspace)

    return [Daily("retention", core.store.graph.workspaces, expire_in)]


def register(router: Router) -> None:
    router.command("privacy", "privacy", "what Rapport records about you; see, export or erase it")(privacy)
    router.command("pause-tracking", "pause-tracking", "stop being observed (nothing is erased)")(pause_tracking)
    router.command("resume-tracking", "resume-tracking", "be observed again")(resume_tracking)
    router.command("retention", "retention [DAYS]", "how long contact history is kept (admins set it)")(retention)
    router.action("privacy:see")(see)
    router.action("privacy:export")(export_file)
    router.action("privacy:erase")(erase_ask)
    router.action("privacy:erase-confirm")(erase_confirm)
    router.action("privacy:cancel")(cancel)
