"""Every port method (bot/ports.py) on both implementations: the in-memory fake and the SQL store (SQLite, and
PostgreSQL in CI's PostgreSQL pass). What the core relies on is asserted here, so the fake cannot drift from SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from bot.domain.coffee import ChannelSettings, GroupRecord, Membership, RoundRecord, Seat, pair
from bot.domain.members import member_hash
from bot.domain.nudges import DONE, PENDING, SENT, Kind, Nudge, NudgeSettings
from bot.domain.profiles import Profile
from bot.events import ConversationDeleted, Member, MessagePosted
from bot.graph.conversation import OPEN, Answer, Contact, Outcome, Question, SeenMessage
from bot.intake.ingest import forget_conversation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS, OTHER = "T1", "T2"
LEASE = timedelta(seconds=30)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def seen(mid: str, author: str, minutes: float, ws: str = WS, **kw) -> SeenMessage:
    return SeenMessage(ws, "C1", mid, author, at(minutes), **kw)


def question(mid: str, asker: str, addressee: str, minutes: float, ws: str = WS) -> Question:
    return Question(ws, mid, "C1", None, asker, addressee, at(minutes), at(minutes + 60))


def contact(mid: str, source: str, target: str, minutes: float, ws: str = WS) -> Contact:
    return Contact(ws, mid, source, target, at(minutes), "question")


async def asked(store, ws: str = WS, minutes: float = 0) -> None:
    """ana asks bob a question (message q1), in contact with him; cid says something too."""
    await store.graph.record([
        Outcome(seen("q1", "ana", minutes, ws, is_question=True),
                questions=(question("q1", "ana", "bob", minutes, ws),),
                contacts=(contact("q1", "ana", "bob", minutes, ws),)),
        Outcome(seen("m2", "cid", minutes + 1, ws)),
    ])


def nudge(recipient: str, subject: str, ref: str, minutes: float = 0, ws: str = WS, kind: Kind = Kind.STAGE) -> Nudge:
    return Nudge(ws, recipient, kind, subject, ref, 20, at(minutes), at(minutes), at(minutes))


def settings(channel: str = "C1", ws: str = WS, next_run_at: datetime | None = None) -> ChannelSettings:
    return ChannelSettings(ws, channel, "weekly", 0, 10, 0, "UTC", date(2026, 3, 2), next_run_at=next_run_at,
                           manager="mia")


def planned(due_at: datetime, *groups: tuple[str, ...], ws: str = WS) -> RoundRecord:
    return RoundRecord(ws, "C1", due_at, "planned", tuple(
        GroupRecord(ws, "C1", due_at, i, tuple(Seat(u) for u in users)) for i, users in enumerate(groups)))


# --- members ----------------------------------------------------------------------------------------------------


async def test_members_upsert_get_list(store) -> None:
    await store.members.upsert([Member(WS, "ana", "Ana", tz="Europe/Berlin"), Member(OTHER, "ana", "Ana")])
    await store.members.upsert([Member(WS, "ana", "Ana B.")])  # no time zone given: the known one stays
    ana = await store.members.get(WS, "ana")
    assert ana is not None and (ana.name, ana.tz) == ("Ana B.", "Europe/Berlin")
    assert await store.members.get(WS, "zed") is None
    assert [m.user_id for m in await store.members.list(WS)] == ["ana"]


# --- the graph --------------------------------------------------------------------------------------------------


async def test_graph_record_context_forget_and_workspaces(store) -> None:
    await asked(store)
    await asked(store, OTHER)
    again = Outcome(seen("q1", "ana", 0, is_question=True), questions=(question("q1", "ana", "bob", 0),))
    assert await store.graph.record([again]) == 0  # recorded already
    event = MessagePosted(WS, "C1", "m3", "bob", at(5), "sure", reply_to="q1")
    messages, questions = await store.graph.context(WS, "C1", [event])
    assert "q1" in {m.message_id for m in messages}
    assert [q.message_id for q in questions] == ["q1"]
    assert await store.graph.workspaces() == [WS, OTHER]
    await store.graph.forget_messages(WS, ["q1"])
    messages, questions = await store.graph.context(WS, "C1", [event])
    assert "q1" not in {m.message_id for m in messages} and questions == []


async def test_a_deleted_channel_or_thread_takes_its_messages_with_it(store) -> None:
    await asked(store)  # q1 and m2 in C1
    await asked(store, OTHER)
    await store.graph.record([
        Outcome(SeenMessage(WS, "C1", "t1", "bob", at(2), thread_id="q1")),
        Outcome(SeenMessage(WS, "C1", "t2", "cid", at(3), thread_id="q1")),
        Outcome(SeenMessage(WS, "C2", "x1", "ana", at(4))),
    ])
    assert await store.graph.messages_in(WS, "C1", "q1") == ["t1", "t2"]  # the thread; its root is C1's
    assert await store.graph.messages_in(WS, "C1") == ["m2", "q1", "t1", "t2"]
    assert await store.graph.messages_in(WS, "C9") == []
    assert await forget_conversation(store, ConversationDeleted(WS, "C1")) == 4
    assert await store.graph.messages_in(WS, "C1") == [] and await store.graph.messages_in(WS, "C2") == ["x1"]
    assert not [q for q in await store.graph.pair_summaries(WS)]  # ana's question went with its channel
    assert await store.graph.messages_in(OTHER, "C1") == ["m2", "q1"]  # another workspace's channel of that id


async def test_graph_forgets_a_whole_big_channel_and_only_that_workspaces_answers(store) -> None:
    many = [Outcome(seen(f"m{n}", "cid" if n % 2 else "dee", n / 100)) for n in range(2345)]  # over a chunk
    await store.graph.record(many)
    for ws in (WS, OTHER):  # in each workspace, bob's message "a1" answers ana's question
        await store.graph.record([Outcome(seen("q1", "ana", 0, ws, is_question=True),
                                          questions=(question("q1", "ana", "bob", 0, ws),),
                                          contacts=(contact("q1", "ana", "bob", 0, ws),))])
        await store.graph.record([Outcome(seen("a1", "bob", 1, ws, reply_to="q1"),
                                          answers=(Answer(ws, "q1", "bob", "bob", at(1), "a1"),))])
    await store.graph.forget_messages(WS, [*(f"m{n}" for n in range(2345)), "a1"])
    assert await store.graph.messages_in(WS, "C1") == ["q1"]
    answered = {ws: [(s.a, s.b, s.answered_ab) for s in await store.graph.pair_stats(ws, at(120))]
                for ws in (WS, OTHER)}
    assert answered == {WS: [("ana", "bob", 0)], OTHER: [("ana", "bob", 1)]}


async def test_graph_keeps_whom_flat_chat_speaks_to_and_forgets_it_with_the_message_or_the_member(store) -> None:
    await store.graph.record([
        Outcome(seen("m1", "ana", 0, to=frozenset({"bob"}), mentions=frozenset({"bob", "cid"}))),
        Outcome(seen("m2", "cid", 1, mentions=frozenset({"ana"}))),
        Outcome(seen("m3", "bob", 2)),
    ])
    event = MessagePosted(WS, "C1", "m4", "dan", at(3), "anyone?")

    async def addressing() -> dict[str, tuple[set[str], set[str]]]:
        messages, _ = await store.graph.context(WS, "C1", [event])
        return {m.message_id: (set(m.to), set(m.mentions)) for m in messages}

    assert await addressing() == {"m1": ({"bob"}, {"bob", "cid"}), "m2": (set(), {"ana"}), "m3": (set(), set())}
    export = await _export(store, WS, "ana")
    assert (export["addressees_of_your_messages"], export["messages_addressing_you"]) == (2, 1)
    for repository in store.personal:
        await repository.erase_member(WS, "cid")  # her message goes, and she from ana's
    assert await addressing() == {"m1": ({"bob"}, {"bob"}), "m3": (set(), set())}
    await store.graph.forget_messages(WS, ["m1"])
    await store.graph.record([Outcome(seen("m1", "ana", 0))])  # the same id again: nothing left over
    assert await addressing() == {"m1": (set(), set()), "m3": (set(), set())}


async def test_graph_keeps_whom_a_message_speaks_to_only_while_replies_to_it_are_read(store) -> None:
    """Of a batch (a history import), only messages within the last hour of their channel keep their addressees;
    the daily retention forgets them after that."""
    bob = frozenset({"bob"})
    await store.graph.record([Outcome(seen("old", "ana", 0, to=bob, mentions=bob)),
                              Outcome(seen("new", "ana", 90, to=bob, mentions=bob)),
                              Outcome(seen("late", "cid", 95, to=bob, mentions=bob))])
    event = MessagePosted(WS, "C1", "m4", "dan", at(96), "anyone?")

    async def spoken_to() -> dict[str, frozenset[str]]:
        return {m.message_id: m.to for m in (await store.graph.context(WS, "C1", [event]))[0] if m.to}

    assert await spoken_to() == {"new": bob, "late": bob}
    assert (await _export(store, WS, "bob"))["messages_addressing_you"] == 2  # not "old"
    assert await store.graph.expire_addressing(WS, at(92)) == 1
    assert await spoken_to() == {"late": bob}
    assert await store.graph.expire_addressing(OTHER, at(200)) == 0


async def test_graph_an_open_question_takes_each_answerer_once_in_later_batches(store) -> None:
    await store.graph.record([Outcome(seen("q1", "ana", 0, is_question=True),
                                      questions=(question("q1", "ana", OPEN, 0),))])

    def answer(mid: str, who: str, minutes: float) -> Outcome:
        return Outcome(seen(mid, who, minutes, reply_to="q1"),
                       answers=(Answer(WS, "q1", OPEN, who, at(minutes), mid),))

    await store.graph.record([answer("a1", "bob", 1)])
    await store.graph.record([answer("a2", "cid", 2), answer("a3", "bob", 3)])
    event = MessagePosted(WS, "C1", "m9", "dee", at(4), "and me", reply_to="q1")
    _, questions = await store.graph.context(WS, "C1", [event])
    # The open question stays answerable, and says who answered it already.
    assert sorted((q.addressee, q.answer_id) for q in questions) == [(OPEN, "a1"), ("bob", "a1"), ("cid", "a2")]
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.asked_ab, s.answered_ab) for s in stats] == [("ana", "bob", 1, 1), ("ana", "cid", 1, 1)]

    await store.graph.forget_messages(WS, ["a2"])  # an answer deleted: its answerer's edge goes with it
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.answered_ab) for s in stats] == [("ana", "bob", 1)]

    for repository in store.personal:  # Bob erased: nothing says which message of his answered
        await repository.erase_member(WS, "bob")
    _, questions = await store.graph.context(WS, "C1", [event])
    assert [(q.addressee, q.answer_id, q.answered_at is not None) for q in questions] == [(OPEN, None, True)]


async def test_graph_a_question_back_is_answered_by_its_addressee_and_by_a_bystander(store) -> None:
    # In flat chat a question back is put to the asker it answers and open as well (bot.graph.conversation, rule 4).
    await store.graph.record([Outcome(seen("q1", "bob", 0, is_question=True),
                                      questions=(question("q1", "bob", "ana", 0), question("q1", "bob", OPEN, 0)),
                                      contacts=(contact("q1", "bob", "ana", 0),))])
    await store.graph.record([Outcome(seen("a1", "cid", 1), answers=(Answer(WS, "q1", OPEN, "cid", at(1), "a1"),))])
    await store.graph.record([Outcome(seen("a2", "ana", 2), answers=(Answer(WS, "q1", "ana", "ana", at(2), "a2"),
                                                                     Answer(WS, "q1", OPEN, "ana", at(2), "a2")))])
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.asked_ab, s.answered_ab, s.asked_ba, s.answered_ba) for s in stats] == [
        ("ana", "bob", 0, 0, 1, 1), ("bob", "cid", 1, 1, 0, 0)]  # Bob asked Ana and Cid; both answered
    await store.graph.forget_messages(WS, ["a1"])  # the bystander's answer deleted: their edge goes with it
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.asked_ba, s.answered_ba) for s in stats] == [("ana", "bob", 1, 1)]
    await store.graph.forget_messages(WS, ["a2"])  # the addressee's answer deleted: put to her, it waits again
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.asked_ba, s.answered_ba, s.unanswered_ba) for s in stats] == [("ana", "bob", 1, 0, 1)]


async def test_graph_pair_stats(store) -> None:
    await asked(store)
    stats = await store.graph.pair_stats(WS, at(120))
    assert [(s.a, s.b, s.asked_ab, s.answered_ab, s.unanswered_ab) for s in stats] == [("ana", "bob", 1, 0, 1)]
    assert await store.graph.pair_stats(WS, at(120), user="cid") == []


# --- runs -------------------------------------------------------------------------------------------------------


async def test_runs_claim_renew_finish(store) -> None:
    runs = store.runs
    assert await runs.claim("k", "p1", T0, LEASE)
    assert not await runs.claim("k", "p2", T0, LEASE)
    assert await runs.renew("k", "p1", at(0.1), LEASE) and not await runs.renew("k", "p2", at(0.1), LEASE)
    assert await runs.claim("k", "p2", at(5), LEASE)  # p1's lease ran out unfinished
    assert not await runs.finished("k")
    await runs.finish("k", at(6))
    assert await runs.finished("k") and not await runs.claim("k", "p3", at(60), LEASE)


async def test_runs_deliver_once(store) -> None:
    runs = store.runs
    await runs.claim("k", "p1", T0, LEASE)
    assert await runs.delivery("k", "g1.1") is None
    assert await runs.deliver_once("k", "g1.1", T0)
    assert await runs.delivery("k", "g1.1") == "sending"
    assert not await runs.deliver_once("k", "g1.1", T0)
    await runs.delivered("k", "g1.1", True, T0)
    assert await runs.delivery("k", "g1.1") == "sent"
    await runs.deliver_once("k", "g1.2", T0)
    await runs.delivered("k", "g1.2", False, T0)
    assert await runs.delivery("k", "g1.2") == "failed"


async def test_runs_forget_deliveries_before(store) -> None:
    runs = store.runs
    await runs.deliver_once("old", "ana", T0)
    await runs.delivered("old", "ana", True, at(1))
    await runs.deliver_once("new", "ana", at(10))
    assert await runs.forget_deliveries(at(5)) == 1
    assert await runs.delivery("old", "ana") is None and await runs.delivery("new", "ana") == "sending"
    assert await runs.forget_deliveries(at(5)) == 0


# --- privacy ----------------------------------------------------------------------------------------------------


async def test_privacy_pause_resume_forget_forever(store) -> None:
    await store.privacy.pause(WS, "ana", T0)
    await store.privacy.forget_forever(WS, member_hash(WS, "bob"), T0)
    assert await store.privacy.untracked(WS) == {member_hash(WS, "ana"), member_hash(WS, "bob")}
    assert await store.privacy.untracked(OTHER) == frozenset()
    await store.privacy.resume(WS, "ana")
    await store.privacy.resume(WS, "bob")
    assert await store.privacy.untracked(WS) == frozenset()
    await store.privacy.scrub()


async def test_privacy_retention_days(store) -> None:
    assert await store.privacy.retention_days(WS) == 365
    await store.privacy.set_retention_days(WS, 90)
    await store.privacy.set_retention_days(WS, 60)
    assert (await store.privacy.retention_days(WS), await store.privacy.retention_days(OTHER)) == (60, 365)


async def test_expire_history_takes_what_came_of_old_contact(store) -> None:
    """Retention: old messages, questions and contacts, and the nudges, shares and introductions of that time."""
    await asked(store, minutes=0)
    await store.graph.record([Outcome(seen("new", "bob", 3000, is_question=True),
                                      questions=(question("new", "bob", "ana", 3000),),
                                      contacts=(contact("new", "bob", "ana", 3000),))])
    await store.nudges.add([nudge("ana", "bob", "old", 0), nudge("ana", "bob", "new", 3000)])
    await store.nudges.record_share(WS, "ana", "bob", at(0))
    await store.nudges.record_share(WS, "ana", "bob", at(3000))
    await store.coffee.record_introduction(WS, "ana", "bob", "cid", at(0))
    await store.coffee.record_introduction(WS, "ana", "dan", "cid", at(3000))
    await asked(store, OTHER, minutes=0)
    assert await store.privacy.expire_history(WS, at(1000)) > 0
    export = await _export(store, WS, "ana")
    assert [q["message_id"] for q in export["questions"]] == ["new"]
    assert [c["message_id"] for c in export["contacts"]] == ["new"]
    assert export["messages_seen"] == 0  # q1 went; "new" is bob's
    assert [n["created_at"] for n in export["nudges"]] == [at(3000).isoformat()]
    assert [s["at"] for s in export["shares"]] == [at(3000).isoformat()]
    assert [(i["a"], i["b"]) for i in export["introductions"]] == [("ana", "dan")]
    assert len((await _export(store, OTHER, "ana"))["questions"]) == 1  # another workspace keeps its history


async def test_forget_workspace_takes_everything_of_it(store) -> None:
    for ws in (WS, OTHER):
        await store.members.upsert([Member(ws, "ana", "Ana"), Member(ws, "bob", "Bob")])
        await asked(store, ws)
        await store.profiles.save(Profile(ws, "ana", behaviour="sourdough"))
        await store.nudges.add([nudge("ana", "bob", "r", ws=ws)])
        await store.nudges.save_settings(NudgeSettings(ws, "ana", enabled=False))
        await store.nudges.record_share(ws, "ana", "bob", T0)
        await store.coffee.save_channel(settings(ws=ws))
        await store.coffee.save_membership(Membership(ws, "C1", "ana", T0))
        await store.coffee.avoid(ws, "ana", "bob")
        await store.coffee.save_round(planned(T0, ("ana", "bob"), ws=ws))
        await store.coffee.record_introduction(ws, "ana", "bob", "cid", T0)
        await store.privacy.pause(ws, "ana", T0)
        await store.privacy.set_retention_days(ws, 90)
    assert await store.privacy.forget_workspace(WS) > 0
    assert await store.members.list(WS) == [] and await store.graph.workspaces() == [OTHER]
    assert await store.profiles.list(WS) == [] and await store.nudges.recent(WS, "ana", 10) == []
    assert (await store.nudges.settings(WS, "ana")).enabled
    assert not await store.nudges.gave(WS, "ana", "bob", T0)
    assert await store.coffee.channels(WS) == [] and await store.coffee.memberships(WS, "C1") == []
    assert await store.coffee.avoid_pairs(WS, ["ana", "bob"]) == set()
    assert await store.coffee.last_round(WS, "C1") is None and await store.coffee.latest_group(WS, "ana") is None
    assert await store.coffee.meetings_since(WS, T0 - timedelta(days=1)) == []
    assert await store.coffee.introductions_since(WS, T0 - timedelta(days=1)) == []
    assert await store.privacy.untracked(WS) == frozenset() and await store.privacy.retention_days(WS) == 365
    for check in (store.members.list(OTHER), store.profiles.list(OTHER), store.nudges.recent(OTHER, "ana", 10),
                  store.coffee.channels(OTHER), store.coffee.memberships(OTHER, "C1")):
        assert await check  # the other workspace keeps all of it
    assert await store.privacy.retention_days(OTHER) == 90


# --- member data: export and erasure ----------------------------------------------------------------------------


async def _export(store, ws: str, user: str) -> dict:
    document: dict = {}
    for repository in store.personal:
        document.update(await repository.export_member(ws, user))
    return document


async def test_export_member_has_one_shape(store) -> None:
    await store.members.upsert([Member(WS, "ana", "Ana", tz="UTC")])
    await asked(store)
    await store.profiles.save(Profile(WS, "ana", behaviour="sourdough", updated_at=T0))
    await store.profiles.save_vectors(WS, "ana", "m1", {"sourdough": np.array([0.5, -1.0], "<f4").tobytes()})
    await store.nudges.add([nudge("ana", "bob", "r")])
    await store.nudges.record_share(WS, "ana", "bob", T0)
    await store.coffee.save_channel(settings())
    await store.coffee.save_membership(Membership(WS, "C1", "ana", T0))
    await store.coffee.avoid(WS, "ana", "bob")
    await store.coffee.save_round(planned(T0, ("ana", "bob")))
    await store.coffee.record_introduction(WS, "ana", "bob", "cid", T0)
    await store.privacy.pause(WS, "ana", T0)
    export = await _export(store, WS, "ana")
    assert export["member"] == {"user_id": "ana", "name": "Ana", "tz": "UTC"}
    assert export["tracking_paused_since"] == T0.isoformat()
    assert export["messages_seen"] == 1
    assert export["messages"] == [{"message_id": "q1", "channel": "C1", "at": T0.isoformat(), "thread_id": None,
                                   "reply_to": None, "is_question": True}]
    assert export["questions"] == [{"direction": "asked", "other": "bob", "message_id": "q1", "channel": "C1",
                                    "asked_at": T0.isoformat(), "answered_at": None}]
    assert export["contacts"] == [{"direction": "from", "other": "bob", "message_id": "q1", "kind": "question",
                                   "at": T0.isoformat()}]
    assert export["profile"]["behaviour"] == "sourdough" and export["profile"]["updated_at"] == T0.isoformat()
    assert export["profile_vectors"] == [{"matcher": "m1", "vectors": {"sourdough": [0.5, -1.0]}}]
    assert export["nudges"] == [{"direction": "to you", "kind": "stage", "other": "bob", "status": PENDING,
                                 "created_at": T0.isoformat(), "sent_at": None}]
    assert export["nudge_settings"]["enabled"] is True
    assert export["shares"] == [{"direction": "gave", "other": "bob", "at": T0.isoformat()}]
    assert [m["channel"] for m in export["coffee_memberships"]] == ["C1"]
    assert export["coffee_avoiding"] == ["bob"]
    assert [g["with"] for g in export["coffee_groups"]] == [["bob"]]
    assert export["coffee_channels_set_up"] == []
    assert export["introductions"] == [{"a": "ana", "b": "bob", "introducer": "cid", "made_at": T0.isoformat()}]


async def test_erase_member(store) -> None:
    await store.members.upsert([Member(WS, "ana", "Ana"), Member(WS, "bob", "Bob")])
    await asked(store)
    await store.profiles.save(Profile(WS, "ana", behaviour="sourdough"))
    await store.nudges.add([nudge("bob", "ana", "r")])
    await store.coffee.save_channel(settings())
    await store.coffee.save_channel(replace(settings("C2"), manager="ana"))
    await store.coffee.record_introduction(WS, "ana", "bob", "cid", T0)
    await store.privacy.pause(WS, "ana", T0)
    removed = 0
    for repository in store.personal:
        removed += await repository.erase_member(WS, "ana")
    assert removed > 0
    export = await _export(store, WS, "ana")
    assert export["member"] is None and export["questions"] == [] and export["contacts"] == []
    assert export["tracking_paused_since"] is None
    assert export["profile"] is None and export["nudges"] == [] and export["introductions"] == []
    assert export["profile_vectors"] == []
    assert export["coffee_channels_set_up"] == []
    assert await store.members.get(WS, "bob") is not None
    assert await store.nudges.recent(WS, "bob", 10) == []  # a nudge about her went too


async def test_erasing_a_member_leaves_the_others_their_coffee_groups_without_her(store) -> None:
    """Erasing ana deleted her whole groups: bob, cid and dan lost their record of those rounds. Now her seat goes
    (her answer with it) and every reason about her; a group left with one person is no meetup any more, and one
    left with no one goes."""
    week = timedelta(days=7)
    fallback = "met in a recent round, but no one else could be paired with them"
    met = {"answer": "met", "answered_at": T0 + timedelta(days=3)}
    await store.coffee.save_round(RoundRecord(WS, "C1", T0, "sent", (
        GroupRecord(WS, "C1", T0, 0, (Seat("ana", **met), Seat("bob", **met)), 0.9,
                    ("acquaintances", "both into sourdough")),
        GroupRecord(WS, "C1", T0, 1, (Seat("cid"), Seat("ana"), Seat("dan")), 1.4,
                    ("<@cid> & <@ana>: both into chess", "<@cid> & <@dan>: from different teams", fallback),
                    suggested_at=T0 + timedelta(days=2)),
    ), checkin_sent=True))
    await store.coffee.save_round(RoundRecord(WS, "C1", T0 + week, "sent", (
        GroupRecord(WS, "C1", T0 + week, 0, (Seat("bob"), Seat("cid")), 0.5, ("both into chess",)),
        GroupRecord(WS, "C1", T0 + week, -1, (Seat("ana"), Seat("eve")),
                    reasons=("ana: everyone else is on their avoid list", "eve: everyone else is on their avoid list")),
    )))
    await store.coffee.save_round(RoundRecord(WS, "C1", T0 + 2 * week, "empty", (
        GroupRecord(WS, "C1", T0 + 2 * week, -1, (Seat("ana"),), reasons=("ana: the only member opted in",)),)))

    for repository in store.personal:
        await repository.erase_member(WS, "ana")

    rounds = [await store.coffee.round(WS, "C1", T0 + n * week) for n in range(3)]
    assert "ana" not in repr(rounds)
    assert [[(g.index, g.members, g.reasons) for g in r.groups] for r in rounds] == [
        [(0, ("bob",), ()), (1, ("cid", "dan"), ("<@cid> & <@dan>: from different teams",))],
        [(-1, ("eve",), ("eve: everyone else is on their avoid list",)), (0, ("bob", "cid"), ("both into chess",))],
        [],
    ]
    assert [g.index for g in rounds[0].placed] == [1] and rounds[1].unplaced == ("eve",)
    assert rounds[0].groups[0].seats[0].answer == "met"  # bob's own answer stays his
    # Worked out from ana's data too (her profile, her working hours): gone; the others' round untouched.
    assert [(g.score, g.suggested_at) for g in rounds[0].groups] == [(0.0, None), (0.0, None)]
    assert rounds[1].groups[1].score == 0.5
    bob = await _export(store, WS, "bob")
    assert bob["coffee_groups"] == [
        {"channel": "C1", "round": T0.isoformat(), "with": [], "placed": True, "checkin_answer": "met"},
        {"channel": "C1", "round": (T0 + week).isoformat(), "with": ["cid"], "placed": True, "checkin_answer": None}]
    assert (await _export(store, WS, "ana"))["coffee_groups"] == []
    assert await store.coffee.latest_group(WS, "ana") is None
    assert (await store.coffee.latest_group(WS, "dan")).members == ("cid", "dan")


# --- profiles ---------------------------------------------------------------------------------------------------


async def test_profiles(store) -> None:
    ana = Profile(WS, "ana", behaviour="sourdough, trail running")
    await store.profiles.save(ana)
    await store.profiles.save(Profile(WS, "bob", capability="Rust"))
    assert await store.profiles.get(WS, "ana") == ana
    assert [p.user_id for p in await store.profiles.list(WS)] == ["ana", "bob"]
    await store.profiles.save_vectors(WS, "ana", "m1", {"sourdough": b"1234", "trail running": b"5678"})
    await store.profiles.save_vectors(WS, "bob", "m1", {"rust": b"abcd"})
    assert await store.profiles.vectors(WS, "m1", ["ana"]) == {"ana": {"sourdough": b"1234",
                                                                       "trail running": b"5678"}}
    assert set(await store.profiles.vectors(WS, "m1")) == {"ana", "bob"}
    assert await store.profiles.vectors(WS, "m2") == {}
    keys, blob = (await store.profiles.vector_rows(WS, "m1", ["ana"]))["ana"]  # the same, one blob per member
    assert {k: blob[4 * x:4 * x + 4] for x, k in enumerate(keys)} == {"sourdough": b"1234", "trail running": b"5678"}
    assert set(await store.profiles.vector_rows(WS, "m1")) == {"ana", "bob"} and not await store.profiles.vector_rows(
        WS, "m2")
    # A phrase has one vector: the matcher that made it last.
    await store.profiles.save_vectors(WS, "bob", "m2", {"rust": b"wxyz"})
    assert await store.profiles.vectors(WS, "m2") == {"bob": {"rust": b"wxyz"}}
    assert set(await store.profiles.vectors(WS, "m1")) == {"ana"}
    await store.profiles.save(replace(ana, behaviour="sourdough"))  # a phrase gone: its vector goes too
    assert await store.profiles.vectors(WS, "m1", ["ana"]) == {"ana": {"sourdough": b"1234"}}
    assert await store.profiles.delete(WS, "ana") and not await store.profiles.delete(WS, "ana")
    assert await store.profiles.get(WS, "ana") is None and await store.profiles.vectors(WS, "m1", ["ana"]) == {}


# --- nudges -----------------------------------------------------------------------------------------------------


async def test_nudges_add_get_due_change(store) -> None:
    assert await store.nudges.add([nudge("ana", "bob", "r1"), nudge("ana", "bob", "r1"), nudge("bob", "ana", "r1",
                                                                                               minutes=10)]) == 2
    assert await store.nudges.add([nudge("ana", "bob", "r1")]) == 0  # the same dedup key for the same recipient
    due = await store.nudges.due(at(5), 10)
    assert [(n.recipient, n.status) for n in due] == [("ana", PENDING)]
    first = due[0]
    assert first.id is not None and await store.nudges.get(first.id) == first
    assert [n.recipient for n in await store.nudges.due(at(20), 1)] == ["ana"]
    assert [n.ref for n in await store.nudges.due_for(WS, "bob", at(20))] == ["r1"]
    await store.nudges.change(first, status=SENT, sent_at=at(6), attempt=1)
    changed = await store.nudges.get(first.id)
    assert (changed.status, changed.sent_at, changed.attempt, changed.deliver_at) == (SENT, at(6), 1, at(0))
    await store.nudges.change(changed, status=PENDING, deliver_at=at(30), due_at=at(30))
    assert [(n.deliver_at, n.due_at) for n in await store.nudges.due_for(WS, "ana", at(30))] == [(at(30), at(30))]
    assert await store.nudges.get(9999) is None


async def test_nudges_sent_recent_told(store) -> None:
    await store.nudges.add([nudge("ana", "bob", "r1", 0), nudge("ana", "cid", "r2", 1, kind=Kind.COOLING)])
    one, two = sorted(await store.nudges.recent(WS, "ana", 10), key=lambda n: n.created_at)
    assert [n.ref for n in await store.nudges.recent(WS, "ana", 1)] == ["r2"]  # newest first
    await store.nudges.change(one, status=SENT, sent_at=at(2))
    await store.nudges.change(two, status="failed", sent_at=at(3))
    assert await store.nudges.sent_times(WS, "ana", at(0)) == [at(2)]  # a failed delivery does not count
    assert await store.nudges.sent_times(WS, None, at(0)) == [at(2)]
    assert await store.nudges.sent_times(WS, None, at(2)) == []
    assert await store.nudges.told(WS, "stage") == [("ana", "bob", "r1")]
    (sent,) = await store.nudges.sent_since(WS, at(0))  # the failed one aside
    assert (sent.kind, sent.recipient, sent.sent_at, sent.status, sent.reached_out_at) == (
        "stage", "ana", at(2), SENT, None)
    await store.graph.record([Outcome(seen("before", "ana", 1), contacts=(contact("before", "ana", "bob", 1),)),
                              Outcome(seen("after", "ana", 5), contacts=(contact("after", "ana", "bob", 5),)),
                              Outcome(seen("other", "ana", 4), contacts=(contact("other", "ana", "cid", 4),))])
    assert [n.reached_out_at for n in await store.nudges.sent_since(WS, at(0))] == [at(5)]  # to bob, after it
    assert await store.nudges.sent_since(WS, at(2)) == [] and await store.nudges.sent_since(OTHER, at(0)) == []
    await store.nudges.change(one, status=DONE)
    assert (await store.nudges.get(one.id)).status == DONE


async def test_nudge_settings(store) -> None:
    assert await store.nudges.settings(WS, "ana") == NudgeSettings(WS, "ana")
    mine = NudgeSettings(WS, "ana", enabled=False, quiet_start=22 * 60, quiet_end=8 * 60, cap=5,
                         days_off=frozenset({6}), muted=frozenset({"cooling"}))
    await store.nudges.save_settings(mine)
    await store.nudges.save_settings(NudgeSettings(OTHER, "ana", cap=1))
    assert await store.nudges.settings(WS, "ana") == mine
    assert await store.nudges.all_settings(WS) == {"ana": mine}


async def test_nudges_read_questions_and_shares(store) -> None:
    await asked(store)
    assert [q.message_id for q in await store.nudges.unanswered(WS, at(0), at(120))] == ["q1"]
    assert await store.nudges.unanswered(WS, at(61), at(120)) == []  # its window closed before `since`
    assert await store.nudges.open_question(WS, "q1", "bob") == T0
    assert await store.nudges.open_question(WS, "q1", OPEN) is None
    await store.nudges.record_share(WS, "ana", "bob", at(10))
    assert await store.nudges.gave(WS, "ana", "bob", at(5))
    assert not await store.nudges.gave(WS, "ana", "bob", at(11)) and not await store.nudges.gave(WS, "bob", "ana",
                                                                                                  at(0))


# --- coffee -----------------------------------------------------------------------------------------------------


async def test_coffee_channels_and_schedule(store) -> None:
    await store.coffee.save_channel(settings("C1", next_run_at=at(0)))
    await store.coffee.save_channel(settings("C2", next_run_at=at(60)))
    await store.coffee.save_channel(settings("C3", ws=OTHER, next_run_at=at(-5)))
    assert await store.coffee.channel(WS, "C1") == settings("C1", next_run_at=at(0))
    assert await store.coffee.channel(WS, "C9") is None
    assert [c.channel for c in await store.coffee.channels(WS)] == ["C1", "C2"]
    assert [c.channel for c in await store.coffee.due_channels(at(1))] == ["C3", "C1"]
    assert await store.coffee.advance(WS, "C1", at(0), at(10080))
    assert not await store.coffee.advance(WS, "C1", at(0), at(20160))  # moved meanwhile
    assert (await store.coffee.channel(WS, "C1")).next_run_at == at(10080)


async def test_coffee_memberships_and_avoid_lists(store) -> None:
    ana = Membership(WS, "C1", "ana", T0, team="web")
    await store.coffee.save_membership(ana)
    await store.coffee.save_membership(Membership(WS, "C1", "bob", T0))
    await store.coffee.save_membership(replace(ana, paused=True, pause_reason="asked"))
    assert (await store.coffee.membership(WS, "C1", "ana")).paused
    assert [m.user for m in await store.coffee.memberships(WS, "C1")] == ["ana", "bob"]
    assert await store.coffee.remove_membership(WS, "C1", "bob")
    assert not await store.coffee.remove_membership(WS, "C1", "bob")
    assert await store.coffee.membership(WS, "C1", "bob") is None
    await store.coffee.avoid(WS, "ana", "bob")
    await store.coffee.avoid(WS, "ana", "bob")
    assert await store.coffee.avoid_pairs(WS, ["ana", "bob", "cid"]) == {pair("ana", "bob")}
    assert await store.coffee.avoid_pairs(WS, ["bob", "cid"]) == set()
    assert await store.coffee.avoids(WS, "ana", "bob") and not await store.coffee.avoids(WS, "bob", "ana")
    assert not await store.coffee.avoids("elsewhere", "ana", "bob")
    assert await store.coffee.unavoid(WS, "ana", "bob") and not await store.coffee.unavoid(WS, "ana", "bob")
    assert not await store.coffee.avoids(WS, "ana", "bob")


async def test_coffee_rounds(store) -> None:
    first = await store.coffee.save_round(planned(T0, ("ana", "bob"), ("cid", "dan")))
    assert all(g.id for g in first.groups)
    assert await store.coffee.save_round(planned(T0, ("ana", "cid"))) == first  # exists: returned unchanged
    assert await store.coffee.round(WS, "C1", T0) == first
    assert await store.coffee.round(WS, "C1", at(1)) is None
    await store.coffee.mark_round(WS, "C1", T0, status="sent", checkin_at=at(60))
    second = await store.coffee.save_round(planned(at(10080), ("ana", "cid")))
    assert (await store.coffee.last_round(WS, "C1")).due_at == second.due_at
    assert [r.due_at for r in await store.coffee.recent_rounds(WS, "C1", at(20000), 1)] == [at(10080)]
    assert [r.due_at for r in await store.coffee.recent_rounds(WS, "C1", at(10080), 5)] == [T0]
    assert [r.due_at for r in await store.coffee.due_checkins(at(60))] == [T0]
    assert await store.coffee.due_checkins(at(59)) == []
    await store.coffee.mark_round(WS, "C1", T0, checkin_sent=True)
    assert await store.coffee.due_checkins(at(60)) == []
    assert [r.due_at for r in await store.coffee.rounds_to_close(WS, "C1", at(10080))] == [T0]


async def test_coffee_seats_answers_and_closing(store) -> None:
    for user in ("ana", "bob", "cid", "dan"):
        await store.coffee.save_membership(Membership(WS, "C1", user, T0))
    record = await store.coffee.save_round(planned(T0, ("ana", "bob"), ("cid", "dan")))
    await store.coffee.mark_round(WS, "C1", T0, status="sent", checkin_at=at(60), checkin_sent=True)
    ab, cd = record.groups
    for group in (ab, cd):
        for user in group.members:
            await store.coffee.set_seat(group.id, user, dm="sent", checkin="sent")
    assert [s.dm for s in (await store.coffee.group(ab.id)).seats] == ["sent", "sent"]
    assert ab.conversation is None
    await store.coffee.set_conversation(ab.id, "G123")
    assert (await store.coffee.group(ab.id)).conversation == "G123"
    assert (await store.coffee.group(cd.id)).conversation is None
    assert [g.conversation for g in (await store.coffee.round(WS, "C1", T0)).placed] == ["G123", None]
    assert await store.coffee.group(9999) is None
    assert (await store.coffee.latest_group(WS, "ana")).id == ab.id
    assert await store.coffee.latest_group(WS, "ana", channel="C2") is None
    answered = await store.coffee.answer(ab.id, "ana", "met", at(30))
    assert answered is not None and answered.met_at == at(30)
    assert await store.coffee.answer(ab.id, "cid", "met", at(30)) is None  # not in that group
    await store.coffee.answer(ab.id, "bob", "not-yet", at(31))
    await store.coffee.close_round(WS, "C1", T0)
    await store.coffee.close_round(WS, "C1", T0)  # once per round
    missed = {m.user: (m.missed, m.paused) for m in await store.coffee.memberships(WS, "C1")}
    # Counted only: pausing whoever missed too many is the core's rule (bot/coffee/rounds.py close_previous).
    assert missed == {"ana": (0, False), "bob": (0, False), "cid": (1, False), "dan": (1, False)}
    assert await store.coffee.rounds_to_close(WS, "C1", at(10080)) == []


async def test_coffee_meetings_and_introductions(store) -> None:
    record = await store.coffee.save_round(planned(T0, ("ana", "bob")))
    await store.coffee.answer(record.groups[0].id, "ana", "met", at(30))
    await store.coffee.record_introduction(WS, "cid", "dan", "ana", at(40))
    meetings = await store.coffee.meetings_since(WS, at(0))
    assert [(m.members, m.met_at, m.channel) for m in meetings] == [(("ana", "bob"), at(30), "C1")]
    assert await store.coffee.meetings_since(WS, at(35)) == []
    [intro] = await store.coffee.introductions_since(WS, at(35))
    assert (intro.a, intro.b, intro.introducer, intro.made_at) == ("cid", "dan", "ana", at(40))
    assert intro.as_meeting().members == ("cid", "dan") and intro.as_meeting().round_key.startswith("intro:")
    assert await store.coffee.introductions_since(WS, at(41)) == []


# --- the store --------------------------------------------------------------------------------------------------


async def test_store_reachable(store) -> None:
    assert await store.reachable()
