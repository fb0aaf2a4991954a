"""A member's view of the graph: `/rapport me` (all their relationships) and `/rapport with @someone`."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.commands import Args, Context, Router, UsageError
from bot.graph.rapport import Assessment, PairStats, Stage, assess
from bot.insight.drawing import own_map_png
from bot.insight.own_map import own_map
from bot.replies import Attachment, Button, Reply, Section

MAP_ACTION = "me:map"
HOW_TIES_FORM = ("Ties form when people ask each other questions and answer them: "
                 "ask a colleague something about their work, and your map starts to grow.")

_STAGE_TITLES = {
    Stage.TRUSTED_ADVISOR: "Trusted advisors",
    Stage.PEERS: "Peers",
    Stage.ACQUAINTANCE: "Acquaintances",
    Stage.TALKING: "Talking",
}


def _questions(n: int) -> str:
    return f"{n} question" + ("" if n == 1 else "s")


def _answered(who: str, answered: int, asked: int) -> str:
    # "they answered 0" reads like a score: say the question is still open.
    if answered:
        return f"{who} answered {answered}"
    return f"{who} have not answered {'it' if asked == 1 else 'any'} yet"


def _ago(then: datetime, now: datetime) -> str:
    days = (now - then).days
    return "today" if days < 1 else "yesterday" if days == 1 else f"{days} days ago"


def describe_stage(a: Assessment, user: str) -> str:
    other = a.stats.other(user)
    if a.stage is Stage.TRUSTED_ADVISOR:
        return f"<@{other}> is your trusted advisor" if a.advisor == other else (
            f"you are <@{other}>'s trusted advisor"
        )
    if a.stage is Stage.STRANGERS:
        return f"you and <@{other}> have not been in touch yet"
    return f"you and <@{other}> are {a.stage.label if a.stage is not Stage.ACQUAINTANCE else 'acquaintances'}"


def explain(a: Assessment, user: str, now: datetime) -> list[str]:
    """Why the pair stands where it does, in the member's own terms."""
    other = a.stats.other(user)
    asked, answered, asked_back, answered_back = a.stats.seen_from(user)
    lines = []
    if asked:
        lines.append(f"You asked <@{other}> {_questions(asked)}; {_answered('they', answered, asked)}.")
    else:
        lines.append(f"You have not asked <@{other}> a question yet.")
    if asked_back:
        lines.append(f"<@{other}> asked you {_questions(asked_back)}; {_answered('you', answered_back, asked_back)}.")
    else:
        lines.append(f"<@{other}> has not asked you one yet.")
    if a.stats.last_contact:
        lines.append(f"Last contact {_ago(a.stats.last_contact, now)}.")
    if a.cooling:
        lines.append("It has gone quiet for longer than usual between you two: a good moment to reach out.")
    return lines


def next_step(a: Assessment, user: str) -> str:
    other = a.stats.other(user)
    _, answered, _, _ = a.stats.seen_from(user)
    if a.stage in (Stage.STRANGERS, Stage.TALKING):
        return f"Ask <@{other}> a question about their work: people warm to those who are interested in them."
    if a.stage is Stage.ACQUAINTANCE and not answered:
        return f"<@{other}> comes to you with questions. Ask them one back: that is how peers start."
    if a.stage is Stage.ACQUAINTANCE:
        return f"You ask and <@{other}> answers. Offer help in return when you see the chance."
    if a.cooling:
        return f"It has gone quiet: send <@{other}> a short note, or something useful you came across."
    return f"Keep it up: share something useful with <@{other}> now and then."


async def my_map(ctx: Context) -> Reply:
    """The member's own ties as a picture, for them alone (never a tie between two other people)."""
    picture = await own_map(ctx.store, ctx.workspace, ctx.user, ctx.clock.now())
    # Drawing takes a fraction of a second of CPU: off the event loop, so other members' events keep flowing.
    png = await asyncio.to_thread(own_map_png, picture)
    text = "*Your map*: you at the centre, the closer the tie the nearer." if picture.ties else (
        f"*Your map* is empty for now. {HOW_TIES_FORM}")
    return Reply(text, attachment=Attachment(f"rapport-map-{ctx.workspace}-{ctx.user}.png", png))


async def me(ctx: Context, args: Args) -> Reply:
    if args.tokens and args.tokens[0].lower() == "map":
        args.word("map")
        args.done()
        return await my_map(ctx)
    args.done()
    now = ctx.clock.now()
    pairs = [assess(s, now) for s in await ctx.store.graph.pair_stats(ctx.workspace, now, user=ctx.user)]
    see_it = (Button("See it as a picture", MAP_ACTION),)
    # Paused (or erased), asking colleagues changes nothing here: say so rather than urge them on.
    paused = "" if await ctx.tracked() else (
        "\nTracking is paused for you: nothing new is recorded until `/rapport resume-tracking`.")
    if not pairs:
        return Reply("Rapport has not seen you talk with anyone yet." + (paused or " Ask a colleague a question!"),
                     buttons=see_it)
    by_stage: dict[Stage, list[str]] = {}
    for a in sorted(pairs, key=lambda a: (-a.stage.rank, a.stats.last_contact or now), reverse=False):
        other = a.stats.other(ctx.user)
        notes = []
        if a.stage is Stage.TRUSTED_ADVISOR:
            notes.append("advises you" if a.advisor == other else "you advise them")
        if a.cooling:
            notes.append("going quiet")
        by_stage.setdefault(a.stage, []).append(f"<@{other}>" + (f" ({', '.join(notes)})" if notes else ""))
    sections = tuple(
        Section(f"{_STAGE_TITLES[stage]} ({len(by_stage[stage])})", tuple(by_stage[stage]))
        for stage in _STAGE_TITLES
        if stage in by_stage
    )
    return Reply("*Your relationships*" + paused, sections, buttons=see_it)


async def with_(ctx: Context, args: Args) -> Reply:
    other = args.user()
    args.done()
    if other == ctx.user:
        raise UsageError("That is you! Try someone else.")
    if await ctx.store.members.get(ctx.workspace, other) is None:
        raise UsageError(f"I don't know <@{other}> in this workspace yet.")
    now = ctx.clock.now()
    found = [
        s for s in await ctx.store.graph.pair_stats(ctx.workspace, now, user=ctx.user)
        if other in (s.a, s.b)
    ]
    a, b = sorted((ctx.user, other))
    assessment = assess(found[0] if found else PairStats(ctx.workspace, a, b), now)
    return Reply(
        describe_stage(assessment, ctx.user)[0].upper() + describe_stage(assessment, ctx.user)[1:] + ".",
        (Section("Why", tuple(explain(assessment, ctx.user, now))),
         Section("Next step", (next_step(assessment, ctx.user),))),
    )


def register(router: Router) -> None:
    router.command("me", "me [map]", "your relationships by stage; `map` draws them as a picture")(me)

    @router.action(MAP_ACTION)
    async def map_pressed(ctx: Context, _value: str) -> Reply:
        return await my_map(ctx)
    router.command("with", "with @someone", "where you stand with one person, and why")(with_)
