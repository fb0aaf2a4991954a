"""A member's own page (Slack's App Home): their relationships, profile, coffee and nudges on one screen."""

from __future__ import annotations

from bot.commands import Context, Router
from bot.profiles.profiles import time_zone_of
from bot.relationships import MAP_ACTION
from bot.replies import Button, Reply, Section

# Subcommands whose answers make up the page, in order; each needs no argument.
PARTS = (("me", "Your relationships"), ("profile show", "Your profile"), ("nudges", "Your nudges"))


async def coffee_lines(ctx: Context) -> tuple[str, ...]:
    lines = []
    for settings in await ctx.store.coffee.channels(ctx.workspace):
        membership = await ctx.store.coffee.membership(ctx.workspace, settings.channel, ctx.user)
        if membership is None:
            continue
        due = settings.next_run_at
        if due is None:
            state = "rounds are stopped"
        elif membership.is_paused(due):
            until = membership.paused_until_day(await time_zone_of(ctx.store, ctx.workspace, ctx.user))
            state = "paused" + (f" until {until.isoformat()}" if until else "")
        else:
            state = "sitting out the next round" if membership.skip_at == due else "in for the next round"
        lines.append(f"<#{settings.channel}>: {state}")
    return tuple(lines) or ("Not in any coffee yet: `/rapport coffee join` in a channel that has it.",)


async def home(router: Router, ctx: Context) -> Reply:
    sections: list[Section] = []
    for command, title in PARTS:
        reply = await router.dispatch(ctx, command)
        lead = reply.text.strip("*").strip()
        sections.append(Section(title, (lead,) if lead and lead.lower() != title.lower() else ()))
        sections.extend(reply.sections)
        if command == "profile show":
            sections.append(Section("Virtual coffee", await coffee_lines(ctx)))
    # The page's one button: the map, drawn only when asked (a picture per page view would cost every visit).
    return Reply("*Rapport: your page*", tuple(sections), buttons=(Button("See my map", MAP_ACTION),))
