"""Insight for leads: totals only, never a name; small numbers read "fewer than 5"; only admins and managers."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

from bot.app import Rapport
from bot.domain.coffee import ChannelSettings, GroupRecord, Membership, RoundRecord, Seat
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, CommandInvoked, Member, MessagePosted
from bot.insight.figures import insights
from tests.conftest import rapport
from tests.fakes import FakeClock, FakeOutbound, FakeStore

WS = "T1"
ADMIN = frozenset({WORKSPACE_ADMIN})
PEOPLE = [f"u{i:02d}" for i in range(12)]


async def _workspace(core: Rapport, pairs: list[tuple[str, str]]) -> None:
    await core.store.members.upsert([Member(WS, u, f"Name{u}") for u in PEOPLE])
    at = core.clock.now() - timedelta(days=2)
    for n, (asker, answerer) in enumerate(pairs):
        q = MessagePosted(WS, "C1", f"q{n}", asker, at + timedelta(minutes=2 * n), "how?", mentions=(answerer,))
        a = MessagePosted(WS, "C1", f"a{n}", answerer, at + timedelta(minutes=2 * n + 1), "so", reply_to=q.message_id)
        assert await core.on_message(q) and await core.on_message(a)


async def _coffee(store: FakeStore, clock: FakeClock, groups: list[tuple[str, str, bool]]) -> None:
    now = clock.now()
    await store.coffee.save_channel(ChannelSettings(WS, "CCOF", "weekly", 0, 10, 0, "UTC", date(2026, 1, 5)))
    for user in {u for a, b, _ in groups for u in (a, b)}:
        await store.coffee.save_membership(Membership(WS, "CCOF", user, now - timedelta(days=30)))
    due = now - timedelta(days=1)  # after the ties _workspace makes
    await store.coffee.save_round(RoundRecord(WS, "CCOF", due, "sent", tuple(
        GroupRecord(WS, "CCOF", due, i, (Seat(a, answer="met" if met else None), Seat(b)))
        for i, (a, b, met) in enumerate(groups)), checkin_sent=True))


async def test_figures_count_pairs_and_hide_small_numbers(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    # Six acquaintance pairs among u00..u06, one peer pair: u07..u11 have no tie.
    await _workspace(core, [("u00", f"u0{i}") for i in range(1, 7)] + [("u01", "u02"), ("u02", "u01")])

    figures = await insights(fake_store, WS, clock.now())

    assert figures.members.shown() == "12"
    stages = {stage.value: count.shown() for stage, count in figures.pairs}
    assert stages == {"trusted_advisor": "0", "peers": "fewer than 5", "acquaintance": "6", "talking": "0"}
    assert figures.no_tie.shown() == "5"
    assert [(m.month, m.count.shown()) for m in figures.new_ties[-2:]] == [("2026-02", "7"), ("2026-03", "0")]
    assert figures.coffee_members is None and figures.missing == ("no coffee is set up",)


async def test_admins_get_totals_and_no_names(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    await _workspace(core, [("u00", f"u0{i}") for i in range(1, 4)])
    await _coffee(fake_store, clock, [("u00", "u01", True), ("u02", "u03", False), ("u04", "u05", True),
                                      ("u06", "u07", True), ("u08", "u09", False), ("u10", "u11", False)])

    reply = await core.on_command(CommandInvoked(WS, "C1", "u05", "insights", ADMIN))

    shown = reply.plain()
    assert "Members Rapport knows: 12" in shown and "With no tie at all yet: 8" in shown
    assert "Pairs at acquaintance: fewer than 5" in shown
    assert "Groups that met (from check-ins): 50%" in shown
    assert "Groups that brought together people with no tie before: 83%" in shown  # u00 and u01 had a tie
    assert not any(u in shown or f"Name{u}" in shown for u in PEOPLE)


async def test_members_are_told_who_can_and_managers_see_their_channel(fake_store: FakeStore,
                                                                       clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    await _workspace(core, [("u00", "u01")])
    await _coffee(fake_store, clock, [("u00", "u01", True), ("u02", "u03", False)])

    refused = await core.on_command(CommandInvoked(WS, "C1", "u05", "insights"))
    assert "workspace admins, and for channel managers" in refused.text and not refused.sections

    manager = await core.on_command(CommandInvoked(WS, "CCOF", "u05", "insights", frozenset({CHANNEL_MANAGER})))
    shown = manager.plain()
    assert "<#CCOF>'s coffee members" in shown and "Members Rapport knows: fewer than 5" in shown
    assert "With no tie at all yet: fewer than 5" in shown  # 2 of 4: even a zero would point at them
    assert "Groups that met (from check-ins): not shown (fewer than 5)" in shown
    assert "Nudges" not in shown


async def test_privacy_says_what_leads_see(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    shown = (await core.on_command(CommandInvoked(WS, "C1", "u05", "privacy"))).plain()
    assert "What leads see" in shown and 'reads "fewer than 5"' in shown


async def test_the_team_table_counts_ties_within_and_across_teams(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    # Platform: u00..u05, Data: u06..u07. Five ties within Platform, two across, none within Data.
    await _workspace(core, [("u00", f"u0{i}") for i in range(1, 6)] + [("u01", "u06"), ("u02", "u07")])
    await fake_store.coffee.save_channel(ChannelSettings(WS, "CCOF", "weekly", 0, 10, 0, "UTC", date(2026, 1, 5)))
    for i in range(8):
        await fake_store.coffee.save_membership(Membership(WS, "CCOF", f"u{i:02d}", clock.now(),
                                                           team="Platform" if i < 6 else "Data"))

    shown = (await core.on_command(CommandInvoked(WS, "C1", "u05", "insights", ADMIN))).plain()

    assert "Platform: 6 members, 5 pairs with a tie within" in shown
    assert "Data: fewer than 5 members, fewer than 5 pairs with a tie within" in shown  # even its 0: 2 people
    # Whether Data (2 people) has a tie with Platform is not told, either way.
    assert "Data and Platform" not in shown
    assert "Ties between a team of fewer than 5 people and another team are not shown." in shown
    assert "No teams are named" not in shown


async def test_teams_come_from_the_platforms_user_groups_too(fake_store: FakeStore, clock: FakeClock) -> None:
    outbound = FakeOutbound(user_group_members={
        "Engineering": frozenset(PEOPLE[:10]),  # everyone but u10, u11
        "Payments": frozenset([*PEOPLE[:5], "U0NEVERSEEN"]),  # smaller: u00..u04 count here
        "Oncall": frozenset({"u09", "u10", "u11"}),
    })
    core = Rapport(fake_store, clock, outbound)
    await _workspace(core, [("u00", "u01"), ("u00", "u05"), ("u05", "u06"), ("u09", "u10")])
    await fake_store.coffee.save_channel(ChannelSettings(WS, "CCOF", "weekly", 0, 10, 0, "UTC", date(2026, 1, 5)))
    # A team named in coffee comes first: u06 counts in Data, not in Engineering.
    await fake_store.coffee.save_membership(Membership(WS, "CCOF", "u06", clock.now(), team="Data"))

    shown = (await core.on_command(CommandInvoked(WS, "C1", "u05", "insights", ADMIN))).plain()

    assert "Payments: 5 members, fewer than 5 pairs with a tie within" in shown
    assert "Engineering: fewer than 5 members" in shown  # u05, u07, u08: the rest are in smaller groups
    assert "Oncall: fewer than 5 members" in shown and "Data: fewer than 5 members" in shown
    assert "Engineering and Payments" not in shown  # u00 and u05, but Engineering is 3 people here
    assert "U0NEVERSEEN" not in shown and "No teams are named" not in shown


# README: "any count about a group of fewer than 5 people, even its zero (a team of 3 with no ties ...)". Listing
# the pairs of teams that have a tie, and leaving out those with none, told a lead whether a team of 3 had any tie
# with another team: the insights and the team map must read the same either way.
def test_whether_a_small_team_has_ties_with_another_is_not_told(env: dict[str, str], tmp_path: Path) -> None:
    people = [f"p{i}" for i in range(8)]
    workspace = tmp_path / "workspace.json"
    workspace.write_text(json.dumps({"members": [{"id": p, "name": p.upper(), "admin": p == "p0"} for p in people],
                                     "channels": [{"id": "general"}]}))
    script = "at 2026-03-02T09:00\n@p0 #general /rapport coffee setup weekly monday 10:00\n" + "".join(
        f"@{p} /rapport coffee join team {'Platform' if i < 5 else 'Design'}\n" for i, p in enumerate(people))
    script += "".join(f"@p{i} @p{i + 1} how do I deploy?\n@p{i + 1} ^{2 * i + 1} with the script\n"
                      for i in range(4))  # ties within Platform (p0..p4)

    def seen(extra: str, run: str) -> tuple[str, bytes]:
        run_env = {**env, "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / run}.db"}
        said = rapport(["console", "--workspace-file", str(workspace)], run_env, script + extra + "+1h\n"
                       "@p0 /rapport insights\n")
        assert said.returncode == 0, said.stderr
        teams = said.stdout[said.stdout.index("  Teams"):said.stdout.index("  Coffee")]
        drawn = rapport(["map", "--out", str(tmp_path / f"{run}.svg")], run_env)
        assert drawn.returncode == 0, drawn.stderr
        svg = (tmp_path / f"{run}.svg").read_bytes()
        return teams, re.sub(rb"<metadata>.*?</metadata>|id=\"[^\"]*\"|#[a-z][0-9a-f]{10}\b", b"", svg, flags=re.S)

    alone = seen("", "alone")
    tied = seen("@p5 @p0 where are the design files?\n@p0 ^9 in the shared drive\n", "tied")  # Design - Platform
    assert "Platform: 5 members" in alone[0] and "Design: fewer than 5 members" in alone[0], alone[0]
    assert tied[0] == alone[0]
    assert tied[1] == alone[1]
