"""The SQL store against the same scenarios as the in-memory fake: both must agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.events import Member, MessagePosted
from bot.graph.rapport import Stage, assess
from bot.intake.ingest import Directory, ingest
from storage.store import SqlStore
from tests.fakes import FakeStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS = "T1"


def msg(mid: str, author: str, minutes: float, text: str | None, **kw) -> MessagePosted:
    return MessagePosted(WS, kw.pop("channel", "C1"), mid, author, T0 + timedelta(minutes=minutes), text, **kw)


CONVERSATION = [
    msg("1", "ana", 0, "bob: how do I rotate the staging keys?"),
    msg("2", "bob", 2, "there's a script in ops/, run it with --env staging"),
    msg("3", "ana", 3, "thanks!"),
    msg("4", "bob", 60, "Ana, did the rotation work?", ),
    msg("5", "ana", 61, "yes, all green"),
    msg("6", "cid", 120, "anyone know where the design doc lives?"),
    msg("7", "ana", 121, "in the wiki under Platform"),
    msg("8", "cid", 200, "does this need a review?", thread_id="6"),
    msg("9", "ana", 260, "yes please", thread_id="6"),
]


async def feed(store, messages) -> list[bool]:
    await store.members.upsert([Member(WS, u, u.capitalize()) for u in ("ana", "bob", "cid")])
    names = Directory(store)
    return [await ingest(store, names, [m]) == 1 for m in messages]


async def test_conversation_gives_stages(store) -> None:
    assert all(await feed(store, CONVERSATION))
    stats = {(s.a, s.b): s for s in await store.graph.pair_stats(WS, T0 + timedelta(days=1))}
    ana_bob = stats[("ana", "bob")]
    assert (ana_bob.asked_ab, ana_bob.answered_ab, ana_bob.asked_ba, ana_bob.answered_ba) == (1, 1, 1, 1)
    assert assess(ana_bob, T0 + timedelta(days=1)).stage is Stage.PEERS
    ana_cid = stats[("ana", "cid")]
    assert (ana_cid.asked_ba, ana_cid.answered_ba, ana_cid.asked_ab) == (2, 2, 0)
    assert assess(ana_cid, T0).stage is Stage.ACQUAINTANCE
    assert ("bob", "cid") not in stats


async def test_duplicate_delivery_changes_nothing(store) -> None:
    await feed(store, CONVERSATION)
    before = await store.graph.pair_stats(WS, T0)
    again = await feed(store, CONVERSATION)
    assert not any(again)
    assert await store.graph.pair_stats(WS, T0) == before


async def test_unanswered_after_deadline(store) -> None:
    await feed(store, [msg("1", "ana", 0, "bob: can you review my PR?")])
    soon = await store.graph.pair_stats(WS, T0 + timedelta(minutes=5))
    assert (soon[0].asked_ab, soon[0].answered_ab, soon[0].unanswered_ab) == (1, 0, 0)
    late = await store.graph.pair_stats(WS, T0 + timedelta(days=8))
    assert late[0].unanswered_ab == 1
    assert assess(late[0], T0).stage is Stage.TALKING


async def test_deleting_an_answer_unlinks_it(store) -> None:
    await feed(store, CONVERSATION[:2])
    await store.graph.forget_messages(WS, ["2"])
    [stats] = await store.graph.pair_stats(WS, T0)
    assert (stats.asked_ab, stats.answered_ab) == (1, 0)


async def test_workspaces_are_isolated(store) -> None:
    await feed(store, CONVERSATION)
    assert await store.graph.pair_stats("OTHER", T0) == []
    assert await store.members.list("OTHER") == []


async def test_sql_and_fake_agree(sql_store) -> None:
    fake = FakeStore()
    await feed(sql_store, CONVERSATION)
    await feed(fake, CONVERSATION)
    now = T0 + timedelta(days=30)
    assert await sql_store.graph.pair_stats(WS, now) == await fake.graph.pair_stats(WS, now)
    assert await sql_store.graph.pair_stats(WS, now, user="cid") == await fake.graph.pair_stats(WS, now, user="cid")


async def test_a_burst_links_like_one_message_at_a_time(store, sql_store) -> None:
    """The live path takes a backlog at once; the graph must come out the same as message by message. One process:
    its Directory remembers how the earlier batch's messages read (words, whom they speak to) for the next."""
    await store.members.upsert([Member(WS, u, u.capitalize()) for u in ("ana", "bob", "cid")])
    directory = Directory(store)
    assert await ingest(store, directory, CONVERSATION[:4]) == 4
    assert await ingest(store, directory, CONVERSATION[4:]) == len(CONVERSATION) - 4
    assert await ingest(store, directory, CONVERSATION) == 0  # all redelivered: nothing new
    one_by_one = FakeStore()
    await feed(one_by_one, CONVERSATION)
    now = T0 + timedelta(days=30)
    assert await store.graph.pair_stats(WS, now) == await one_by_one.graph.pair_stats(WS, now)


async def test_another_process_ranks_with_whom_earlier_messages_spoke_to(store, monkeypatch) -> None:
    """Words stay in the process that read them; whom a message speaks to and mentions (ids) is stored, so that a
    second process (or this one after a restart) ranks its candidates with that part of their reading."""
    from bot.graph import reply_model

    await store.members.upsert([Member(WS, u, u.capitalize()) for u in ("ana", "bob", "cid")])
    assert await ingest(store, Directory(store), [msg("1", "ana", 0, "bob: how do I rotate the staging keys? <@cid>?",
                                                      mentions=("cid",)),
                                                  msg("2", "cid", 1, "no idea")]) == 2
    seen: list[reply_model.Said] = []

    def rank(batch: list[tuple[reply_model.Said, list[reply_model.Said]]]) -> list[str | None]:
        seen.extend(c for _, candidates in batch for c in candidates)
        return [None] * len(batch)

    monkeypatch.setattr(reply_model, "parents", rank)
    assert await ingest(store, Directory(store), [msg("3", "bob", 2, "there's a script in ops/")]) == 1
    first = next(s for s in seen if s.message_id == "1")
    assert (first.to, first.mentions, first.words) == (frozenset({"bob"}), frozenset({"bob", "cid"}), None)


async def test_a_failed_statement_does_not_quote_its_parameters(sql_store: SqlStore) -> None:
    """SQL errors end up in tracebacks in the logs (a scheduled run that failed, a core error on Discord): the
    parameters (a profile's words, names) must not ride along, only the statement."""
    with pytest.raises(DBAPIError) as raised:
        async with sql_store.engine.begin() as connection:
            await connection.execute(text("INSERT INTO no_such_table VALUES (:words)"), {"words": "zebra-sentinel"})
    assert "zebra-sentinel" not in str(raised.value)
