"""Insight for leads: totals only, never a name; small numbers read "fewer than 5"; only admins and managers."""

from __future__ import annotations

from datetime import date, timedelta

from bot.app import Rapport
from bot.domain.coffee import ChannelSettings, GroupRecord, Membership, RoundRecord, Seat
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, CommandInvoked, Member, MessagePosted
from bot.insight.figures import insights
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
        for i, (a, b, met) in enumerate(groups))))


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
    assert "Data and Platform: fewer than 5 pairs with a tie" in shown
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
    assert "Engineering and Payments: fewer than 5 pairs with a tie" in shown  # u00 and u05
    assert "U0NEVERSEEN" not in shown and "No teams are named" not in shown
