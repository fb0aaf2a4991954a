"""The figures for leads read pair summaries (one light query), not every pair's full statistics: on a small random
workspace they must equal the straightforward computation from pair_stats and the ladder, on both stores."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from bot.domain.coffee import ChannelSettings, GroupRecord, Membership, RoundRecord, Seat
from bot.domain.members import member_hash
from bot.domain.nudges import DONE, FAILED, SENT, Kind, Nudge, NudgeSettings
from bot.domain.ties import PairSummary
from bot.events import Member
from bot.graph.conversation import OPEN, Contact, Outcome, Question, SeenMessage
from bot.graph.rapport import Stage, assess
from bot.insight.figures import MONTHS, SMALL, Count, Insights, Rate, _monthly, insights
from bot.insight.insights import sections, workspace_insights
from bot.insight.own_map import RINGS
from bot.insight.teams import TeamTies
from bot.ports import Store

WS = "T1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = [f"u{i:02d}" for i in range(16)]
LATE = ["v0", "v1", "v2", "v3"]
TEAMS = {u: ("Platform", "Data", "Design")[i % 3] for i, u in enumerate(PEOPLE[:13])}


async def random_workspace(store: Store, now: datetime = NOW) -> None:
    """20 members (one a bot, one paused), 160 random questions and chats over 8 months, coffee in 3 teams."""
    rng = random.Random(16)
    await store.members.upsert([Member(WS, u, f"Name {u}", is_bot=u == "u15") for u in PEOPLE])
    outcomes = []
    for n in range(160):
        asker, other = rng.sample(PEOPLE, 2)
        at = now - timedelta(days=rng.uniform(0, 240), minutes=n)
        seen = SeenMessage(WS, "C1", f"m{n}", asker, at)
        kind = rng.random()
        if kind < 0.55:  # a question, answered or not, sometimes still open to anyone
            addressee = OPEN if rng.random() < 0.1 else other
            answered = at + timedelta(hours=2) if rng.random() < 0.7 and addressee else None
            question = Question(WS, f"m{n}", "C1", None, asker, addressee, at, at + timedelta(days=7), answered,
                                f"r{n}" if answered else None)
            # Some questions leave no contact behind (an import without it): a pair of questions only.
            contacts = () if rng.random() < 0.2 or not addressee else (Contact(WS, f"m{n}", asker, other, at,
                                                                                 "question"),)
            outcomes.append(Outcome(seen, questions=(question,), contacts=contacts))
        else:
            outcomes.append(Outcome(seen, contacts=(Contact(WS, f"m{n}", asker, other, at, "chat"),)))
    await store.graph.record(outcomes)
    await store.privacy.pause(WS, "u03", now)
    await store.coffee.save_channel(ChannelSettings(WS, "CCOF", "weekly", 0, 10, 0, "UTC", date(2025, 9, 1)))
    for u, team in TEAMS.items():
        await store.coffee.save_membership(Membership(WS, "CCOF", u, now - timedelta(days=200), team=team))
    for weeks in (3, 2, 1):
        due = now - timedelta(weeks=weeks)
        people = rng.sample(list(TEAMS), 12)
        await store.coffee.save_round(RoundRecord(WS, "CCOF", due, "sent", tuple(
            GroupRecord(WS, "CCOF", due, i, (Seat(people[2 * i], answer="met" if rng.random() < 0.6 else None),
                                             Seat(people[2 * i + 1])))
            for i in range(6)), checkin_sent=True))
    # Two pairs whose first contact falls on the day of their round: an hour before it (not a first meeting) and
    # an hour after (the round's own meetup: a first meeting).
    due = now - timedelta(days=3)
    await store.members.upsert([Member(WS, u, u) for u in LATE])
    await store.graph.record([Outcome(SeenMessage(WS, "C1", f"late{i}", LATE[2 * i], due + timedelta(hours=hours)),
                                      contacts=(Contact(WS, f"late{i}", LATE[2 * i], LATE[2 * i + 1],
                                                        due + timedelta(hours=hours), "chat"),))
                              for i, hours in enumerate((-1, 1))])
    for u in LATE:
        await store.coffee.save_membership(Membership(WS, "CCOF", u, now - timedelta(days=200)))
    await store.coffee.save_round(RoundRecord(WS, "CCOF", due, "sent", (
        GroupRecord(WS, "CCOF", due, 0, (Seat(LATE[0]), Seat(LATE[1]))),
        GroupRecord(WS, "CCOF", due, 1, (Seat(LATE[2]), Seat(LATE[3]))))))


async def _straightforward(store: Store, now: datetime, channel: str | None = None) -> Insights:
    """The figures as first written: every pair's full statistics through the ladder's assess()."""
    known = {m.user_id for m in await store.members.list(WS) if not m.is_bot}
    untracked = await store.privacy.untracked(WS)
    channels = [c for c in await store.coffee.channels(WS) if channel is None or c.channel == channel]
    if channel is not None:
        known &= {m.user for c in channels for m in await store.coffee.memberships(WS, c.channel)}
    opted_in = {u for u in known if member_hash(WS, u) not in untracked}
    since = now - timedelta(days=31 * MONTHS)
    stages: Counter[Stage] = Counter()
    tied: set[str] = set()
    first: list[datetime] = []
    began: dict[frozenset[str], datetime] = {}
    for stats in await store.graph.pair_stats(WS, now):
        a = assess(stats, now)
        if stats.a not in opted_in or stats.b not in opted_in or a.stage is Stage.STRANGERS:
            continue
        stages[a.stage] += 1
        tied |= {stats.a, stats.b}
        if stats.first_contact:
            began[frozenset((stats.a, stats.b))] = stats.first_contact
            if stats.first_contact > since:
                first.append(stats.first_contact)
    members: set[str] = set()
    placed = asked = met = fresh = 0
    for c in channels:
        members |= {m.user for m in await store.coffee.memberships(WS, c.channel)}
        for record in await store.coffee.recent_rounds(WS, c.channel, now, limit=MONTHS * 5):
            if record.due_at < since:
                continue
            for group in record.placed:
                placed += 1
                asked += record.checkin_sent
                met += record.checkin_sent and any(seat.answer == "met" for seat in group.seats)
                fresh += not any(began.get(frozenset((x, y)), record.due_at) < record.due_at
                                 for x in group.members for y in group.members if x != y)
    few = len(opted_in) < SMALL
    nudges = [] if channel else await store.nudges.sent_times(WS, None, since)  # no nudges here: none acted on
    return Insights(WS, channel, Count(len(known)), Count(len(opted_in)),
                    tuple((s, Count(stages[s], few)) for s in RINGS), Count(len(opted_in - tied), few),
                    _monthly(first, now, few), Count(len(members & opted_in), few) if channels else None,
                    Count(placed, few), Rate(met, asked), Rate(fresh, placed), _monthly(nudges, now, few),
                    _monthly([], now, few))


async def test_pair_summaries_say_what_pair_stats_say(store: Store) -> None:
    await random_workspace(store)

    summaries = await store.graph.pair_summaries(WS)

    full = await store.graph.pair_stats(WS, NOW)
    assert summaries == [PairSummary(s.a, s.b, s.answered_ab, s.answered_ba, s.first_contact) for s in full]
    assert any(s.first_contact is None for s in summaries) and any(s.answered_ab > 1 for s in summaries)
    # One member's statistics (read by index, as two searches) are the workspace's rows that hold them.
    for user in ("u00", "u07"):
        assert await store.graph.pair_stats(WS, NOW, user=user) == [s for s in full if user in (s.a, s.b)]


async def test_the_figures_equal_the_straightforward_computation(store: Store) -> None:
    await random_workspace(store)

    figures, teams = await workspace_insights(store, WS, NOW)

    assert figures == await _straightforward(store, NOW)
    assert await insights(store, WS, NOW, "CCOF") == await _straightforward(store, NOW, "CCOF")
    assert sum(c.value for _, c in figures.pairs) > 20 and figures.coffee_groups.value == 20
    assert 0 < figures.first_contacts.part < 20  # some groups met for the first time, some had met before
    assert figures.opted_in.value == 18  # 20 people, one a bot, one paused
    # The team table: pairs of tracked, named members by their teams, from the same stage rules.
    pairs = [s for s in await store.graph.pair_stats(WS, NOW)
             if {s.a, s.b} <= TEAMS.keys() - {"u03"} and assess(s, NOW).stage is not Stage.STRANGERS]
    expected = Counter(tuple(sorted((TEAMS[s.a], TEAMS[s.b]))) for s in pairs)
    assert isinstance(teams, TeamTies)
    assert {(a, b): c.value for a, b, c in teams.ties} == expected
    assert dict((t, c.value) for t, c in teams.teams) == Counter(TEAMS[u] for u in TEAMS if u != "u03")


async def test_nudges_acted_on_are_those_followed_by_their_step(store: Store) -> None:
    sent_at = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
    people = [f"{role}{i}" for i in range(1, 8) for role in ("r", "s")]
    await store.members.upsert([Member(WS, u, u) for u in people])

    def nudge(i: int, kind: Kind, status: str = SENT) -> Nudge:
        return Nudge(WS, f"r{i}", kind, f"s{i}", f"ref{i}", 1, sent_at, sent_at, sent_at, status=status,
                     sent_at=sent_at)

    await store.nudges.add([
        nudge(1, Kind.COOLING),  # r1 writes to s1 two days later: acted on
        nudge(2, Kind.UNANSWERED),  # r2 answers s2 ten days later: too late to count
        nudge(3, Kind.ASK_BACK),  # s3 asks r3, not the other way round: not acted on
        nudge(4, Kind.FOLLOW_UP),  # r4 shares a link with s4 the next day: acted on
        nudge(5, Kind.STAGE, DONE),  # marked done: acted on
        nudge(6, Kind.COOLING, DONE),  # done by "no more of these": not acted on
        nudge(7, Kind.COOLING, FAILED),  # never went out: not counted at all
    ])
    await store.nudges.save_settings(NudgeSettings(WS, "r6", muted=frozenset({Kind.COOLING.value})))
    touches = [("r1", "s1", 2), ("r2", "s2", 10), ("s3", "r3", 1), ("r1", "s1", -3)]
    await store.graph.record([Outcome(SeenMessage(WS, "C1", f"n{i}", a, sent_at + timedelta(days=d)),
                                      contacts=(Contact(WS, f"n{i}", a, b, sent_at + timedelta(days=d), "reply"),))
                              for i, (a, b, d) in enumerate(touches)])
    await store.nudges.record_share(WS, "r4", "s4", sent_at + timedelta(days=1))

    figures = await insights(store, WS, NOW)

    assert [(m.month, m.count.value) for m in figures.nudges[-2:]] == [("2026-02", 6), ("2026-03", 0)]
    assert [(m.month, m.count.value) for m in figures.nudges_acted[-2:]] == [("2026-02", 3), ("2026-03", 0)]
    shown = "\n".join(line for section in sections(figures) for line in section.lines)
    assert "Acted on per month" in shown and "2026-02: fewer than 5 of 6 (50%)" in shown
