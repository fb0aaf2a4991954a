"""End to end: `rapport console` replaying a script into a real database, then `rapport graph --json`."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.console.session import ConsoleClock, ConsoleOutbound, ConsoleSession
from adapters.console.workspace import DEFAULT
from bot.app import Rapport
from bot.outbound import Outbounds
from tests.conftest import rapport

SCRIPT = """\
# Alice and Bob become peers; Carol keeps coming to Dave for help; Erin only chats.
at 2026-03-02T09:00
@alice #general: bob: how do I rotate the staging keys?
@bob there's a script in ops/, run it with --env staging
@alice thanks!
+1h
@bob ~1 Alice, did the rotation work?
@alice ~1 yes, all green
in #engineering
@carol @dave why is CI red on main?
@dave ^6 flaky test, rerun it
@carol @dave how do I get access to the metrics dashboard?
@dave ^8 ask in #it, they grant it
@carol @dave is there a style guide for the API?
@dave ^10 yes, docs/api.md
@carol @dave which region should the new service go in?
@dave ^12 eu-west, same as the rest
@carol @dave could you look at my migration?
@dave ^14 done, one comment
@erin #random lunch was great today
@bob #random erin: agreed, the curry was excellent
@alice /rapport me
@alice /rapport with @bob
@bob /rapport with @nobody
@bob /rapport dance
"""


def test_script_builds_the_graph(env: dict[str, str]) -> None:
    run = rapport(["console"], env, SCRIPT)
    assert run.returncode == 0, run.stderr
    assert "Peers (1)" in run.stdout and "@Bob" in run.stdout
    assert "You asked @Bob 1 question; they answered 1." in run.stdout
    assert "I don't know @nobody" in run.stdout
    assert "I don't know the command `dance`" in run.stdout

    graph = rapport(["graph", "--json"], env)
    assert graph.returncode == 0, graph.stderr
    pairs = {(p["a"], p["b"]): p for p in json.loads(graph.stdout)}
    assert pairs[("alice", "bob")]["stage"] == "peers"
    carol_dave = pairs[("carol", "dave")]
    assert (carol_dave["stage"], carol_dave["advisor"]) == ("trusted_advisor", "dave")
    assert (carol_dave["asked_ab"], carol_dave["answered_ab"], carol_dave["asked_ba"]) == (5, 5, 0)
    assert pairs[("bob", "erin")]["stage"] == "talking"
    assert pairs[("alice", "bob")]["last_contact"].startswith("2026-03-02T10:00")
    for key in ("a", "b", "stage", "advisor", "asked_ab", "asked_ba", "answered_ab", "answered_ba", "last_contact"):
        assert all(key in p for p in pairs.values())


def test_replaying_the_same_script_twice_counts_twice_only_when_new(env: dict[str, str]) -> None:
    """Each console session posts new messages: a replay is new chat, counted again, never corrupting counts."""
    assert rapport(["console"], env, SCRIPT).returncode == 0
    assert rapport(["console"], env, SCRIPT).returncode == 0
    pairs = {(p["a"], p["b"]): p for p in json.loads(rapport(["graph", "--json"], env).stdout)}
    assert pairs[("carol", "dave")]["asked_ab"] == 10


def test_bad_lines_get_clear_messages_and_nothing_is_lost(env: dict[str, str]) -> None:
    script = "@alice #general: hello\n@zed hi\n@alice #nowhere hi\n@alice press 4\n@alice ^99 hi\n@bob hi alice\n"
    run = rapport(["console"], env, script)
    assert run.returncode == 0
    assert "no member '@zed'" in run.stdout
    assert "no channel '#nowhere'" in run.stdout
    assert "no button 4" in run.stdout
    assert "no message [99]" in run.stdout
    assert "[2] @Bob in #general: hi alice" in run.stdout


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "RAPPORT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    run = rapport(["graph"], env)
    assert run.returncode == 2
    assert "RAPPORT_DATABASE_URL" in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


async def _console(sql_store: Any) -> tuple[ConsoleSession, list[str]]:
    """The console adapter in this process, as `rapport console` wires it, over the test's database."""
    out: list[str] = []
    clock = ConsoleClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    core = Rapport(sql_store, clock, Outbounds())
    exports = Path(tempfile.mkdtemp(prefix="rapport-exports-"))  # files the console writes stay out of the tree
    outbound = ConsoleOutbound(DEFAULT, out.append, exports=exports)
    core.outbound.add(outbound)  # type: ignore[attr-defined]
    session = ConsoleSession(core, DEFAULT, clock, out.append, last_reply=outbound.last_reply, exports=exports)
    await session.start()
    return session, out


async def _said(session: ConsoleSession, out: list[str], line: str) -> str:
    del out[:]
    await session.handle(line)
    return "\n".join(out)


# Carol manages #engineering, nobody but Alice (an admin) manages #general. Each line is typed in the channel
# Carol manages and names the one she does not, or the other way round: the channel named is the one that counts.
async def test_coffee_permissions_are_checked_on_the_channel_named(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    assert "Virtual coffee in #general" in await _said(session, out, "@alice #general /rapport coffee setup weekly "
                                                                      "monday 10:00")
    setup = await _said(session, out, "@carol #engineering /rapport coffee setup #general monthly friday 16:00")
    assert "only a workspace admin or someone who manages #general" in setup
    assert "every Monday" in await _said(session, out, "@bob #general /rapport coffee status")

    status = await _said(session, out, "@carol #engineering /rapport coffee status #general")
    assert "Virtual coffee in #general" in status and "Last round" not in status
    assert "Last round" in await _said(session, out, "@alice #random /rapport coffee status #general")

    stop = await _said(session, out, "@carol #engineering /rapport coffee stop #general")
    assert "only a workspace admin or someone who manages #general" in stop
    assert "Next round" in await _said(session, out, "@bob #general /rapport coffee status")

    # Where Carol does manage, she may from anywhere.
    assert "Virtual coffee in #engineering" in await _said(
        session, out, "@carol #general /rapport coffee setup #engineering weekly monday 10:00")
    assert "Last round" in await _said(session, out, "@carol #random /rapport coffee status #engineering")
    assert "is stopped" in await _said(session, out, "@carol #general /rapport coffee stop #engineering")


# Bob types everything in #random: each coffee subcommand acts on his own place in the channel it names, and only
# there; where he has no place, it says so.
async def test_coffee_subcommands_act_on_the_channel_named(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    coffee = sql_store.coffee
    await _said(session, out, "@alice #general /rapport coffee setup weekly monday 10:00")
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    assert "not running in #random" in await _said(session, out, "@bob #random /rapport coffee join #random")
    assert "not in virtual coffee in #general" in await _said(session, out,
                                                               "@bob #random /rapport coffee skip #general")
    for channel in ("general", "engineering"):
        for who in ("bob", "dave"):
            joined = await _said(session, out, f"@{who} #random /rapport coffee join #{channel}")
            assert f"You are in virtual coffee in #{channel}" in joined
    assert await coffee.membership("console", "random", "bob") is None

    assert "sit out" in await _said(session, out, "@bob #random /rapport coffee skip #engineering")
    engineering = await coffee.channel("console", "engineering")
    assert (await coffee.membership("console", "engineering", "bob")).skip_at == engineering.next_run_at
    assert (await coffee.membership("console", "general", "bob")).skip_at is None
    await _said(session, out, "@bob #random /rapport coffee join #engineering")  # back in for its round

    # Both rounds run (Monday in #general, Tuesday in #engineering); Bob answers the #general one by name.
    await _said(session, out, "+1h")
    await _said(session, out, "+1d")
    assert "no coffee check-in to answer in #random" in await _said(
        session, out, "@bob #random /rapport coffee checkin #random met")
    assert "Glad you met" in await _said(session, out, "@bob #random /rapport coffee checkin #general met")
    general = await coffee.latest_group("console", "bob", "general")
    assert general.members == ("bob", "dave") or general.members == ("dave", "bob")
    assert [s.answer for s in general.seats if s.user == "bob"] == ["met"]
    later = await coffee.latest_group("console", "bob")
    assert later.channel == "engineering" and all(s.answer is None for s in later.seats)

    paused = await _said(session, out, "@bob #random /rapport coffee pause #engineering until 2099-01-01")
    assert "Paused until 2099-01-01" in paused
    assert (await coffee.membership("console", "engineering", "bob")).paused
    assert not (await coffee.membership("console", "general", "bob")).paused

    assert "left virtual coffee in #engineering" in await _said(session, out,
                                                                 "@bob #random /rapport coffee leave #engineering")
    assert await coffee.membership("console", "engineering", "bob") is None
    assert await coffee.membership("console", "general", "bob") is not None


# Each command that names a member acts on that member, and refuses a name Rapport does not know or oneself.
MEMBER_COMMANDS = {
    "with @{who}": "You and @Dave",
    "profile @{who}": "@Dave has not filled in a profile",
    "starters @{who}": "@Dave has not filled in a profile yet, so I have nothing to ground starters in",
    "intro @{who}": "I can't arrange an introduction to @Dave",
    "share @{who} https://example.com/x worth a look": "Sent https://example.com/x to @Dave",
    "coffee avoid @{who}": "never be grouped with @Dave",
}


@pytest.mark.parametrize("command", MEMBER_COMMANDS)
async def test_member_commands_act_on_the_member_named(sql_store: Any, command: str) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, f"@bob #random /rapport {command.format(who='dave')}")
    assert MEMBER_COMMANDS[command] in said and "@Erin" not in said
    dms = [line for line in out if line.startswith("[DM to")]
    assert all(line.startswith("[DM to @Dave]") for line in dms)  # share DMs Dave; nothing goes to anyone else
    unknown = await _said(session, out, f"@bob #random /rapport {command.format(who='zed')}")
    assert "I don't know @zed in this workspace" in unknown
    if not command.startswith("profile"):  # `profile @yourself` is your own profile
        assert "That is you" in await _said(session, out, f"@bob #random /rapport {command.format(who='bob')}")
    assert not [line for line in out if line.startswith("[DM to")]


async def test_coffee_avoid_names_the_pair_asked_for(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob #random /rapport coffee avoid @dave")
    assert await sql_store.coffee.avoid_pairs("console", ["bob", "dave", "erin"]) == {frozenset(("bob", "dave"))}


# A channel name the platform did not turn into a channel (a typo, a channel Rapport is not in) stays a word:
# refused, never read as "this channel".
async def test_coffee_stop_and_status_refuse_what_they_do_not_understand(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for line in ("@carol #engineering /rapport coffee stop #enginering", "@carol #engineering /rapport coffee stop now",
                 "@bob #engineering /rapport coffee status #enginering"):
        said = await _said(session, out, line)
        assert "I did not understand" in said and "is stopped" not in said and "Next round" not in said, said
    assert (await sql_store.coffee.channel("console", "engineering")).next_run_at is not None


async def test_me_refuses_a_word_it_does_not_know(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, "@bob /rapport me mpa")
    assert "I did not understand `mpa`" in said and "Usage: `/rapport me [map]`" in said
    assert "*Your map*" in await _said(session, out, "@bob /rapport me Map")


@pytest.mark.parametrize("line", ["@carol #engineering /rapport coffee setup weekly someday 10:00",
                                  "@carol #engineering /rapport coffee setup weekly tuesday 10:00 size",
                                  "@carol #engineering /rapport coffee setup weekly tuesday 10:00 no-repeat 99",
                                  "@bob #random /rapport coffee status"])
async def test_a_coffee_mistake_gets_one_usage_line(sql_store: Any, line: str) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, line)
    assert said.count("Usage:") == 1, said
    assert "Usage: `/rapport coffee setup weekly|biweekly|monthly DAY HH:MM [size 2|3]" in said, said


# README, Commands: "a number outside it is refused with the range, nothing changed".
@pytest.mark.parametrize(("line", "range_"), [
    ("@carol #engineering /rapport coffee setup weekly tuesday 10:00 size 4", "2 or 3"),
    ("@carol #engineering /rapport coffee setup weekly tuesday 24:00", "from 00:00 to 23:59"),
    ("@bob /rapport nudges quiet 25:00-08:00", "from 00:00 to 23:59"),
])
async def test_a_value_out_of_range_is_refused_with_its_range(sql_store: Any, line: str, range_: str) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, line)
    assert range_ in said.split("Usage:")[0], said
    assert "Virtual coffee in" not in said and "Quiet hours:" not in said
    assert await sql_store.coffee.channel("console", "engineering") is None
    assert (await sql_store.nudges.settings("console", "bob")).quiet_start is None


async def test_working_hours_out_of_range_are_refused_with_the_range(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob /rapport profile")
    said = await _said(session, out, "@bob form working_hours=25-26 capability=Rust")
    assert "“25-26” as working hours: write them like 09-17 (hours from 0 to 24). I kept them empty." in said


@pytest.mark.parametrize(("rounds", "said"), [("0", "repeat pairs allowed"),
                                              ("1", "no repeat pairs within 1 round where it can be helped."),
                                              ("2", "no repeat pairs within 2 rounds where it can be helped.")])
async def test_no_repeat_reads_in_the_right_number(sql_store: Any, rounds: str, said: str) -> None:
    session, out = await _console(sql_store)
    setup = await _said(session, out,
                        f"@carol #engineering /rapport coffee setup weekly tuesday 10:00 no-repeat {rounds}")
    assert said in setup and "0 rounds" not in setup, setup


async def test_coffee_set_up_from_another_channel_says_how_to_join_that_channel(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    setup = await _said(session, out, "@alice #general /rapport coffee setup #random weekly monday 10:00")
    assert "join with `/rapport coffee join #random`" in setup
    here = await _said(session, out, "@alice #general /rapport coffee setup weekly monday 10:00")
    assert "join with `/rapport coffee join`." in here


def _readme_coffee_rows() -> str:
    """The rows of README's Commands table about coffee (the section ends at the operators' table)."""
    commands = (Path(__file__).resolve().parent.parent / "README.md").read_text().split("## Commands", 1)[1]
    return " ".join(row for row in commands.split("Operators:", 1)[0].splitlines()
                    if row.startswith("| `/rapport coffee"))


async def test_help_and_readme_name_every_coffee_subcommand(sql_store: Any) -> None:
    from bot.coffee.coffee import SUBCOMMANDS
    session, out = await _console(sql_store)
    help_line = next(line for line in (await _said(session, out, "@bob /rapport help")).splitlines()
                     if "/rapport coffee" in line)
    coffee_rows = _readme_coffee_rows()
    for word in [*SUBCOMMANDS, "avoid", "unavoid", "checkin"]:
        assert re.search(rf"[ |`]{word}\b", help_line), word
        assert re.search(rf"(/rapport coffee |`){word}\b", coffee_rows), word
    assert "join [team NAME]" in help_line and "join [team NAME]" in coffee_rows


async def test_a_failing_command_is_reported_and_the_session_goes_on(sql_store: Any,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    session, out = await _console(sql_store)

    async def broken(ctx: Any, args: Any) -> Any:
        raise OverflowError("date value out of range")

    me = session.core.router.commands["me"]
    session.core.router.commands["me"] = dataclasses.replace(me, handler=broken)
    said = await _said(session, out, "@bob /rapport me secret words")
    assert "Something went wrong on Rapport's side" in said
    assert "OverflowError" in caplog.text and "secret words" not in caplog.text
    assert "[1] @Bob in #general: still here" in await _said(session, out, "@bob still here")


async def test_match_says_what_someone_is_looking_for_as_starters_do(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@alice /rapport profile")
    await _said(session, out, '@alice form behaviour="chess"')
    await _said(session, out, "@bob /rapport profile more")
    await _said(session, out, '@bob form looking_for="someone to play chess with"')
    why = "they are looking for “someone to play chess with”, you listed “chess”"
    assert why in await _said(session, out, "@alice /rapport match")
    assert why in await _said(session, out, "@alice /rapport starters @bob")


async def test_me_says_when_tracking_is_paused(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob /rapport pause-tracking")
    empty = await _said(session, out, "@bob /rapport me")
    assert "Tracking is paused for you" in empty and "Ask a colleague a question" not in empty
    await _said(session, out, "@bob /rapport resume-tracking")
    for line in ("@alice #general: bob: how do I rotate the staging keys?", "@bob ^1 there's a script in ops/"):
        await _said(session, out, line)
    await _said(session, out, "@bob /rapport pause-tracking")
    listed = await _said(session, out, "@bob /rapport me")
    assert "*Your relationships*" in listed and "Tracking is paused for you" in listed
    await _said(session, out, "@bob /rapport resume-tracking")
    assert "Tracking is paused" not in await _said(session, out, "@bob /rapport me")


@pytest.mark.parametrize("zone", ["localtime", "Factory"])
async def test_a_time_zone_that_is_no_place_is_refused(sql_store: Any, zone: str) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, f"@carol #engineering /rapport coffee setup weekly monday 10:00 tz {zone}")
    assert f"I don't know the time zone “{zone}”" in said and "Virtual coffee in" not in said
    await _said(session, out, "@bob /rapport profile")
    assert f"I don't know the time zone “{zone}”" in await _said(session, out, f"@bob form tz={zone} capability=Go")


async def test_a_form_whose_only_value_is_refused_says_why(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob /rapport profile")
    said = await _said(session, out, "@bob form tz=Mars/Olympus")
    assert "Nothing saved: nothing I could keep." in said and "I don't know the time zone “Mars/Olympus”" in said
    await _said(session, out, "@bob /rapport profile")
    assert "every field was empty" in await _said(session, out, "@bob form capability=")


async def test_quiet_hours_over_all_working_hours_are_refused(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, "@bob /rapport nudges quiet 08:00-18:00")
    assert "cover all of your working hours (09:00-17:00, America/New_York)" in said and "`/rapport nudges off`" in said
    assert (await sql_store.nudges.settings("console", "bob")).quiet_start is None
    assert "Quiet hours: 12:00-18:00." in await _said(session, out, "@bob /rapport nudges quiet 12:00-18:00")


async def test_nudges_cap_out_of_range_reads_as_a_sentence(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    said = await _said(session, out, "@bob /rapport nudges cap 0")
    assert "Give a number of nudges a week from 1 to 14. To have none, say `/rapport nudges off`." in said, said


async def test_punctuation_after_a_mention_is_not_part_of_it(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    assert "You and @Alice have not been in touch yet." in await _said(session, out, "@bob /rapport with @alice.")
    assert "Noted, privately" in await _said(session, out, "@bob /rapport coffee avoid @carol!")
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    assert "You are in virtual coffee in #engineering" in await _said(
        session, out, "@bob #random /rapport coffee join #engineering.")


@pytest.mark.parametrize("jumps", [["+30d"], ["+1d"] * 30])
async def test_one_long_jump_delivers_a_nudge_as_day_by_day_steps_do(sql_store: Any, jumps: list[str]) -> None:
    # Bob takes nudges 16:00-17:00 his time only. A +30d jump ticked every 2.4 hours and could step over that
    # hour every day, so the nudge about Alice's unanswered question expired; day by day it went out.
    session, out = await _console(sql_store)
    await _said(session, out, "at 2026-03-06T15:00")
    await _said(session, out, "@alice #general: bob: can you review my PR for the billing service?")
    await _said(session, out, "@bob /rapport nudges quiet 09:00-16:00")
    said = "".join([await _said(session, out, jump) for jump in jumps])
    assert "[DM to @Bob] @Alice asked you a question" in said, said
    assert "sent (Mon 16 Mar 16:00)" in await _said(session, out, "@bob /rapport nudges")


async def test_quiet_hours_are_said_back_as_they_were_read(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    assert "Quiet hours: 22:00-08:00." in await _said(session, out, "@bob /rapport nudges quiet 22-8")
    assert "Quiet hours: 21:30-07:05." in await _said(session, out, "@bob /rapport nudges quiet 21:30–7:05")
    assert "Quiet hours: none." in await _said(session, out, "@bob /rapport nudges quiet OFF")


# README, Seeing it: "any count about a group of fewer than 5 people, even its zero" reads "fewer than 5": that
# covers the months of a trend and the coffee counts, not only the totals.
async def test_insights_about_fewer_than_five_people_hide_every_count(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@alice #general bob: how do I rotate the staging keys?")
    await _said(session, out, "@bob ^1 there's a script in ops/")
    assert "/rapport resume-tracking" in await _said(session, out, "@erin /rapport pause-tracking")

    workspace = await _said(session, out, "@alice /rapport insights")
    assert "Opted in (not paused): fewer than 5" in workspace, workspace
    assert re.search(r"New ties per month \(last 6\): (\d{4}-\d\d: fewer than 5(, |\n))+", workspace), workspace
    assert re.search(r"Sent per month: (\d{4}-\d\d: fewer than 5(, |\n))+", workspace), workspace
    assert ": 0" not in workspace, workspace

    await _said(session, out, "@carol #engineering /rapport coffee setup weekly monday 10:00")
    for member in ("carol", "dave", "bob", "alice"):
        await _said(session, out, f"@{member} #engineering /rapport coffee join")
    channel = await _said(session, out, "@carol #engineering /rapport insights")
    assert "Groups matched (last 6 months): fewer than 5" in channel, channel
    assert ": 0" not in channel, channel


async def test_a_question_not_answered_yet_is_said_so(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@erin #general: @bob can you help me with the deploy?")
    await _said(session, out, "@erin #general: @bob and where are the staging keys?")
    said = await _said(session, out, "@erin /rapport with @bob")
    assert "You asked @Bob 2 questions; they have not answered any yet." in said, said
    said = await _said(session, out, "@bob /rapport with @erin")
    assert "@Erin asked you 2 questions; you have not answered any yet." in said, said
    await _said(session, out, "@bob ^1 sure, after lunch")
    assert "You asked @Bob 2 questions; they answered 1." in await _said(session, out, "@erin /rapport with @bob")


# "Groups that met (from check-ins)" is a share of the groups asked: right after a round, its groups have not been
# asked yet (the check-in goes out 5 days later), and counting them read as groups that did not meet (100% -> 75%).
async def test_groups_not_asked_yet_do_not_lower_the_share_that_met(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    everyone = ("alice", "bob", "carol", "dave", "erin")
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for member in everyone:
        await _said(session, out, f"@{member} #engineering /rapport coffee join")
    for _ in range(3):  # three rounds, every group asked, and everyone says they met
        for line in ("+1d", "+5d", "+2h", *(f"@{m} #engineering /rapport coffee checkin met" for m in everyone),
                     "+22h"):
            await _said(session, out, line)
    assert "Groups that met (from check-ins): 100%" in await _said(session, out, "@alice /rapport insights")
    await _said(session, out, "+1d")
    await _said(session, out, "+2h")  # Tuesday 11:00: the fourth round went out; its groups are asked in 5 days
    said = await _said(session, out, "@alice /rapport insights")
    assert "Groups matched (last 6 months): 8" in said, said
    assert "Groups that met (from check-ins): 100%" in said, said
