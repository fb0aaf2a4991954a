"""Members own their data: pause, see, export, erase; retention; admins only where it matters."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import String, inspect, text

from bot.app import Rapport
from bot.events import CHANNEL_MANAGER, WORKSPACE_ADMIN, ButtonPressed, CommandInvoked, Member, MessagePosted
from bot.scheduling import send_once
from tests.conftest import TEST_DATABASE_URL
from tests.fakes import FakeClock, FakeOutbound

WS, OTHER_WS = "T1", "T2"
ERASED = "U0ERASEME42"  # distinctive, so a byte scan cannot match anything else


@pytest.fixture(params=["sql", "fake"])
def core(request, sql_store, fake_store, clock: FakeClock) -> Rapport:
    return Rapport(sql_store if request.param == "sql" else fake_store, clock, FakeOutbound())


async def history(core: Rapport, workspace: str = WS, at: datetime | None = None) -> None:
    at = at or core.clock.now()
    people = [ERASED, "ana", "bob"]
    await core.store.members.upsert([Member(workspace, u, u.title()) for u in people])
    n = 0
    for asker, answerer in [(ERASED, "ana"), ("ana", ERASED), ("bob", ERASED), ("ana", "bob"), ("bob", "ana")]:
        n += 1
        q = MessagePosted(workspace, "C1", f"{workspace}-{at:%j}-m{n}", asker, at + timedelta(minutes=n * 10),
                          "how does this work?", mentions=(answerer,))
        n += 1
        a = MessagePosted(workspace, "C1", f"{workspace}-{at:%j}-m{n}", answerer, at + timedelta(minutes=n * 10),
                          "like this", reply_to=q.message_id)
        assert await core.on_message(q) and await core.on_message(a)


async def press(core: Rapport, user: str, action: str, workspace: str = WS):
    return await core.on_button(ButtonPressed(workspace, "C1", user, action))


async def command(core: Rapport, user: str, text: str, roles: frozenset[str] = frozenset(), workspace: str = WS):
    return await core.on_command(CommandInvoked(workspace, "C1", user, text, roles))


async def test_privacy_explains_and_offers_three_buttons(core: Rapport) -> None:
    reply = await command(core, "ana", "privacy")
    assert "never stores what anyone wrote" in reply.text
    assert [b.action_id for b in reply.buttons] == ["privacy:see", "privacy:export", "privacy:erase"]


async def test_export_round_trips_and_lists_what_see_showed(core: Rapport) -> None:
    await history(core)
    seen = await press(core, "ana", "privacy:see")
    exported = await press(core, "ana", "privacy:export")
    assert exported.attachment is not None
    document = json.loads(exported.attachment.content)
    assert document["user"] == "ana"
    assert {r["with"] for r in document["relationships"]} == {ERASED, "bob"}
    for line in seen.sections[0].lines:
        key = line.split(":")[0].replace(" ", "_")
        assert key in document, line
    assert "how does this work" not in exported.attachment.content.decode()


async def test_pause_stops_tracking_and_resume_restarts(core: Rapport) -> None:
    await core.store.members.upsert([Member(WS, u, u) for u in ("ana", "bob")])
    await command(core, "bob", "pause-tracking")
    t = core.clock.now()
    await core.on_message(MessagePosted(WS, "C1", "p1", "ana", t, "bob: are you there?"))
    assert not await core.on_message(MessagePosted(WS, "C1", "p2", "bob", t + timedelta(minutes=1), "yes"))
    assert await core.store.graph.pair_stats(WS, t) == []
    await command(core, "bob", "resume-tracking")
    await core.on_message(MessagePosted(WS, "C1", "p3", "ana", t + timedelta(minutes=2), "bob: and now?"))
    assert await core.on_message(MessagePosted(WS, "C1", "p4", "bob", t + timedelta(minutes=3), "yes"))
    [pair] = await core.store.graph.pair_stats(WS, t + timedelta(minutes=5))
    assert (pair.asked_ab, pair.answered_ab) == (1, 1)


async def test_erase_asks_first_and_only_erases_the_presser(core: Rapport) -> None:
    await history(core)
    ask = await press(core, ERASED, "privacy:erase")
    assert [b.action_id for b in ask.buttons] == ["privacy:erase-confirm", "privacy:cancel"]
    assert any(ERASED in (p.a, p.b) for p in await core.store.graph.pair_stats(WS, core.clock.now()))
    await press(core, "ana", "privacy:cancel")
    done = await press(core, ERASED, "privacy:erase-confirm")
    assert "erased" in done.text
    pairs = await core.store.graph.pair_stats(WS, core.clock.now())
    assert [(p.a, p.b) for p in pairs] == [("ana", "bob")]  # others keep what is only theirs
    assert await core.store.members.get(WS, "ana") is not None
    # An erased member is not tracked again, nor re-added by an adapter's member sync.
    await core.store.members.upsert([Member(WS, ERASED, "Back")])
    assert await core.store.members.get(WS, ERASED) is None
    later = core.clock.now() + timedelta(hours=1)
    assert not await core.on_message(MessagePosted(WS, "C1", "late", ERASED, later, "ana: hi?"))


async def in_planner_statistics(sql_store, value: str) -> list[str]:
    """PostgreSQL tables whose sampled statistics (most common values, histograms) hold `value`."""
    async with sql_store.engine.connect() as connection:
        return list((await connection.execute(text(
            "SELECT tablename || '.' || attname FROM pg_stats WHERE schemaname = 'public' AND "
            "(most_common_vals::text LIKE :p OR histogram_bounds::text LIKE :p)"), {"p": f"%{value}%"})).scalars())


async def test_erasure_leaves_no_trace_in_any_table_or_file(sql_store, clock: FakeClock, tmp_path: Path) -> None:
    core = Rapport(sql_store, clock, FakeOutbound())
    await history(core)
    await history(core, OTHER_WS)  # the same person in another workspace is not touched
    setup = await command(core, ERASED, "coffee setup weekly monday 10:00", frozenset({CHANNEL_MANAGER}))
    assert "Virtual coffee in" in setup.text  # they are on record as who set it up, until erased
    for user in (ERASED, "ana", "bob"):
        await command(core, user, "coffee join")
    clock.current = (await sql_store.coffee.channel(WS, "C1")).next_run_at
    await core.ticker.tick()
    (group,) = (await sql_store.coffee.last_round(WS, "C1")).placed  # the three of them, and why
    assert ERASED in group.members and any(ERASED in reason for reason in group.reasons)
    if TEST_DATABASE_URL:
        async with sql_store.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        assert await in_planner_statistics(sql_store, ERASED)  # so the check after erasing can fail
    await press(core, ERASED, "privacy:erase-confirm")
    async with sql_store.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            columns = await connection.run_sync(lambda sync, t=table: inspect(sync).get_columns(t))
            rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()
            text_columns = [i for i, c in enumerate(columns) if isinstance(c["type"], String)]
            workspace_column = next((i for i, c in enumerate(columns) if c["name"] == "workspace"), None)
            for row in rows:
                if workspace_column is not None and row[workspace_column] == OTHER_WS:
                    continue
                assert not any(ERASED in str(row[i]) for i in text_columns), (table, row)
    # The others keep their record of the round.
    (kept,) = (await sql_store.coffee.last_round(WS, "C1")).placed
    assert sorted(kept.members) == ["ana", "bob"] and kept.id == group.id
    other = await sql_store.graph.pair_stats(OTHER_WS, clock.now())
    assert any(ERASED in (p.a, p.b) for p in other)
    if TEST_DATABASE_URL:
        await press(core, ERASED, "privacy:erase-confirm", workspace=OTHER_WS)
        assert not await in_planner_statistics(sql_store, ERASED)
        return  # the byte scan is about SQLite's own files
    url = str(sql_store.engine.url)
    path = Path(url.split("///", 1)[1])
    # The other workspace legitimately still holds the id: erase it there too, then scan the raw bytes.
    await press(core, ERASED, "privacy:erase-confirm", workspace=OTHER_WS)
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
    for file in files:
        assert ERASED.encode() not in file.read_bytes(), file.name


async def test_retention_is_admin_only_and_expires_old_history(core: Rapport) -> None:
    old = core.clock.now() - timedelta(days=400)
    await history(core, at=old)
    await history(core, at=core.clock.now() - timedelta(days=10))
    refused = await command(core, "ana", "retention 90")
    assert "workspace admin" in refused.text
    assert "365 days" in (await command(core, "ana", "retention")).text
    bad = await command(core, "ana", "retention 3", frozenset({WORKSPACE_ADMIN}))
    assert "from 30 to 3650" in bad.text
    ok = await command(core, "ana", "retention 90", frozenset({WORKSPACE_ADMIN}))
    assert "90 days" in ok.text
    before = await core.store.graph.pair_stats(WS, core.clock.now())

    async def addressed() -> int:
        return int(json.loads((await press(core, "ana", "privacy:export")).attachment.content)[
            "messages_addressing_you"])

    assert await addressed() == 4  # questions put to ana; kept for reading the replies to them
    # A nudge sent to ana 40 days ago left her id in its delivery row; that outlives no retention.
    sent = await send_once(core.store.runs, "nudge:7:0", "ana", core.clock.now() - timedelta(days=40), _sent)
    assert sent and await core.store.runs.delivery("nudge:7:0", "ana") == "sent"
    assert await core.ticker.tick() >= 1
    assert await core.store.runs.delivery("nudge:7:0", "ana") is None
    after = await core.store.graph.pair_stats(WS, core.clock.now())
    asked = lambda pairs: sum(p.asked_ab + p.asked_ba for p in pairs)  # noqa: E731
    assert asked(after) == asked(before) // 2
    assert await addressed() == 0  # after a day, whom a message spoke to is forgotten


async def _sent() -> bool:
    return True


async def test_workspaces_never_see_each_other(core: Rapport) -> None:
    await history(core, WS)
    await core.store.members.upsert([Member(OTHER_WS, "zoe", "Zoe")])
    exported = json.loads((await press(core, "zoe", "privacy:export", OTHER_WS)).attachment.content)
    assert exported["relationships"] == []
    me = await command(core, "zoe", "me", workspace=OTHER_WS)
    assert "not seen you" in me.text
    assert await core.store.graph.pair_stats(OTHER_WS, core.clock.now()) == []



async def test_joining_a_channel_is_announced_once(core: Rapport) -> None:
    from bot.events import BotJoinedChannel

    assert await core.on_joined(BotJoinedChannel(WS, "C9"))
    assert not await core.on_joined(BotJoinedChannel(WS, "C9"))  # a rejoin or a second process
    sent = [s for s in core.outbound.sent if s[0] == "channel"]
    assert len(sent) == 1 and "never store what anyone writes" in sent[0][3].text


async def test_status_says_whether_you_are_tracked(core: Rapport) -> None:
    await history(core)
    on = await command(core, "ana", "status")
    assert "Tracking: on" in on.sections[0].lines[0] and "2 (" in on.sections[0].lines[1]
    await command(core, "ana", "pause-tracking")
    assert "paused" in (await command(core, "ana", "status")).sections[0].lines[0]


async def test_resume_tracking_welcomes_back_only_who_was_away(core: Rapport) -> None:
    await core.store.members.upsert([Member(WS, "bob", "Bob")])
    never_paused = await command(core, "bob", "resume-tracking")
    assert "already on" in never_paused.text and "Welcome back" not in never_paused.text
    await command(core, "bob", "pause-tracking")
    assert "Welcome back" in (await command(core, "bob", "resume-tracking")).text
    assert "already on" in (await command(core, "bob", "resume-tracking")).text
