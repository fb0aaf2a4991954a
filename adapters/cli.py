"""`rapport`: run the bot, open the console workspace, import history, look at the graph, manage the database."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from adapters import PlatformError
from adapters.bootstrap import bootstrap
from adapters.console.workspace import WorkspaceFileError
from adapters.settings import load_settings, wrong_settings
from bot.app import Rapport
from bot.events import MembersSeen
from bot.graph.rapport import assess
from bot.insight.drawing import team_grid, team_map
from bot.insight.insights import sections, title, workspace_insights
from bot.insight.report import report_html
from bot.insight.teams import team_ties
from bot.intake.ingest import History, ingest_history, name_index
from bot.ports import Clock
from bot.replies import plural
from storage.engine import DatabaseUnavailable
from storage.sealing import ConfigurationError

app = typer.Typer(help="Rapport: helps remote teams build real rapport.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
import_app = typer.Typer(help="Import chat history so the graph starts from what really happened.")
member_app = typer.Typer(help="One member's data, for operators: export or erase it.")
db_app = typer.Typer(help="The database schema.")
discord_app = typer.Typer(help="The Discord application's commands.")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(member_app, name="member")
app.add_typer(discord_app, name="discord")

# No markup: what is printed holds names, ids and phrases people chose ("[/x]" would end in a MarkupError, "[red]"
# would vanish), and the graph's own " [cooling]" with them.
out = Console(markup=False)
err = Console(stderr=True, markup=False)
T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(Text.assemble(("error:", "red"), f" {message}"), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning the failures a user can fix into one clear line."""
    try:
        return asyncio.run(main)
    except DatabaseUnavailable as error:
        raise fail(str(error)) from None
    except (PlatformError, ConfigurationError, WorkspaceFileError) as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


async def with_core(use: Callable[[Rapport], Awaitable[T]], clock: Clock | None = None) -> T:
    core = await bootstrap(load_settings(), clock)
    try:
        return await use(core)
    finally:
        await core.store.close()


def _version(show: bool) -> None:
    if show:
        out.print(f"rapport {metadata.version('rapport')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show Rapport's version and exit.")] = False,
) -> None:
    """Rapport: helps remote teams build real rapport."""
    from pydantic import ValidationError

    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings

    # Read once here, before any command: commands read them at many points, and one wrong value (RAPPORT_PORT=abc)
    # would otherwise end whichever reads it first in a pydantic traceback.
    try:
        for read in (load_settings, SlackSettings, DiscordSettings):
            read()
    except ValidationError as error:
        raise fail(wrong_settings(error)) from None


def console_workspace(option: Path | None) -> Path | None:
    """The console's workspace file: the command line's, else RAPPORT_CONSOLE_WORKSPACE, else the built-in five."""
    if option is not None:
        return option
    configured = load_settings().console_workspace.strip()
    return Path(configured) if configured else None


def script_lines(script: Path | None) -> list[str] | None:
    """The console's script: the file's lines, else stdin's when stdin is not a terminal; None to read the terminal."""
    try:
        if script is not None:
            return script.read_text(encoding="utf-8").splitlines()
        return None if sys.stdin.isatty() else sys.stdin.read().splitlines()
    except OSError as error:
        raise fail(f"cannot read the script {script}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"cannot read the script {script or '(stdin)'}: it is not UTF-8 text") from None


@app.command()
def console(
    workspace_file: Annotated[Path | None, typer.Option(
        help="JSON file describing members and channels (default: RAPPORT_CONSOLE_WORKSPACE).")] = None,
    script: Annotated[Path | None, typer.Option(help="Read actions from this file instead of the terminal.")] = None,
) -> None:
    """A local chat workspace in the terminal. Reads a script from stdin when stdin is not a terminal."""
    from adapters.console.terminal import run_console

    run(run_console(console_workspace(workspace_file), script_lines(script)))


@app.command(name="run")
def run_bot() -> None:
    """Run Rapport on the platforms configured in the environment (.env); the console workspace if none is."""
    from adapters.console.terminal import run_console
    from adapters.platforms import configured_platforms, run_platforms

    if not configured_platforms():
        if load_settings().env == "production":  # the demo would write its workspace into the real database
            raise fail("RAPPORT_ENV=production but no platform is configured: set SLACK_BOT_TOKEN (or "
                       "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) or DISCORD_BOT_TOKEN")
        err.print("No Slack or Discord settings found: starting the console workspace (see README to connect).")
        run(run_console(console_workspace(None), script_lines(None)))
        return
    run(run_platforms())


@discord_app.command(name="sync")
def discord_sync() -> None:
    """Register /rapport and /rapport-admin with Discord now. `rapport run` does it only when they changed."""
    from adapters.discord.bot import sync_commands
    from adapters.discord.settings import DiscordSettings

    settings = DiscordSettings()
    where = run(with_core(lambda core: sync_commands(core, settings)))
    typer.echo(f"Discord commands registered {where}.")


def _import(read: Callable[[Path, str | None], History], path: Path, workspace: str | None) -> None:
    if workspace is not None and not workspace.strip():  # an unset shell variable: Discord's would store under ""
        raise fail("--workspace is empty: give the workspace id, or leave it out to use the export's")
    if not path.exists():
        raise fail(f"{path} does not exist")
    try:
        history = read(path, workspace)
    except ValueError as error:
        raise fail(str(error)) from None

    from bot.privacy.privacy import expire

    async def ingest(core: Rapport) -> None:
        await core.on_members_seen(MembersSeen(tuple(history.members)))
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err) as progress:
            task = progress.add_task("messages", total=len(history.events))
            report = await ingest_history(core.store, history.events, name_index(history.members),
                                          progress=lambda n: progress.advance(task, n),
                                          untracked=await core.store.privacy.untracked(history.workspace))
        # What is older than the workspace's retention goes now, as the running bot's daily pass would delete it:
        # an import run from the command line alone must not keep it for good.
        days = await core.store.privacy.retention_days(history.workspace)
        expired = await expire(core.store, history.workspace, core.clock.now(), days)
        table = Table(title=f"Imported into workspace {history.workspace}")
        table.add_column("what")
        table.add_column("count", justify="right")
        for what, count in (
            ("channels", history.channels), ("members", len(history.members)), ("messages read", report.read),
            ("messages new", report.new), ("already imported", report.read - report.new),
            ("questions", report.questions), ("answers linked", report.answers),
            (f"records older than the {days}-day retention, deleted (/rapport retention)", expired),
        ):
            table.add_row(what, str(count))
        for reason, count in sorted(history.skipped.items()):
            # An unknown channel folder is still read; everything else listed was left out.
            table.add_row(f"{'read anyway' if reason == 'unknown channel' else 'skipped'}: {reason}", str(count))
        out.print(table)

    run(with_core(ingest))


@import_app.command("slack-export")
def import_slack(
    path: Path,
    workspace: Annotated[str | None, typer.Option(help="Workspace id (default: the export's team id).")] = None,
) -> None:
    """Import a Slack workspace export (folder or .zip)."""
    from adapters.slack.export import read_slack_export

    _import(read_slack_export, path, workspace)


@import_app.command("discord-export")
def import_discord(
    path: Path,
    workspace: Annotated[str | None, typer.Option(help="Workspace id (default: the export's guild id).")] = None,
) -> None:
    """Import DiscordChatExporter JSON (a file or a folder of them)."""
    from adapters.discord.export import read_discord_export

    _import(read_discord_export, path, workspace)


async def _choose_workspace(core: Rapport, workspace: str | None) -> str:
    known = await core.store.graph.workspaces()
    if workspace in known:
        return workspace
    if workspace is not None:  # "" too: an unset shell variable
        # A mistyped id would otherwise read as a workspace with nothing in it (an empty graph, an erase that
        # erased nothing), exit 0.
        holds = f"it holds {', '.join(known)}" if known else "it holds none yet"
        raise fail(f"the database holds no workspace {workspace!r} ({holds}; ids are case-sensitive)")
    if len(known) == 1:
        return known[0]
    if not known:
        raise fail("the database holds no workspace yet: run `rapport console` or `rapport import` first", 1)
    raise fail(f"the database holds several workspaces: choose one with --workspace ({', '.join(known)})")


@app.command()
def graph(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one object per pair.")] = False,
    workspace: Annotated[str | None, typer.Option(help="Which workspace, when the database holds several.")] = None,
) -> None:
    """The pairs Rapport knows and their rapport stage."""

    async def show(core: Rapport) -> None:
        ws = await _choose_workspace(core, workspace)
        now = core.clock.now()
        pairs = [assess(s, now) for s in await core.store.graph.pair_stats(ws, now)]
        if as_json:
            sys.stdout.write(json.dumps([{
                "a": p.stats.a, "b": p.stats.b, "stage": p.stage.value, "advisor": p.advisor, "cooling": p.cooling,
                "asked_ab": p.stats.asked_ab, "asked_ba": p.stats.asked_ba,
                "answered_ab": p.stats.answered_ab, "answered_ba": p.stats.answered_ba,
                "unanswered_ab": p.stats.unanswered_ab, "unanswered_ba": p.stats.unanswered_ba,
                "contact_days": p.stats.contact_days,
                "last_contact": p.stats.last_contact.isoformat() if p.stats.last_contact else None,
            } for p in pairs], indent=1) + "\n")
            return
        names = {m.user_id: m.name for m in await core.store.members.list(ws)}
        table = Table(title=f"Rapport in {ws}: {plural(len(pairs), 'pair')}")
        for column in ("a", "b", "stage", "a asked b (answered)", "b asked a (answered)", "last contact"):
            table.add_column(column)
        for p in sorted(pairs, key=lambda p: (-p.stage.rank, p.stats.a, p.stats.b)):
            stage = p.stage.label + (f" ({names.get(p.advisor, p.advisor)} advises)" if p.advisor else "")
            stage += " [cooling]" if p.cooling else ""
            table.add_row(
                names.get(p.stats.a, p.stats.a), names.get(p.stats.b, p.stats.b), stage,
                f"{p.stats.asked_ab} ({p.stats.answered_ab})", f"{p.stats.asked_ba} ({p.stats.answered_ba})",
                p.stats.last_contact.strftime("%Y-%m-%d") if p.stats.last_contact else "",
            )
        out.print(table)

    run(with_core(show))


def write_out(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as error:
        raise fail(f"cannot write {path}: {error.strerror}") from None


async def platform_groups(core: Rapport, workspace: str) -> dict[str, frozenset[str]]:
    """The user groups that count as teams for members who named none in coffee: Slack's, asked as
    `/rapport insights` asks them (no adapter runs here to ask). One line on stderr says where the teams come from,
    and why from coffee only when Slack cannot be asked (no token, another workspace, no connection, 429, 500)."""
    import aiohttp

    from adapters.slack.app import user_groups
    from adapters.slack.settings import SlackSettings

    try:
        async with aiohttp.ClientSession() as session:
            groups = await user_groups(core, SlackSettings(), workspace, session)
    except PlatformError as error:
        groups, why = {}, str(error)
    else:
        why = "Slack lists no user groups Rapport may read: the usergroups:read scope"
    err.print(f"teams: as named in coffee, else Slack's user groups ({plural(len(groups), 'group')})" if groups
              else f"teams: as named in coffee only: {why}", highlight=False, soft_wrap=True)
    return groups


@app.command()
def insights(
    workspace: Annotated[str | None, typer.Option(help="Which workspace, when the database holds several.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write a self-contained HTML report here.")]
    = None,
) -> None:
    """Totals for leads, no names: members, pairs by stage, new ties, coffee, nudges (under 5 reads "fewer than 5")."""

    async def show(core: Rapport) -> None:
        ws = await _choose_workspace(core, workspace)
        figures, teams = await workspace_insights(core.store, ws, core.clock.now(), await platform_groups(core, ws))
        out.print(title(figures).replace("*", ""), highlight=False)
        for section in sections(figures, teams):
            out.print(section.title, style="bold", highlight=False)
            for line in section.lines:
                out.print(f"  {line}", highlight=False, soft_wrap=True)
        if out_file is not None:
            write_out(out_file, report_html(figures, teams).encode("utf-8"))
            out.print(f"report: {out_file.resolve()}", highlight=False, soft_wrap=True)

    run(with_core(show))


@app.command(name="map")
def team_map_command(
    out_file: Annotated[Path, typer.Option("--out", help="The picture to write: FILE.svg or FILE.png.")],
    workspace: Annotated[str | None, typer.Option(help="Which workspace, when the database holds several.")] = None,
    grid: Annotated[bool, typer.Option("--grid", help="A team x team heat map instead (reads better past 6 teams).")]
    = False,
) -> None:
    """Teams as nodes and the number of ties between them as edges, or as a grid (people are not drawn)."""
    fmt = out_file.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise fail("--out must end in .svg or .png")

    async def draw(core: Rapport) -> None:
        ws = await _choose_workspace(core, workspace)
        teams = await team_ties(core.store, ws, core.clock.now(), groups=await platform_groups(core, ws))
        if teams is None:
            raise fail("no teams are named in this workspace yet: members name theirs with "
                       "`/rapport coffee join team NAME`")
        write_out(out_file, (team_grid if grid else team_map)(teams, fmt))
        out.print(f"map: {out_file.resolve()}", highlight=False, soft_wrap=True)

    run(with_core(draw))


@member_app.command("export")
def member_export(
    user_id: str,
    workspace: Annotated[str, typer.Option(help="The member's workspace (Slack team id, Discord guild id).")],
) -> None:
    """Print everything Rapport stores about one member as JSON."""
    from bot.privacy.privacy import export, stores_anything

    async def show(core: Rapport) -> None:
        await _choose_workspace(core, workspace)
        document = await export(core.store, workspace, user_id, core.clock.now())
        if not stores_anything(document):
            raise fail(f"nothing is stored about {user_id!r} in workspace {workspace!r}: no such member there "
                       "(ids are case-sensitive)", code=1)
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")

    run(with_core(show))


@member_app.command("erase")
def member_erase(
    user_id: str,
    workspace: Annotated[str, typer.Option(help="The member's workspace (Slack team id, Discord guild id).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one member from every table and stop tracking them."""
    from bot.privacy.privacy import erase, export, stores_anything

    if not yes:
        typer.confirm(f"Erase everything about {user_id} in {workspace}? This cannot be undone", abort=True)

    async def wipe(core: Rapport) -> None:
        await _choose_workspace(core, workspace)
        # A mistyped id (ids are case-sensitive) would otherwise "erase 0 records", exit 0, and the operator would
        # answer the request as done while the member it was about is still stored and tracked.
        if not stores_anything(await export(core.store, workspace, user_id, core.clock.now())):
            raise fail(f"nothing is stored about {user_id!r} in workspace {workspace!r}: no such member there, or "
                       "erased already (ids are case-sensitive); nothing changed", code=1)
        removed = await erase(core.store, workspace, user_id, core.clock.now())
        out.print(f"erased {plural(removed, 'record')} about {user_id} in {workspace}; they are no longer tracked")

    run(with_core(wipe))


@app.command()
def similarity(
    text_a: str,
    text_b: str,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"score", "related", "matcher"}.')] = False,
    level_a: Annotated[str | None, typer.Option(help="The profile field TEXT_A is listed under (capability, "
                                                     "behaviour, looking_for...).")] = None,
    level_b: Annotated[str | None, typer.Option(help="The profile field TEXT_B is listed under.")] = None,
) -> None:
    """How related two interest phrases are, as profiles and starters judge them (offline model)."""
    from bot.domain.profiles import TEXT_FIELDS
    from bot.interests.similarity import load_matcher

    for level in (level_a, level_b):
        if level is not None and level not in TEXT_FIELDS:
            raise fail(f"unknown level {level!r}; one of {', '.join(TEXT_FIELDS)}")
    judgement = load_matcher().judge(text_a, text_b, level_a, level_b)
    if as_json:
        sys.stdout.write(json.dumps({"score": round(judgement.score, 4), "related": judgement.related,
                                     "matcher": judgement.matcher}) + "\n")
        return
    verdict = "related" if judgement.related else "not related"
    out.print(f"{verdict} (score {judgement.score:.2f}, matcher {judgement.matcher})", highlight=False)


@app.command()
def pair(
    channel: Annotated[str, typer.Option(help="The channel whose next coffee round to compute.")],
    workspace: Annotated[str | None, typer.Option(help="Which workspace, when the database holds several.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the round as a JSON object.")] = False,
) -> None:
    """Dry run of a channel's next virtual coffee round: the groups and why. Sends nothing, stores nothing."""
    from bot.coffee.coffee import dry_run
    from bot.commands import UsageError

    async def show(core: Rapport) -> None:
        ws = await _choose_workspace(core, workspace)
        try:
            plan = await dry_run(core.store, core.matchers, ws, channel, core.clock.now())
        except UsageError as error:
            raise fail(str(error), 1) from None
        if as_json:
            sys.stdout.write(json.dumps(plan, indent=1) + "\n")
            return
        names = {m.user_id: m.name for m in await core.store.members.list(ws)}

        def named(reason: str) -> str:  # reasons mention members as chat markup (<@id>); a terminal shows names
            return re.sub(r"<@([^>]+)>", lambda m: names.get(m.group(1), m.group(1)), reason)

        table = Table(title=f"Next coffee round in {channel} ({plan['round_at']}), {plan['eligible']} eligible")
        for column in ("group", "score", "why"):
            table.add_column(column)
        for group in plan["groups"]:
            table.add_row(", ".join(names.get(u, u) for u in group["members"]), f"{group['score']:.1f}",
                          "; ".join(named(r) for r in group["reasons"]))
        for left in plan["unpaired"]:
            table.add_row(names.get(left["member"], left["member"]), "", f"not placed: {left['why']}")
        out.print(table)
        if plan["problem"]:
            out.print(plan["problem"])

    run(with_core(show))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (they also run at every start)."""

    async def upgrade(core: Rapport) -> None:
        out.print("database schema is up to date")

    run(with_core(upgrade))


if __name__ == "__main__":
    app()
