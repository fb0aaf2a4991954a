"""Nudges through the core, by time travel (FakeClock and the ticker, never sleeping), on the fake store and on SQL.

Activity is recorded straight into the question graph (the same records live ingestion makes), so each test
controls exactly who asked whom and when.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Rapport
from bot.domain.coffee import Meeting
from bot.domain.nudges import DROPPED, PENDING, SENT, Kind, Nudge, NudgeSettings
from bot.domain.profiles import Profile
from bot.events import ButtonPressed, CommandInvoked, Member
from bot.graph.conversation import QUESTION_WINDOW, Answer, Contact, Outcome, Question, SeenMessage
from bot.nudges.nudges import plan
from bot.nudges.policy import hours_of
from bot.privacy.privacy import erase
from bot.replies import Reply
from storage.store import SqlStore
from tests.fakes import FakeClock, FakeOutbound

WS = "T1"
MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("lexical")


@dataclass
@dataclass
class MeetingLog:
    """Our own meetings, in front of whatever coffee repository the store has (its other methods pass through)."""

    meetings: list[Meeting] = field(default_factory=list)
    inner: object = None

    def __getattr__(self, name: str) -> object:
        if self.inner is None:
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def meetings_since(self, workspace: str, since: datetime) -> list[Meeting]:
        return [m for m in self.meetings if m.workspace == workspace and m.met_at >= since]


@dataclass
class TimedOutbound(FakeOutbound):
    """Records when each DM went out; a platform that can link to messages."""

    clock: FakeClock = field(default_factory=FakeClock)
    times: list[datetime] = field(default_factory=list)
    links: bool = True

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        ok = await super().send_direct(workspace, user, reply)
        if ok:
            self.times.append(self.clock.now())
        return ok

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        return f"https://chat.example/{workspace}/{channel}/{message_id}" if self.links else None


def core_on(store, clock: FakeClock, owner: str = "p1", links: bool = True) -> Rapport:
    core = Rapport(store, clock, TimedOutbound(clock=clock, links=links))
    core.ticker.owner = owner
    return core


def meeting_log(store, meetings: list[Meeting]) -> MeetingLog:
    return MeetingLog(meetings, store.coffee)


async def people(store, *specs: tuple[str, str | None]) -> None:
    await store.members.upsert([Member(WS, user, user.title(), tz) for user, tz in specs])
    # A message makes the workspace known to the graph (the fake lists workspaces by their messages).
    await store.graph.record([Outcome(SeenMessage(WS, "C0", f"hello-{specs[0][0]}", specs[0][0], MONDAY))])


_ids = iter(range(1, 10**9))


async def ask(store, asker: str, addressee: str, at: datetime, answered_after: timedelta | None = None) -> str:
    msg = f"m{next(_ids)}"
    outcomes = [Outcome(SeenMessage(WS, "C1", msg, asker, at, is_question=True),
                        (Question(WS, msg, "C1", None, asker, addressee, at, at + QUESTION_WINDOW),),
                        (), (Contact(WS, msg, asker, addressee, at, "question"),))]
    if answered_after is not None:
        reply, when = f"m{next(_ids)}", at + answered_after
        outcomes.append(Outcome(SeenMessage(WS, "C1", reply, addressee, when, reply_to=msg), (),
                                (Answer(WS, msg, addressee, addressee, when, reply),),
                                (Contact(WS, reply, addressee, asker, when, "answer"),)))
    await store.graph.record(outcomes)
    return msg


async def chat(store, source: str, target: str, at: datetime) -> None:
    msg = f"m{next(_ids)}"
    await store.graph.record([Outcome(SeenMessage(WS, "C1", msg, source, at), (), (),
                                      (Contact(WS, msg, source, target, at, "chat"),))])


async def run(core: Rapport, clock: FakeClock, until: datetime, step: timedelta = timedelta(hours=1)) -> None:
    while clock.now() < until:
        await core.ticker.tick()
        clock.advance(seconds=step.total_seconds())


async def nudges_sent(core: Rapport) -> list[tuple[str, Nudge, datetime, Reply]]:
    """(recipient, the nudge, when, reply) for each DM that was a nudge."""
    out = []
    for (kind, _ws, to, reply), at in zip(timed(core).sent, timed(core).times, strict=True):
        if kind == "dm" and reply.buttons and reply.buttons[0].action_id == "nudge:done":
            nudge = await core.store.nudges.get(int(reply.buttons[0].value))
            if nudge is not None:
                out.append((to, nudge, at, reply))
    return out


async def command(core: Rapport, user: str, text: str) -> Reply:
    return await core.on_command(CommandInvoked(WS, "C1", user, text))


async def press(core: Rapport, user: str, action: str, value: str) -> Reply:
    reply = await core.on_button(ButtonPressed(WS, "D1", user, action, value))
    assert reply is not None
    return reply


def timed(core: Rapport) -> TimedOutbound:
    assert isinstance(core.outbound, TimedOutbound)
    return core.outbound


# --- kinds --------------------------------------------------------------------------------------------------------


async def test_an_unanswered_question_reminds_its_addressee_with_a_link_in_their_hours(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=15))
    await people(store, ("ana", "Europe/Berlin"), ("bob", "America/New_York"))
    msg = await ask(store, "ana", "bob", clock.now())
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=10))
    sent = await nudges_sent(core)
    assert [(to, n.kind, n.subject) for to, n, _, _ in sent] == [("bob", Kind.UNANSWERED, "ana")]
    _, _, at, reply = sent[0]
    assert at >= clock.now() - timedelta(days=10) and at > MONDAY + timedelta(hours=15) + QUESTION_WINDOW
    local = at.astimezone(ZoneInfo("America/New_York"))
    assert 9 <= local.hour < 17 and local.weekday() < 5
    assert f"https://chat.example/{WS}/C1/{msg}" in reply.text and "<@ana>" in reply.text
    assert [b.action_id for b in reply.buttons] == ["nudge:done", "nudge:snooze", "nudge:snooze", "nudge:mute"]


async def test_without_permalinks_the_reminder_names_the_channel(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=10))
    await people(store, ("ana", None), ("bob", None))
    await ask(store, "ana", "bob", clock.now())
    core = core_on(store, clock, links=False)
    await run(core, clock, MONDAY + timedelta(days=9))
    [(_, _, _, reply)] = await nudges_sent(core)
    assert "in <#C1>" in reply.text and "https://" not in reply.text


async def test_a_question_answered_in_time_or_before_delivery_brings_no_reminder(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=10))
    await people(store, ("ana", None), ("bob", "America/New_York"))
    await ask(store, "ana", "bob", clock.now(), answered_after=timedelta(days=1))
    late = await ask(store, "ana", "bob", clock.now())
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=8, hours=1))  # planned at 00:00 UTC, waiting for 09:00 in New York
    pending = await store.nudges.recent(WS, "bob", 10)
    assert [(n.kind, n.ref, n.status) for n in pending] == [(Kind.UNANSWERED, late, PENDING)]
    reply = f"m{next(_ids)}"
    at = clock.now()
    await store.graph.record([Outcome(SeenMessage(WS, "C1", reply, "bob", at, reply_to=late), (),
                                      (Answer(WS, late, "bob", "bob", at, reply),), ())])
    await run(core, clock, MONDAY + timedelta(days=12))
    assert await nudges_sent(core) == []
    assert (await store.nudges.recent(WS, "bob", 10))[0].status == DROPPED


async def test_after_a_coffee_each_gets_one_act_of_giving_a_day_later(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=9))
    await people(store, ("ana", None), ("bob", None), ("cat", None), ("dan", None))
    await store.profiles.save(Profile(WS, "bob", looking_for="a mentor in public speaking"))
    await store.profiles.save(Profile(WS, "cat", capability="public speaking, Python", behaviour="sourdough bread"))
    await store.profiles.save(Profile(WS, "ana", behaviour="sourdough baking"))
    await store.profiles.save(Profile(WS, "dan", behaviour="sourdough"))
    met = MONDAY + timedelta(days=1, hours=11)
    store.coffee = meeting_log(store, [Meeting(WS, "C9", "2026-W10", ("ana", "bob"), met),
                                       Meeting(WS, "C9", "2026-W10b", ("cat", "dan"), met)])
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=4))
    sent = {to: (n, at, reply) for to, n, at, reply in await nudges_sent(core)}
    assert set(sent) == {"ana", "bob", "cat", "dan"}
    for n, at, _ in sent.values():
        assert n.kind is Kind.FOLLOW_UP and at >= MONDAY + timedelta(days=2, hours=11)
    assert "introduce them" in sent["ana"][2].text.lower() and "<@cat>" in sent["ana"][2].text  # bob's wish
    assert "public speaking" in sent["ana"][2].text
    assert "you both care about" in sent["cat"][2].text.lower() and "sourdough" in sent["cat"][2].text.lower()
    assert "thanks" in sent["bob"][2].text  # ana looks for nothing and shares nothing with bob


async def test_share_sends_the_link_and_note_and_keeps_only_that_it_happened(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=10))
    await people(store, ("ana", None), ("bob", None))
    core = core_on(store, clock)
    for bad in ("javascript:alert(1)", "ftp://x.org/a", "https://", "notaurl"):
        reply = await command(core, "ana", f"share <@bob> {bad} worth it")
        assert "http" in reply.text and timed(core).sent == []
    assert "note" in (await command(core, "ana", "share <@bob> https://example.org/a")).text
    reply = await command(core, "ana", 'share <@bob> https://example.org/talks?id=3 "You asked about talks @here"')
    assert "Sent" in reply.text
    [(kind, _, to, dm)] = timed(core).sent
    assert (kind, to) == ("dm", "bob") and "https://example.org/talks?id=3" in dm.text and "<@ana>" in dm.text
    assert "You asked about talks" in dm.text and "@here" not in dm.text  # neutralised, cannot ping
    exported = await store.nudges.export_member(WS, "bob")
    assert exported["shares"][0]["direction"] == "received" and exported["shares"][0]["other"] == "ana"
    assert "example.org" not in repr(exported) and "talks" not in repr(exported)
    assert await store.nudges.gave(WS, "ana", "bob", MONDAY)


async def test_a_follow_up_already_acted_on_is_not_sent(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=9))
    await people(store, ("ana", None), ("bob", None))
    store.coffee = meeting_log(store, [Meeting(WS, "C9", "r1", ("ana", "bob"), MONDAY + timedelta(hours=10))])
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(hours=12))
    await command(core, "ana", "share <@bob> https://example.org/a thought of you")
    await run(core, clock, MONDAY + timedelta(days=3))
    assert [to for to, *_ in await nudges_sent(core)] == ["bob"]


async def test_a_cooling_relationship_gets_a_nudge_to_reconnect_with_a_starter(store) -> None:
    start = MONDAY - timedelta(days=40)
    await people(store, ("ana", None), ("bob", None), ("cat", None))
    await store.profiles.save(Profile(WS, "bob", behaviour="trail running"))
    for day in range(0, 12, 2):  # acquaintances in touch every other day ...
        await ask(store, "ana", "bob", start + timedelta(days=day, hours=10), answered_after=timedelta(hours=1))
        await chat(store, "cat", "ana", start + timedelta(days=day, hours=11))  # ... a pair that only talked
    clock = FakeClock(MONDAY + timedelta(hours=8))  # ... then four weeks of silence
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=2))
    sent = [(to, n.subject, reply.text) for to, n, _, reply in await nudges_sent(core) if n.kind is Kind.COOLING]
    assert sorted((to, subject) for to, subject, _ in sent) == [("ana", "bob"), ("bob", "ana")]
    to_ana = next(text for to, _, text in sent if to == "ana")
    assert "reconnect" in to_ana and "trail running" in to_ana


async def test_peers_hear_it_once_and_only_when_it_is_news(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=8))
    await people(store, ("ana", None), ("bob", None), ("old", None), ("pal", None))
    for when in (MONDAY - timedelta(days=60), MONDAY - timedelta(days=59)):  # peers long ago: not news
        await ask(store, "old", "pal", when, answered_after=timedelta(hours=1))
        await ask(store, "pal", "old", when, answered_after=timedelta(hours=1))
    await ask(store, "ana", "bob", MONDAY - timedelta(days=3), answered_after=timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=2))
    assert [n.kind for _, n, _, _ in await nudges_sent(core)] == []  # acquaintances: nothing to say yet
    await ask(store, "bob", "ana", clock.now(), answered_after=timedelta(hours=2))  # bob asks back
    await run(core, clock, MONDAY + timedelta(days=12))
    stage = [(to, n.subject, r.text) for to, n, _, r in await nudges_sent(core) if n.kind is Kind.STAGE]
    assert sorted(to for to, _, _ in stage) == ["ana", "bob"]
    assert all("now *peers*" in text for _, _, text in stage)


async def test_someone_who_never_asks_is_invited_to_ask_a_question(store) -> None:
    clock = FakeClock(MONDAY + timedelta(hours=8))
    await people(store, ("ana", None), ("bob", None))
    for day in range(6):
        await chat(store, "ana", "bob", MONDAY - timedelta(days=8 - day, hours=-10))
    await ask(store, "bob", "ana", MONDAY - timedelta(days=2, hours=-10), answered_after=timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=2))
    ask_back = [(to, n.subject) for to, n, _, _ in await nudges_sent(core) if n.kind is Kind.ASK_BACK]
    assert ask_back == [("ana", "bob")]  # bob has asked ana; ana never asked bob


# --- rules --------------------------------------------------------------------------------------------------------


async def _five_candidates(store, recipient: str = "bob") -> None:
    """Five nudges for bob at once: two unanswered questions, two follow-ups, one new peer."""
    await people(store, (recipient, None), ("ana", None), ("cat", None), ("dan", None), ("eve", None))
    day = MONDAY - timedelta(days=QUESTION_WINDOW.days, hours=-1)
    await ask(store, "ana", recipient, day)
    await ask(store, "cat", recipient, day)
    store.coffee = meeting_log(store, [Meeting(WS, "C9", "r", (recipient, "dan"), MONDAY - timedelta(days=1)),
                                       Meeting(WS, "C9", "s", (recipient, "eve"), MONDAY - timedelta(days=1))])
    await ask(store, "eve", recipient, MONDAY - timedelta(days=2), answered_after=timedelta(hours=1))
    await ask(store, recipient, "eve", MONDAY - timedelta(days=2), answered_after=timedelta(hours=1))


async def test_a_weekly_cap_one_a_day_and_the_most_valuable_first(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=7))
    sent = [(n.kind, at) for to, n, at, _ in await nudges_sent(core) if to == "bob"]
    assert [k for k, _ in sent] == [Kind.UNANSWERED, Kind.UNANSWERED, Kind.FOLLOW_UP]
    assert len({at.date() for _, at in sent}) == 3
    assert all(at.hour == 9 for _, at in sent)  # each at the start of bob's working day


async def test_members_set_their_own_cap_days_off_and_quiet_hours(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    assert "1" in (await command(core, "bob", "nudges cap 1")).text
    assert "Mon, Tue" in (await command(core, "bob", "nudges days mon tue")).text
    assert "09:00-13:00" in (await command(core, "bob", "nudges quiet 09:00-13:00")).text
    assert "Give a number" in (await command(core, "bob", "nudges cap lots")).text
    assert "quiet hours like" in (await command(core, "bob", "nudges quiet later")).text
    await run(core, clock, MONDAY + timedelta(days=7))
    [(kind, at)] = [(n.kind, at) for to, n, at, _ in await nudges_sent(core) if to == "bob"]
    assert kind is Kind.UNANSWERED and at == MONDAY + timedelta(days=2, hours=13)  # Wednesday, after quiet hours
    view = await command(core, "bob", "nudges")
    settings = next(s for s in view.sections if s.title == "Settings").lines
    assert "Quiet hours: 09:00-13:00" in settings and "Days off: Mon, Tue" in settings
    assert any("up to 1 a week" in line for line in settings)
    assert any("unanswered question from <@" in line for line in next(s for s in view.sections
                                                                          if s.title == "Recent").lines)


async def test_nudges_off_drops_what_was_planned_and_on_brings_new_ones(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(hours=2))
    assert len(await store.nudges.recent(WS, "bob", 10)) == 3  # bob's weekly cap: the rest may come later
    assert "off" in (await command(core, "bob", "nudges off")).text
    await run(core, clock, MONDAY + timedelta(days=3))
    assert [to for to, *_ in await nudges_sent(core) if to == "bob"] == []
    assert {n.status for n in await store.nudges.recent(WS, "bob", 10)} == {DROPPED}
    await command(core, "bob", "nudges on")
    await ask(store, "dan", "bob", clock.now() - QUESTION_WINDOW + timedelta(hours=1))
    await run(core, clock, MONDAY + timedelta(days=5))
    assert [(n.kind, n.subject) for to, n, _, _ in await nudges_sent(core) if to == "bob"] == [
        (Kind.UNANSWERED, "dan")]


async def test_buttons_done_snooze_and_no_more_of_these(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(hours=10))
    [(_, first, _, reply)] = [s for s in await nudges_sent(core) if s[0] == "bob"]
    assert "no longer around" in (await press(core, "ana", "nudge:done", str(first.id))).text  # not hers
    assert "a day" in (await press(core, "bob", "nudge:snooze", f"{first.id}:1")).text
    await run(core, clock, MONDAY + timedelta(days=2, hours=10))
    sent = [(n.id, at) for to, n, at, _ in await nudges_sent(core) if to == "bob"]
    second = sent[1][0]
    assert [i for i, _ in sent] == [first.id, second, first.id]  # the snoozed one again, as asked
    assert sent[2][1] == MONDAY + timedelta(days=2, hours=9)
    assert "Marked as done" in (await press(core, "bob", "nudge:done", str(first.id))).text
    assert (await store.nudges.get(first.id)).status == "done"
    mute = next(b for b in reply.buttons if b.action_id == "nudge:mute")
    assert "No more nudges about unanswered questions" in (await press(core, "bob", mute.action_id, mute.value)).text
    assert (await store.nudges.settings(WS, "bob")).muted == frozenset({"unanswered"})
    await ask(store, "dan", "bob", clock.now() - QUESTION_WINDOW - timedelta(hours=1))
    await plan(store, WS, clock.now())
    assert not [n for n in await store.nudges.recent(WS, "bob", 10) if n.subject == "dan" and n.kind == "unanswered"]
    await run(core, clock, MONDAY + timedelta(days=9))
    later = [(to, n.kind) for to, n, _, _ in await nudges_sent(core)][len(sent) + 3:]  # + dan, eve, eve's peers
    # The snoozed reminder did not take another slot of the cap: one more for bob, then the week is full.
    assert [at for to, _, at, _ in await nudges_sent(core) if to == "bob"][-1] == MONDAY + timedelta(days=8, hours=9)
    assert later == [("bob", Kind.FOLLOW_UP), ("bob", Kind.STAGE)]  # the last once Tuesday's slot freed
    assert {n.status for n in await store.nudges.recent(WS, "bob", 10)} <= {"sent", "done", "expired"}


async def test_never_to_or_about_someone_who_left_paused_or_erased(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(hours=2))  # planned, waiting for 09:00
    planned = {n.subject for n in await store.nudges.recent(WS, "bob", 10)}
    assert len(planned) == 3 and {"ana", "cat"} < planned  # the weekly cap's worth, most valuable first
    await store.privacy.pause(WS, "ana", clock.now())
    await erase(store, WS, "cat", clock.now())
    assert all(n.subject != "cat" for n in await store.nudges.recent(WS, "bob", 10))  # erasure took them
    await run(core, clock, MONDAY + timedelta(days=7))
    subjects = [n.subject for to, n, _, _ in await nudges_sent(core) if to == "bob"]
    assert "ana" not in subjects and "cat" not in subjects and len(subjects) == 3
    # A member who is no longer in the workspace gets nothing planned.
    await people(store, ("zed", None))
    await ask(store, "zed", "bob", clock.now())
    await erase(store, WS, "bob", clock.now())
    await run(core, clock, MONDAY + timedelta(days=16))
    assert await store.nudges.recent(WS, "bob", 10) == []


async def test_export_and_erase_cover_nudges_settings_and_shares(store) -> None:
    await _five_candidates(store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    core = core_on(store, clock)
    await command(core, "bob", "nudges quiet 22:00-07:00")
    await command(core, "dan", "share <@bob> https://example.org/x for your talk")
    await run(core, clock, MONDAY + timedelta(hours=10))
    about_dan = await store.nudges.export_member(WS, "dan")
    assert {(n["direction"], n["other"]) for n in about_dan["nudges"]} >= {("about you", "bob"), ("to you", "bob")}
    mine = await store.nudges.export_member(WS, "bob")
    assert mine["nudge_settings"]["quiet_hours"] == "22:00-07:00" and len(mine["nudges"]) >= 5
    assert await store.nudges.erase_member(WS, "bob") >= 7
    gone = await store.nudges.export_member(WS, "bob")
    assert gone["nudges"] == [] and gone["shares"] == [] and gone["nudge_settings"]["quiet_hours"] == ""
    assert (await store.nudges.export_member(WS, "dan"))["shares"] == []


# --- time, restarts, processes --------------------------------------------------------------------------------------


async def test_across_the_daylight_saving_change_delivery_keeps_to_local_nine(store) -> None:
    friday = datetime(2026, 3, 6, 12, tzinfo=UTC)
    await people(store, ("ana", "America/New_York"), ("bob", None))
    await ask(store, "bob", "ana", friday - QUESTION_WINDOW + timedelta(hours=10))  # closes Friday 22:00 UTC
    clock = FakeClock(friday)
    core = core_on(store, clock)
    await run(core, clock, datetime(2026, 3, 10, tzinfo=UTC), step=timedelta(minutes=30))
    [(_, _, at, _)] = await nudges_sent(core)
    assert at == datetime(2026, 3, 9, 13, tzinfo=UTC)  # Monday 09:00 EDT; it was 14:00 UTC before Sunday


async def test_a_restart_between_planning_and_delivery_sends_once(sql_store) -> None:
    await _five_candidates(sql_store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    before = core_on(sql_store, clock, owner="before")
    await run(before, clock, MONDAY + timedelta(hours=3))
    assert len(await sql_store.nudges.recent(WS, "bob", 10)) == 3 and timed(before).sent == []
    url = sql_store.engine.url.render_as_string(hide_password=False)
    reopened = await SqlStore.open(url)
    try:
        reopened.coffee = sql_store.coffee
        after = core_on(reopened, clock, owner="after")
        await run(after, clock, MONDAY + timedelta(days=7))
        sent = await nudges_sent(after)
        assert [n.kind for to, n, _, _ in sent if to == "bob"] == [Kind.UNANSWERED, Kind.UNANSWERED, Kind.FOLLOW_UP]
        assert sorted(to for to, *_ in sent) == ["bob", "bob", "bob", "dan", "eve", "eve"]
        assert len({n.id for _, n, _, _ in sent}) == 6
    finally:
        await reopened.close()


async def test_two_processes_ticking_one_database_send_each_nudge_once(sql_store) -> None:
    await _five_candidates(sql_store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    one, two = core_on(sql_store, clock, owner="one"), core_on(sql_store, clock, owner="two")
    while clock.now() < MONDAY + timedelta(days=7):
        await one.ticker.tick()
        await two.ticker.tick()
        clock.advance(minutes=30)
    sent = await nudges_sent(one) + await nudges_sent(two)
    assert len([n.id for _, n, _, _ in sent]) == len({n.id for _, n, _, _ in sent})
    assert len(sent) == 3 + 3  # bob's weekly cap; dan and eve's follow-ups about bob, eve's new peer
    assert one.activity.nudges_sent + two.activity.nudges_sent == 6  # what /metrics reports, counted once


async def test_weeks_of_activity_in_several_time_zones_keep_every_rule(store) -> None:
    zones = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", None]
    users = [f"u{i}" for i in range(12)]
    await people(store, *((u, zones[i % len(zones)]) for i, u in enumerate(users)))
    await store.profiles.save(Profile(WS, "u3", tz="America/Los_Angeles", work_start=22, work_end=6))
    await store.nudges.save_settings(NudgeSettings(WS, "u4", quiet_start=12 * 60, quiet_end=14 * 60, cap=2))
    rng = random.Random(8)
    log = store.coffee = meeting_log(store, [])
    start = MONDAY - timedelta(days=14)
    for day in range(42):
        at = start + timedelta(days=day, hours=rng.randint(0, 23))
        for _ in range(4):
            a, b = rng.sample(users, 2)
            await ask(store, a, b, at, None if rng.random() < 0.4 else timedelta(hours=rng.randint(1, 30)))
            await chat(store, b, a, at + timedelta(minutes=5))
        if day % 7 == 1:
            shuffled = rng.sample(users, len(users))
            log.meetings += [Meeting(WS, "C9", f"w{day}", (shuffled[i], shuffled[i + 1]), at) for i in (0, 2, 4)]
    clock = FakeClock(MONDAY)
    core = core_on(store, clock)
    await run(core, clock, MONDAY + timedelta(days=28))
    sent = await nudges_sent(core)
    assert len(sent) > 20
    profiles = {p.user_id: p for p in await store.profiles.list(WS)}
    members = {m.user_id: m for m in await store.members.list(WS)}
    seen: set[tuple[str, str, int]] = set()
    from bot.nudges.policy import allowed

    for to, n, at, _ in sent:
        p = profiles.get(to)
        hours = hours_of(p.tz if p else None, p.work_start if p else None, p.work_end if p else None,
                         members[to].tz)
        assert allowed(at, hours, await store.nudges.settings(WS, to)), (to, at)
        assert (to, n.dedup, n.attempt) not in seen
        seen.add((to, n.dedup, n.attempt))
        window = [a for t, _, a, _ in sent if t == to and at - timedelta(days=7) < a <= at]
        assert len(window) <= (2 if to == "u4" else 3)
        assert len([a for a in window if at - timedelta(days=1) < a]) == 1
    assert {n.kind for _, n, _, _ in sent} >= {Kind.UNANSWERED, Kind.FOLLOW_UP}
    assert all(n.status == SENT for _, n, _, _ in sent)


async def test_a_nudge_cut_off_by_a_shutdown_is_sent_by_the_process_that_resumes(sql_store) -> None:
    """SIGTERM (or kill -9) while a nudge's DM is on its way: coffee rounds send that one message again rather
    than never (bot/scheduling.py); a nudge was marked failed by the process that resumed its run and left out for
    good, since its delivery key is not its run's key and the new claim went unseen."""
    await _five_candidates(sql_store)
    clock = FakeClock(MONDAY + timedelta(hours=1))
    stopping = core_on(sql_store, clock, owner="stopping")
    calling = asyncio.Event()
    cut_off: list[str] = []

    async def hang(workspace: str, user: str, reply: Reply) -> bool:
        cut_off.append(reply.buttons[0].value)
        calling.set()
        await asyncio.Event().wait()
        return True

    timed(stopping).send_direct = hang  # type: ignore[method-assign]

    async def ticking() -> None:
        while not calling.is_set() and clock.now() < MONDAY + timedelta(days=7):
            await stopping.ticker.tick()
            if not calling.is_set():
                clock.advance(hours=1)

    loop = asyncio.create_task(ticking())
    await asyncio.wait_for(calling.wait(), 30)
    await stopping.ticker.stop()
    await loop
    clock.advance(seconds=1)
    resumer = core_on(sql_store, clock, owner="resumer")
    await resumer.ticker.tick()
    assert cut_off[0] in {str(n.id) for _, n, _, _ in await nudges_sent(resumer)}
