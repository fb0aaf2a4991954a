"""`/rapport status`: what Rapport is doing here, for you. Adapters add what their platform hides from it."""

from __future__ import annotations

from bot.commands import Args, Context, Router
from bot.graph.rapport import assess
from bot.replies import Reply, Section


async def status(ctx: Context, args: Args) -> Reply:
    args.done()
    now = ctx.clock.now()
    untracked = not await ctx.tracked()
    pairs = [assess(s, now) for s in await ctx.store.graph.pair_stats(ctx.workspace, now, user=ctx.user)]
    days = await ctx.store.privacy.retention_days(ctx.workspace)
    lines = (
        "Tracking: paused for you (`/rapport resume-tracking` to start again)." if untracked
        else "Tracking: on. Rapport notices who asks whom and when, never what is said.",
        f"Relationships Rapport knows for you: {len(pairs)} "
        f"({sum(1 for a in pairs if a.cooling)} going quiet).",
        f"Contact history is kept for {days} days.",
    )
    return Reply("*Rapport status*", (Section("Here", lines),))


def register(router: Router) -> None:
    router.command("status", "status", "what Rapport is doing here, and what it cannot see")(status)
