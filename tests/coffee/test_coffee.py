"""Virtual coffee through the core, with time travel on the fake clock, on the fake store and on SQL."""

from __future__ import annotations

import gc
import json
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app import Rapport
from bot.coffee.rounds import GRACE, _CollectorPause, next_run
from bot.domain.coffee import ChannelSettings, pair, round_key
from bot.domain.profiles import Profile
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, ButtonPressed, CommandInvoked, Member
from bot.graph.conversation import Outcome, Question, SeenMessage
from bot.insight.figures import Rate, insights
from bot.privacy.privacy import erase, export
from tests.conftest import ROOT, rapport
from tests.fakes import FakeClock, FakeOutbound

WS, CH = "T1", "C1"
MANAGER = frozenset({CHANNEL_MANAGER})
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the fake clock's start


pytestmark = pytest.mark.usefixtures("lexical")  # fast and deterministic; the real model is tested in tests/interests


class Bot:
    def __init__(self, store, clock: FakeClock, outbound: FakeOutbound) -> None:
        self.core = Rapport(store, clock, outbound)
        self.store, self.clock, self.out = store, clock, outbound

    async def say(self, user: str, text: str, roles: frozenset[str] = frozenset(), channel: str = CH) -> str:
        return (await self.core.on_command(CommandInvoked(WS, channel, user, text, roles))).plain()

    async def press(self, user: str, action: str, value: str) -> str:
        reply = await self.core.on_button(ButtonPressed(WS, "D1", user, action, value))
        return reply.plain() if reply else ""

    async def at(self, when: datetime) -> int:
        """Move the clock and tick; returns how many coffee messages went out (other features tick too)."""
        self.clock.current = when
        before = len(self.out.sent)
        await self.core.ticker.tick()
        return len(self.out.sent) - before

    def pairings(self, user: str | None = None) -> list:
        return [r for r in self.dms(user) if "you are meeting" in r.text]

    def dms(self, user: str | None = None) -> list:
        return [r for kind, _, to, r in self.out.sent if kind == "dm" and (user is None or to == user)]

    def posts(self) -> list:
        return [r for kind, _, to, r in self.out.sent if kind == "channel" and to == CH]

    async def groups(self, due: datetime) -> list[tuple[str, ...]]:
        record = await self.store.coffee.round(WS, CH, due)
        return [g.members for g in record.placed] if record else []


async def make(store, clock, outbound, people: str = "abcd", tz: str = "UTC") -> Bot:
    bot = Bot(store, clock, outbound)
    await store.members.upsert([Member(WS, u, u.upper(), tz) for u in people])
    return bot


async def setup_weekly(bot: Bot, people: str = "abcd", extra: str = "") -> datetime:
    text = await bot.say("m", f"coffee setup weekly monday 10:00 tz UTC {extra}", MANAGER)
    assert "every Monday at 10:00 (UTC)" in text
    for user in people:
        assert "You are in" in await bot.say(user, "coffee join")
    settings = await bot.store.coffee.channel(WS, CH)
    assert settings.next_run_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    return settings.next_run_at


async def test_setup_needs_a_channel_manager_and_a_readable_cadence(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound)
    refused = await bot.say("a", "coffee setup weekly monday 10:00")
    assert "Sorry, only a workspace admin or someone who manages this channel" in refused
    assert await store.coffee.channel(WS, CH) is None
    assert "weekly, biweekly or monthly" in await bot.say("m", "coffee setup daily monday 10:00", MANAGER)
    assert "not a day of the week" in await bot.say("m", "coffee setup weekly someday 10:00", MANAGER)
    assert "HH:MM" in await bot.say("m", "coffee setup weekly monday 25:00", MANAGER)
    assert "a group size of 2 or 3" in await bot.say("m", "coffee setup weekly mon 10:00 size 5", MANAGER)
    assert await store.coffee.channel(WS, CH) is None
    admin = await bot.say("z", "coffee setup biweekly tue 09:30 size 3 cross-teams no-repeat 2 tz Europe/Berlin",
                          frozenset({WORKSPACE_ADMIN}))
    assert "every other Tuesday at 09:30 (Europe/Berlin); groups of 3, no repeat pairs within 2 rounds where it " \
           "can be helped, across teams" in admin
    assert "not running" in await bot.say("a", "coffee join", channel="C2")


async def test_a_round_sends_each_group_a_dm_and_announces_itself_once(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "abcde")
    await store.profiles.save(Profile(WS, "b", behaviour="trail running, sourdough", work_start=8, work_end=16))
    due = await setup_weekly(bot, "abcde")
    assert "sit out the round" in await bot.say("e", "coffee skip")
    assert await bot.at(due - timedelta(minutes=1)) == 0
    assert await bot.at(due) == 5
    assert await bot.at(due + timedelta(minutes=1)) == 0  # done: nothing twice
    assert bot.core.activity.rounds_sent == 1  # what /metrics reports
    groups = await bot.groups(due)
    assert sorted(u for g in groups for u in g) == list("abcd")  # e sat this one out
    assert len(bot.dms()) == 4 and len(bot.posts()) == 1
    for group in groups:
        for user in group:
            (dm,) = bot.dms(user)
            other = next(u for u in group if u != user)
            assert f"you are meeting <@{other}>" in dm.text
            assert "Suggested time:" in dm.text and "UTC" in dm.text
            assert "confirm the time" in dm.text and "pick a time" not in dm.text  # one was suggested
            assert 2 <= len(dm.sections[0].lines) <= 3
    to_b = bot.dms("b")[0]
    assert "Suggested time: Tue 03 Mar, 09:00 your time (UTC)" in to_b.text  # inside b's 8-16 and the other's 9-17
    partner_of_b = next(u for g in groups if "b" in g for u in g if u != "b")
    assert any("trail running" in line for line in bot.dms(partner_of_b)[0].sections[0].lines)
    assert "4 people in 2 groups" in bot.posts()[0].text
    assert not bot.posts()[0].ephemeral
    assert (await store.coffee.channel(WS, CH)).next_run_at == due + timedelta(days=7)
    # e is back for the next round.
    await bot.at(due + timedelta(days=7))
    assert "e" in {u for g in await bot.groups(due + timedelta(days=7)) for u in g}
    assert bot.core.activity.rounds_sent == 2


async def test_check_in_answers_count_as_meetings_in_the_graph(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound)
    due = await setup_weekly(bot)
    await bot.at(due)
    outbound.sent.clear()
    assert await bot.at(due + timedelta(days=5)) == 4
    checkins = bot.dms()
    assert len(checkins) == 4
    assert [b.label for b in checkins[0].buttons] == ["We met", "Not yet", "We couldn't"]
    first = bot.dms("a")[0]
    met = next(b for b in first.buttons if b.action_id == "coffee:met")
    group = next(g for g in await bot.groups(due) if "a" in g)
    partner = next(u for u in group if u != "a")
    stranger = next(u for u in "bcd" if u not in group)
    assert "not yours" in await bot.press(stranger, "coffee:met", met.value)
    now = clock.advance(hours=1)
    assert "Glad you met" in await bot.press("a", "coffee:met", met.value)
    clock.advance(hours=1)
    assert "Glad you met" in await bot.press(partner, "coffee:met", met.value)  # a second "met" adds nothing
    stats = {pair(s.a, s.b): s for s in await store.graph.pair_stats(WS, clock.now())}
    assert stats[pair("a", partner)].contact_days == 1
    meetings = await store.coffee.meetings_since(WS, due)
    assert [(m.workspace, m.channel, m.members, m.met_at, m.round_key) for m in meetings] == [
        (WS, CH, group, now, round_key(WS, CH, due))]
    assert await store.coffee.meetings_since(WS, now + timedelta(seconds=1)) == []
    assert "Maybe next round" in await bot.say(stranger, "coffee checkin couldnt")
    assert len(await store.coffee.meetings_since(WS, due)) == 1


async def test_two_ignored_check_ins_pause_a_member_with_a_friendly_notice(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound)
    due = await setup_weekly(bot)
    for week in range(2):
        start = due + timedelta(days=7 * week)
        await bot.at(start)
        await bot.at(start + timedelta(days=5))
        for user in "abc":  # d never answers
            assert "Thanks" in await bot.say(user, "coffee checkin not-yet")
    third = due + timedelta(days=14)
    await bot.at(third)
    notices = [r for r in bot.dms("d") if "paused your virtual coffee" in r.text]
    assert len(notices) == 1 and "`/rapport coffee join <#C1>`" in notices[0].text
    assert "d" not in {u for g in await bot.groups(third) for u in g}
    assert all("paused" not in r.text for u in "abc" for r in bot.dms(u))
    assert (await store.coffee.membership(WS, CH, "d")).pause_reason == "checkins"
    assert "Welcome back" in await bot.say("d", "coffee join")
    await bot.at(third + timedelta(days=7))
    assert "d" in {u for g in await bot.groups(third + timedelta(days=7)) for u in g}


async def test_avoided_and_recent_pairs_are_not_grouped(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "abcdef")
    due = await setup_weekly(bot, "abcdef", "no-repeat 2")
    reply = await bot.say("a", "coffee avoid <@b>")
    assert "They are not told" in reply
    assert all("b" != to for _, _, to, _ in outbound.sent)
    seen: list[set] = []
    for week in range(6):
        start = due + timedelta(days=7 * week)
        await bot.at(start)
        pairs = {pair(x, y) for g in await bot.groups(start) for x in g for y in g if x < y}
        assert pair("a", "b") not in pairs
        for earlier in seen[-2:]:
            assert not pairs & earlier
        seen.append(pairs)
    assert not any("avoid" in r.plain() for _, _, to, r in outbound.sent if to == "b")


async def test_odd_counts_make_one_group_of_three_and_undeliverable_dms_are_named(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "abcde")
    due = await setup_weekly(bot, "abcde")
    outbound.undeliverable.add("c")
    await bot.at(due)
    sizes = sorted(len(g) for g in await bot.groups(due))
    assert sizes == [2, 3]
    announcement = bot.posts()[0]
    section = next(s for s in announcement.sections if "could not DM" in s.title)
    assert len(section.lines) == 1 and section.lines[0].startswith("<@c>: you are meeting")
    status = await bot.say("m", "coffee status", MANAGER)
    assert "<@c> (DM undeliverable)" in status
    assert "Last round" not in await bot.say("a", "coffee status")


async def test_status_shows_the_next_round_in_the_viewers_time_zone(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "ab", tz="America/New_York")
    await store.members.upsert([Member(WS, "n", "N")])
    await setup_weekly(bot, "ab")
    assert "Mon 02 Mar 2026, 05:00 America/New_York" in await bot.say("a", "coffee status")
    await store.profiles.save(Profile(WS, "a", tz="Asia/Tokyo"))
    assert "Mon 02 Mar 2026, 19:00 Asia/Tokyo" in await bot.say("a", "coffee status")
    no_zone = await bot.say("n", "coffee status")
    assert "10:00 UTC (I don't know your time zone" in no_zone and "You are not in" in no_zone


async def test_too_few_people_make_no_half_round(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "ab")
    due = await setup_weekly(bot, "a")
    assert await bot.at(due) == 1
    assert bot.dms() == []
    assert "Not enough people for a round: 1 person is in" in bot.posts()[0].text
    assert (await store.coffee.round(WS, CH, due)).groups == ()
    assert (await store.coffee.channel(WS, CH)).next_run_at == due + timedelta(days=7)
    await bot.say("b", "coffee join")
    assert "Paused until" in await bot.say("b", "coffee pause until 2026-04-01")
    assert "passed" in await bot.say("a", "coffee pause until 2026-03-01")
    await bot.at(due + timedelta(days=7))
    assert "1 paused or sitting this one out" in bot.posts()[1].text
    assert bot.dms() == []
    for day in (16, 23, 30):
        await bot.at(datetime(2026, 3, day, 10, 0, tzinfo=UTC))
    assert bot.pairings() == []
    await bot.at(datetime(2026, 4, 6, 10, 0, tzinfo=UTC))  # the pause is over
    assert len(bot.pairings()) == 2


async def test_a_round_missed_while_down_runs_within_the_grace_period_else_is_skipped(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound)
    due = await setup_weekly(bot)
    await bot.at(due + GRACE - timedelta(minutes=1))
    assert len(bot.pairings()) == 4
    second = due + timedelta(days=7)
    await bot.at(second + GRACE + timedelta(minutes=1))
    assert len(bot.pairings()) == 4  # nothing new
    record = await store.coffee.round(WS, CH, second)
    assert record.status == "missed" and record.groups == ()
    assert (await store.coffee.channel(WS, CH)).next_run_at == second + timedelta(days=7)
    # Down for three weeks: one missed round is recorded and the schedule jumps to the next future date.
    far = second + timedelta(days=7 + 21, hours=8)
    await bot.at(far)
    assert (await store.coffee.channel(WS, CH)).next_run_at == second + timedelta(days=35)


def test_weekly_rounds_keep_their_local_hour_across_dst() -> None:
    settings = ChannelSettings(WS, CH, "weekly", 0, 9, 0, "Europe/Berlin", date(2026, 3, 2))
    first = next_run(settings, MONDAY)
    assert first == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # CET
    later = next_run(settings, datetime(2026, 3, 24, tzinfo=UTC))
    assert later == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST since 29 March
    biweekly = ChannelSettings(WS, CH, "biweekly", 0, 9, 0, "Europe/Berlin", date(2026, 3, 9))
    assert next_run(biweekly, datetime(2026, 3, 9, 8, 0, tzinfo=UTC)) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    assert next_run(biweekly, datetime(2026, 3, 23, 8, 0, tzinfo=UTC)) == datetime(2026, 4, 6, 7, 0, tzinfo=UTC)
    monthly = ChannelSettings(WS, CH, "monthly", 2, 15, 30, "America/New_York", date(2026, 3, 4))
    assert next_run(monthly, MONDAY) == datetime(2026, 3, 4, 20, 30, tzinfo=UTC)  # EST
    assert next_run(monthly, datetime(2026, 3, 5, tzinfo=UTC)) == datetime(2026, 4, 1, 19, 30, tzinfo=UTC)  # EDT


async def test_dst_change_through_the_ticker(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "ab", tz="Europe/Berlin")
    clock.current = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    await bot.say("m", "coffee setup weekly monday 09:00 tz Europe/Berlin", MANAGER)
    for user in "ab":
        await bot.say(user, "coffee join")
    await bot.at(datetime(2026, 3, 23, 7, 59, tzinfo=UTC))
    assert bot.pairings() == []
    await bot.at(datetime(2026, 3, 23, 8, 0, tzinfo=UTC))
    assert len(bot.pairings()) == 2
    await bot.at(datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    assert len(bot.pairings()) == 2
    await bot.at(datetime(2026, 3, 30, 7, 0, tzinfo=UTC))  # still 09:00 in Berlin, now summer time
    assert len(bot.pairings()) == 4


async def test_warm_introduction_through_a_mutual_acquaintance(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "abcx")
    now = clock.now()

    async def answered(asker: str, answerer: str, n: int) -> None:
        message = f"q-{asker}-{answerer}-{n}"
        question = Question(WS, message, "C9", None, asker, answerer, now, now + timedelta(days=1),
                            now + timedelta(minutes=5), f"a-{message}")
        await store.graph.record([Outcome(SeenMessage(WS, "C9", message, asker, now, is_question=True),
                                          questions=(question,))])

    await answered("a", "c", 1)
    await answered("c", "b", 1)
    await answered("b", "c", 2)
    clock.advance(hours=1)
    reply = await bot.say("a", "intro <@b>")
    assert "I asked <@c>, who knows you both" in reply
    again = await bot.say("a", "intro <@b>")
    assert "the request is pending" in again and "don't know anyone" not in again
    (request,) = bot.dms("c")  # asked once
    assert "<@a> would like to get to know <@b>" in request.text
    button = request.buttons[0]
    assert bot.dms("b") == []  # b hears nothing until c introduces them
    assert "no longer available" in await bot.press("a", button.action_id, button.value)
    assert "I sent <@a> and <@b> an introduction" in await bot.press("c", button.action_id, button.value)
    assert "already gone out" in await bot.press("c", button.action_id, button.value)
    assert "<@c> would like to introduce you to <@b>" in bot.dms("a")[0].text
    assert len(bot.dms("b")) == 1 and len(bot.dms("b")[0].sections[0].lines) >= 2
    lonely = await bot.say("x", "intro <@a>")
    assert "I can't arrange an introduction to <@a>" in lonely and "coffee join" in lonely
    # A day later, both are nudged to thank c, who made the introduction (not each other).
    for hours in (25, 26, 27):
        await bot.at(now + timedelta(hours=hours))
    for person, other in (("a", "b"), ("b", "a")):
        thanks = [r.text for r in bot.dms(person) if "word of thanks" in r.text]
        assert thanks and "<@c> made an introduction for you" in thanks[0], bot.dms(person)
        assert not any(f"<@{other}> a word of thanks" in r.text for r in bot.dms(person))
        assert "thank <@c> for an introduction: sent" in await bot.say(person, "nudges")


async def test_export_and_erase_cover_memberships_avoid_lists_groups_and_check_ins(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound)
    due = await setup_weekly(bot)
    await bot.say("a", "coffee avoid <@b>")
    await bot.say("c", "coffee avoid <@a>")
    await bot.at(due)
    await bot.at(due + timedelta(days=5))
    await bot.say("a", "coffee checkin met")
    document = await export(store, WS, "a", clock.now())
    assert document["coffee_memberships"][0]["channel"] == CH
    assert document["coffee_avoiding"] == ["b"]  # who avoids a is private to them
    assert document["coffee_groups"][0]["checkin_answer"] == "met"
    assert "c" not in json.dumps(document["coffee_avoiding"])
    assert await erase(store, WS, "a", clock.now()) > 0
    after = await export(store, WS, "a", clock.now())
    assert after["coffee_memberships"] == [] and after["coffee_avoiding"] == [] and after["coffee_groups"] == []
    assert await store.coffee.avoid_pairs(WS, list("abcd")) == set()
    assert await store.coffee.latest_group(WS, "a") is None
    assert await store.coffee.membership(WS, CH, "b") is not None


async def test_a_partner_erased_leaves_the_round_on_record_but_no_meetup(store, clock, outbound) -> None:
    """Erasing a member deleted their whole coffee groups, their partner's record of the round too. The partner keeps
    it now, with no one in it; so no check-in asks them how it went with no one, and insights count no group."""
    bot = await make(store, clock, outbound)
    due = await setup_weekly(bot)
    await bot.at(due)
    partner = next(u for g in await bot.groups(due) if "a" in g for u in g if u != "a")
    others = next(g for g in await bot.groups(due) if "a" not in g)
    assert await erase(store, WS, "a", clock.now()) > 0
    outbound.sent.clear()
    await bot.at(due + timedelta(days=5))  # the check-ins
    assert sorted(to for kind, _, to, _ in outbound.sent if kind == "dm") == sorted(others)
    for user in others:
        assert "Glad you met" in await bot.say(user, "coffee checkin met")
    assert "no one else is in that coffee group" in (await bot.say(partner, "coffee checkin met")).lower()
    document = await export(store, WS, partner, clock.now())
    assert [(g["round"], g["with"], g["placed"], g["checkin_answer"]) for g in document["coffee_groups"]] == [
        (due.isoformat(), [], True, None)]  # the answer to a meetup with no one is not taken
    figures = await insights(store, WS, clock.now())
    assert (figures.coffee_groups.value, figures.met) == (1, Rate(1, 1))


async def test_dry_run_of_the_next_round_from_the_cli(env: dict[str, str]) -> None:
    from storage.store import SqlStore

    store = await SqlStore.open(env["RAPPORT_DATABASE_URL"])
    try:
        bot = await make(store, FakeClock(), FakeOutbound(), "abc")
        await setup_weekly(bot, "abc")
    finally:
        await store.close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return rapport(["pair", *args], env)

    done = run("--channel", CH, "--workspace", WS, "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["channel"] == CH and plan["eligible"] == 3
    assert [sorted(g["members"]) for g in plan["groups"]] == [["a", "b", "c"]]
    assert plan["groups"][0]["reasons"]
    table = rapport(["pair", "--channel", CH, "--workspace", WS], {**env, "COLUMNS": "300"})
    assert table.returncode == 0 and "A & B: " in table.stdout and "<@" not in table.stdout, table.stdout
    unknown = run("--channel", "nope", "--workspace", WS, "--json")
    assert unknown.returncode != 0 and "no virtual coffee" in unknown.stderr
    store = await SqlStore.open(env["RAPPORT_DATABASE_URL"])
    try:
        assert await store.coffee.round(WS, CH, datetime(2026, 3, 2, 10, 0, tzinfo=UTC)) is None  # sent nothing
    finally:
        await store.close()


async def test_shared_interests_from_profiles_shape_the_groups(store, clock, outbound) -> None:
    from bot.coffee.coffee import dry_run

    bot = await make(store, clock, outbound)
    for user, hobbies in (("a", "sourdough, chess"), ("b", "trail running"), ("c", "sourdough baking, chess"),
                          ("d", "trail running, climbing")):
        await store.profiles.save(Profile(WS, user, behaviour=hobbies))
    await setup_weekly(bot)
    plan = await dry_run(store, bot.core.matchers, WS, CH, clock.now())
    assert sorted(sorted(g["members"]) for g in plan["groups"]) == [["a", "c"], ["b", "d"]]
    reasons = {tuple(sorted(g["members"])): g["reasons"] for g in plan["groups"]}
    assert "both into trail running" in reasons[("b", "d")]
    assert outbound.sent == [] and await store.coffee.round(WS, CH, plan_time(plan)) is None


def plan_time(plan: dict) -> datetime:
    return datetime.fromisoformat(plan["round_at"])


async def test_the_console_example_shows_a_whole_round(env: dict[str, str]) -> None:
    run = rapport(["console"], {**env, "COLUMNS": "400"}, (ROOT / "examples/coffee.txt").read_text(), timeout=180)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Sorry, only a workspace admin or someone who manages this channel" in out
    assert out.count("[#engineering] *Virtual coffee*: 5 people in 2 groups this round.") == 2
    assert "[#engineering] *Virtual coffee*: 3 people in 1 group this round." in out
    assert out.count("[DM to @Erin] I have paused your virtual coffee") == 1
    assert out.count("[DM to @Carol] I have paused your virtual coffee") == 1
    assert "[DM to @Bob] @Alice would like to get to know @Dave" in out
    said = [line for line in out.splitlines() if line.startswith("[group message to ")]
    groups = [line for line in said if "this round's group" in line]  # one introduction per group
    checkins = [line for line in said if "How did your virtual coffee go" in line]  # asked in the group
    assert len(checkins) == 4 and len(said) == len(groups) + len(checkins)
    assert len(groups) == 5 and not any("@Erin" in g and "@Dave" in g for g in groups)  # Erin avoids Dave
    assert sum(line.count("@") for line in (g.split("]")[0] for g in groups)) == 13  # everyone, each round


async def test_the_members_page_shows_their_coffee(store, clock, outbound) -> None:
    bot = await make(store, clock, outbound, "abcx")
    await setup_weekly(bot, people="abc")
    await bot.say("b", "coffee skip")
    lines = lambda page: [line for s in page.sections if s.title == "Virtual coffee" for line in s.lines]  # noqa: E731
    assert lines(await bot.core.home(WS, "a")) == [f"<#{CH}>: in for the next round"]
    assert lines(await bot.core.home(WS, "b")) == [f"<#{CH}>: sitting out the next round"]
    assert "coffee join" in lines(await bot.core.home(WS, "x"))[0]
    titles = [s.title for s in (await bot.core.home(WS, "a")).sections]
    assert titles[:1] == ["Your relationships"] and "Your nudges" in titles


async def test_a_dry_run_names_only_shared_ground_the_judge_agrees_with(store, clock, outbound, matcher) -> None:
    from bot.coffee.coffee import dry_run

    bot = await make(store, clock, outbound, "abcd")
    # a and b: the vectors count "Swift" ~ "Taylor Swift concerts" (cosine 0.60, over the 0.57 threshold), the
    # judge reads the skill in its technical sense and keeps them apart; c and d: trail running ~ hiking.
    for user, field, text in (("a", "capability", "Swift"), ("b", "behaviour", "Taylor Swift concerts"),
                              ("c", "behaviour", "trail running"), ("d", "behaviour", "hiking")):
        await store.profiles.save(Profile(WS, user, **{field: text}))
    await bot.say("m", "coffee setup weekly monday 10:00 tz UTC", MANAGER)
    for user in "abcd":
        await bot.say(user, "coffee join")
    await store.coffee.avoid(WS, "a", "c")
    await store.coffee.avoid(WS, "a", "d")  # so a and b meet whatever else scores
    plan = await dry_run(store, bot.core.matchers, WS, CH, clock.now())
    reasons = {tuple(sorted(g["members"])): " ".join(g["reasons"]) for g in plan["groups"]}
    assert "both into" not in reasons[("a", "b")] and "shared interests" not in reasons[("a", "b")]
    assert "both into trail running / hiking" in reasons[("c", "d")] or "both into hiking / trail running" in reasons[
        ("c", "d")]


def test_the_collector_is_held_off_while_rounds_are_planned_and_comes_back_after_the_last() -> None:
    pause = _CollectorPause()
    assert gc.isenabled()
    with pause:
        with pause:  # rounds of two channels planned at once
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), pause:
        raise RuntimeError("a failed plan")
    assert gc.isenabled()
    gc.disable()  # turned off by someone else: left off
    try:
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_the_members_page_shows_a_pause_ending_on_the_day_they_typed(store, clock, outbound) -> None:
    # Midnight of 1 April in Tokyo is 31 March in UTC, which the page showed.
    bot = await make(store, clock, outbound, "abc", tz="Asia/Tokyo")
    await setup_weekly(bot, people="abc")
    assert "Paused until 2026-04-01" in await bot.say("b", "coffee pause until 2026-04-01")
    page = await bot.core.home(WS, "b")
    assert [line for s in page.sections if s.title == "Virtual coffee" for line in s.lines] == [
        f"<#{CH}>: paused until 2026-04-01"]


@pytest.mark.parametrize(("schedule", "due", "suggested"), [
    # Tuesday 08:00 in Tokyo is Monday 23:00 UTC; the next UTC day starts an hour later, at 09:00 in Tokyo, and
    # that was the time suggested: the group was asked to meet an hour after being introduced. Wednesday 09:00 now.
    ("tuesday 08:00", datetime(2026, 3, 2, 23, 0, tzinfo=UTC), datetime(2026, 3, 4, 0, 0, tzinfo=UTC)),
    # A round at 23:30 in Tokyo: 09:00 the next day is the next day for everyone, and is suggested (Tuesday).
    ("monday 23:30", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),
], ids=["not-an-hour-after-the-introduction", "a-late-round-the-next-morning"])
async def test_the_suggested_time_is_on_a_later_local_day(store, clock, outbound, schedule: str, due: datetime,
                                                          suggested: datetime) -> None:
    bot = await make(store, clock, outbound, "ab", tz="Asia/Tokyo")
    await bot.say("m", f"coffee setup weekly {schedule} tz Asia/Tokyo", MANAGER)
    for user in "ab":
        await bot.say(user, "coffee join")
    assert (await store.coffee.channel(WS, CH)).next_run_at == due
    await bot.at(due)
    (group,) = (await store.coffee.round(WS, CH, due)).placed
    assert group.suggested_at == suggested
