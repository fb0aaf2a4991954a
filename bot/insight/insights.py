"""`/rapport insights`: the aggregate figures for workspace admins, and for channel managers about their channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.commands import Args, Context, Refused, Router
from bot.insight.figures import ACTED_WITHIN, FEWER, MONTHS, SMALL, Insights, Monthly, Rate, insights
from bot.insight.teams import TeamTies, team_ties
from bot.ports import Store
from bot.replies import Reply, Section
from bot.text import shown

_STAGE_NAMES = {"trusted_advisor": "trusted advisor", "peers": "peers", "acquaintance": "acquaintance",
                "talking": "talking"}


def _trend(series: tuple[Monthly, ...]) -> str:
    return ", ".join(f"{m.month}: {m.count.shown()}" for m in series)


def _acted(sent: Monthly, acted: Monthly) -> str:
    share = Rate(acted.count.value, sent.count.value)
    # A share only over at least SMALL nudges, as every rate in the figures (Rate.shown), and never beside counts
    # hidden because they are about fewer than SMALL people: the share would tell what the counts hide.
    return f"{sent.month}: {acted.count.shown()} of {sent.count.shown()}" + (
        f" ({share.shown()})" if sent.count.value >= SMALL and not sent.count.hidden else "")


def team_lines(teams: TeamTies) -> tuple[str, ...]:
    """The team x team table, one line per pair of teams with a tie (zero cells are left out)."""
    # Team names are typed by members (`coffee join team NAME`): shown inert, never a ping, link or name tag.
    lines = [f"{shown(name)}: {members.shown()} members, {teams.between(name, name).shown()} pairs with a tie "
             "within" for name, members in teams.teams]
    # Only pairs of teams of at least SMALL people: for a smaller team, being listed at all ("fewer than 5") would
    # tell that it has a tie with the other team, and being left out that it has none.
    lines += [f"{shown(a)} and {shown(b)}: {count.shown()} pairs with a tie" for a, b, count in teams.ties
              if a != b and not count.about_few]
    if any(members.hidden for _, members in teams.teams) and len(teams.teams) > 1:
        lines.append(f"Ties between a team of {FEWER} people and another team are not shown.")
    return tuple(lines)


def sections(figures: Insights, teams: TeamTies | None = None) -> tuple[Section, ...]:
    people = Section("People", (
        f"Members Rapport knows: {figures.members.shown()}",
        f"Opted in (not paused): {figures.opted_in.shown()}",
        f"With no tie at all yet: {figures.no_tie.shown()}",
    ))
    ties = Section("Ties", (
        *(f"Pairs at {_STAGE_NAMES[stage.value]}: {count.shown()}" for stage, count in figures.pairs),
        f"New ties per month (last {MONTHS}): {_trend(figures.new_ties)}",
    ))
    out = [people, ties]
    if teams is not None and figures.channel is None:
        out.append(Section("Teams", team_lines(teams)))
    if figures.coffee_members is not None:
        out.append(Section("Coffee", (
            f"Members taking part: {figures.coffee_members.shown()}",
            f"Groups matched (last {MONTHS} months): {figures.coffee_groups.shown()}",
            f"Groups that met (from check-ins): {figures.met.shown()}",
            f"Groups that brought together people with no tie before: {figures.first_contacts.shown()}",
        )))
    if figures.channel is None:
        acted = ", ".join(_acted(sent, done) for sent, done in zip(figures.nudges, figures.nudges_acted, strict=True))
        out.append(Section("Nudges", (
            f"Sent per month: {_trend(figures.nudges)}",
            f"Acted on per month (marked done, or in touch with the person it was about within "
            f"{ACTED_WITHIN.days} days): {acted}",
        )))
    missing = list(figures.missing)
    if teams is None and figures.channel is None:
        missing.append("no teams are named (members name theirs with `/rapport coffee join team NAME`; on Slack, "
                       "user groups count as teams once Rapport may read them: the usergroups:read scope)")
    if missing:
        out.append(Section("Not measured", tuple(f"{gap[0].upper()}{gap[1:]}." for gap in missing)))
    return tuple(out)


async def workspace_insights(store: Store, workspace: str, now: datetime,
                             groups: Mapping[str, frozenset[str]] | None = None) -> tuple[Insights, TeamTies | None]:
    """The figures and the team table (teams from coffee, and the platform's user `groups`), from one read of the
    workspace's pairs."""
    pairs = await store.graph.pair_summaries(workspace)
    return (await insights(store, workspace, now, pairs=pairs),
            await team_ties(store, workspace, now, pairs, groups))


def title(figures: Insights) -> str:
    where = f"<#{figures.channel}>'s coffee members" if figures.channel else "this workspace"
    return f"*Insights for {where}*: totals only, no names; figures under {SMALL} read \"{FEWER}\"."


async def insights_command(ctx: Context, args: Args) -> Reply:
    channel = args.channel()
    args.done()
    if ctx.is_admin and channel is None:
        figures, teams = await workspace_insights(ctx.store, ctx.workspace, ctx.clock.now(),
                                                  await ctx.outbound.user_groups(ctx.workspace))
        return Reply(title(figures), sections(figures, teams))
    else:
        channel = channel or ctx.channel
        if not await ctx.manages(channel):
            raise Refused("Insights are for workspace admins, and for channel managers about their own channel. "
                          "Ask one of them, or see your own ties with `/rapport me`.")
        figures = await insights(ctx.store, ctx.workspace, ctx.clock.now(), channel)
    return Reply(title(figures), sections(figures))


def register(router: Router) -> None:
    router.command("insights", "insights [#channel]",
                   "totals for leads, no names (admins; channel managers for their channel)")(insights_command)
