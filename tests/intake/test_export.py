"""History import: the Slack export and DiscordChatExporter readers, then the graph they build in the store.

The fixtures hold conversations whose stages are known by construction (see EXPECTED_* below).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from adapters.discord.export import read_discord_export
from adapters.slack.export import read_slack_export
from bot.events import Member, MessagePosted
from bot.graph.rapport import Stage, assess
from bot.intake import ingest
from bot.intake.ingest import History, HistoryReport, ingest_history, name_index, partitions
from bot.profiles.profiles import time_zone
from storage.store import SqlStore

FIXTURES = Path(__file__).parents[1] / "fixtures"
SLACK = FIXTURES / "slack_export"
DISCORD = FIXTURES / "discord_export"
NOW = datetime(2024, 3, 20, tzinfo=UTC)

TEAM = "T05QX7RPT"
ANA, BOB, CAROL, DAVE, ERIN, FRANK, DEPLOY, GHOST = (
    "U05ANA00001", "U05BOB00002", "U05CAROL003", "U05DAVE0004", "U05ERIN0005", "U05FRANK006", "U05DEPLOY07",
    "U07GHOST999",
)
GENERAL, ENGINEERING = "C05GENERAL1", "C05ENGINEER"

GUILD = "1087314220359442482"
D_ANA, D_BOB, D_CAROL, D_DAVE, D_ERIN, D_CARL = (
    "284019283746510848", "301188745120628736", "412955870218043392", "198765432109876544", "523364738291470337",
    "235148962103951360",
)
D_GENERAL, D_HELP, D_CATEGORY = "1087314220359442484", "1087318893026017300", "1087314220359442483"
D_THREAD = "1214135245209731075"  # the canary thread, whose id is Ana's starter message's
THREAD_FILE = f"Lumen Labs - general - Canary deploy stuck at 5% [{D_THREAD}].json"
GENERAL_FILE = f"Lumen Labs - Text Channels - general [{D_GENERAL}].json"

# Pair -> (stage, advisor) as the conversations were written.
EXPECTED_SLACK = {
    (ANA, BOB): (Stage.PEERS, None),  # bob answers ana's VPN question, ana answers bob's PR review request
    (ANA, FRANK): (Stage.ACQUAINTANCE, None),  # ana answers frank (a deactivated account) about the photos
    (CAROL, DAVE): (Stage.TRUSTED_ADVISOR, DAVE),  # carol asks dave 6 times, dave answers each
    (DAVE, GHOST): (Stage.ACQUAINTANCE, None),  # a Slack Connect guest missing from users.json
    (BOB, ERIN): (Stage.TALKING, None),  # erin's question to bob is never answered
    (ANA, ERIN): (Stage.TALKING, None),  # erin thanks ana with a mention
}
EXPECTED_DISCORD = {
    (D_ANA, D_BOB): (Stage.PEERS, None),  # bob answers ana twice in the canary thread, ana answers his retro question
    (D_CAROL, D_DAVE): (Stage.TRUSTED_ADVISOR, D_DAVE),  # 6 questions in #help, 6 replies
    (D_DAVE, D_ERIN): (Stage.TALKING, None),  # erin's question to dave is never answered
    (D_ANA, D_ERIN): (Stage.TALKING, None),  # erin replies to ana's announcement
}


def copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                z.write(file, prefix + file.relative_to(folder).as_posix())
    return archive


# --- Slack -------------------------------------------------------------------------------------------------------


def test_slack_export_reads_members_messages_and_skips() -> None:
    history = read_slack_export(SLACK)

    assert history.workspace == TEAM
    assert history.channels == 2
    assert history.skipped == Counter({
        "join/leave": 1, "bot message": 2, "system message": 1, "no user": 1,
        "malformed record": 2, "malformed file": 1,
    })
    assert len(history.events) == 23
    assert {e.workspace for e in history.events} == {TEAM}
    assert Counter(e.channel for e in history.events) == {GENERAL: 5, ENGINEERING: 18}
    for channel in (GENERAL, ENGINEERING):
        times = [e.at for e in history.events if e.channel == channel]
        assert times == sorted(times)

    members = {m.user_id: m for m in history.members}
    assert {u: m.name for u, m in members.items()} == {
        ANA: "ana", BOB: "bob", CAROL: "carol", DAVE: "dave", ERIN: "erin",
        FRANK: "Frank Meyer",  # deactivated: no display name left, real name used
        DEPLOY: "deploybot", "USLACKBOT": "Slackbot",
        GHOST: GHOST,  # not in users.json: named by id
    }
    assert {u for u, m in members.items() if m.is_bot} == {DEPLOY, "USLACKBOT"}
    assert members[BOB].tz == "Europe/Warsaw"
    assert DEPLOY not in {e.author for e in history.events}


def test_slack_ids_threads_and_mentions_follow_the_live_scheme() -> None:
    events = {e.message_id: e for e in read_slack_export(SLACK).events}

    vpn = events[f"{GENERAL}:1709543700.102263"]
    assert (vpn.author, vpn.thread_id, vpn.reply_to) == (ANA, None, None)  # a thread's root is not "in" it
    assert vpn.at == datetime(2024, 3, 4, 9, 15, 0, 102263, tzinfo=UTC)
    assert vpn.text == "Has anyone set up the new VPN client on Linux yet? The installer keeps failing for me."
    answer = events[f"{GENERAL}:1709544120.713551"]
    assert (answer.author, answer.thread_id, answer.reply_to) == (BOB, vpn.message_id, None)

    broadcast = events[f"{ENGINEERING}:1709637600.731001"]  # a reply also sent to the channel
    assert broadcast.thread_id == f"{ENGINEERING}:1709631000.827525"

    assert events[f"{ENGINEERING}:1709631000.827525"].mentions == (ANA,)
    assert events[f"{ENGINEERING}:1709889000.131687"].mentions == (DAVE,)  # <@U05DAVE0004|dave>
    assert events[f"{ENGINEERING}:1709895600.586538"].author == GHOST


def test_a_time_zone_nobody_knows_is_no_time_zone(tmp_path: Path) -> None:
    # Placed in a coffee message or a nudge, "Mars/Olympus" raised; unknown, the member is placed in UTC.
    folder = copy(SLACK, tmp_path)
    users = json.loads((folder / "users.json").read_text())
    for user in users:
        if user.get("id") == BOB:
            user["tz"] = "Mars/Olympus"
    (folder / "users.json").write_text(json.dumps(users))
    members = {m.user_id: m for m in read_slack_export(folder).members}
    assert members[BOB].tz is None and members[ANA].tz is not None


@pytest.mark.parametrize(("reported", "kept"), [
    ("Europe/Berlin", "Europe/Berlin"), ("america/new_york", "America/New_York"),
    ("America/New York", "America/New_York"),
    ("localtime", None), ("Factory", None), ("Mars/Olympus", None), ("", None),
])
def test_a_reported_time_zone_is_kept_in_its_own_spelling_or_not_at_all(reported: str, kept: str | None) -> None:
    # The same reading as a zone a member types into their profile: one idea of a time zone for both.
    assert Member("T1", "U1", "Ana", tz=reported).tz == kept
    if kept:
        assert time_zone(reported.upper()) == kept


def test_slack_direct_messages_are_never_imported(tmp_path: Path) -> None:
    # A fuller export lists DMs (dms.json, folders named by id) and group DMs (mpims.json, mpdm-... folders);
    # PRIVACY.md promises direct messages are never stored, not even as who wrote to whom.
    folder = copy(SLACK, tmp_path)
    said = [{"type": "message", "user": ANA, "ts": "1709900000.000100", "text": f"<@{BOB}> can you call me?"},
            {"type": "message", "user": BOB, "ts": "1709900060.000200", "text": "sure, in 5"}]
    (folder / "dms.json").write_text(json.dumps([{"id": "D05ANABOB01", "members": [ANA, BOB]}]))
    (folder / "mpims.json").write_text(json.dumps([{"id": "G05GROUP001", "name": "mpdm-ana--bob--carol-1"}]))
    for name in ("D05ANABOB01", "mpdm-ana--bob--carol-1", "D05UNLISTED"):  # the last missing from dms.json
        (folder / name).mkdir()
        (folder / name / "2024-03-08.json").write_text(json.dumps(said))

    history = read_slack_export(folder)

    assert history.channels == 2 and len(history.events) == 23
    assert {e.channel for e in history.events} == {GENERAL, ENGINEERING}
    assert history.skipped["direct-message conversation (never imported)"] == 3


def test_slack_workspace_can_be_overridden() -> None:
    history = read_slack_export(SLACK, workspace="T0OVERRIDE")
    assert history.workspace == "T0OVERRIDE"
    assert {e.workspace for e in history.events} == {m.workspace for m in history.members} == {"T0OVERRIDE"}


def test_slack_export_without_team_id_asks_for_workspace(tmp_path: Path) -> None:
    folder = copy(SLACK, tmp_path)
    for file in folder.rglob("*.json"):
        try:
            records = json.loads(file.read_text())
        except json.JSONDecodeError:
            continue
        for record in records:
            for key in ("team_id", "team", "user_team", "source_team"):
                record.pop(key, None)
        file.write_text(json.dumps(records))
    with pytest.raises(ValueError, match="--workspace"):
        read_slack_export(folder)
    assert len(read_slack_export(folder, workspace="T0GIVEN").events) == 23


@pytest.mark.parametrize("prefix", ["", "Lumen Labs Slack export Mar 4 2024 - Mar 12 2024/"])
def test_slack_zip_reads_like_the_folder(tmp_path: Path, prefix: str) -> None:
    archive = zip_folder(SLACK, tmp_path / "export.zip", prefix)
    from_zip, from_folder = read_slack_export(archive), read_slack_export(SLACK)
    assert from_zip.events == from_folder.events  # text included: the dataclass compares it
    assert from_zip.members == from_folder.members
    assert (from_zip.workspace, from_zip.channels, from_zip.skipped) == (
        from_folder.workspace, from_folder.channels, from_folder.skipped)


def test_slack_unknown_channel_folders_are_read_and_counted(tmp_path: Path) -> None:
    folder = copy(SLACK, tmp_path)
    (folder / "off-topic").mkdir()
    (folder / "off-topic" / "2024-03-05.json").write_text(json.dumps([
        {"type": "message", "user": BOB, "text": f"Coffee machine on floor two is fixed, <@{DEPLOY}> knows",
         "ts": "1709630000.000200"},
    ]))
    (folder / "general" / "2024-03-08.json").write_text(json.dumps({"error": "not a day of messages"}))
    (folder / "__MACOSX").mkdir()  # left by re-zipping on a Mac: not a channel

    history = read_slack_export(folder)
    assert history.skipped["unknown channel"] == 1
    assert history.skipped["malformed file"] == 2
    assert history.channels == 3
    extra = [e for e in history.events if e.channel == "off-topic"]
    assert [(e.message_id, e.mentions) for e in extra] == [("off-topic:1709630000.000200", ())]  # bots: no contact


def test_slack_junk_records_are_counted_not_fatal(tmp_path: Path) -> None:
    folder = copy(SLACK, tmp_path)
    (folder / "general" / "2024-03-09.json").write_text(json.dumps([
        42, "message", None, {"user": {"id": ANA}, "ts": "1709900000.000100"},
        {"user": ANA, "subtype": ["x"], "ts": "1709900000.000200"}, {"user": ANA, "ts": 1709900000.0003},
        {"user": ANA, "ts": "1709900000.000400", "text": {"rich": True}, "thread_ts": 5},
    ]))
    history = read_slack_export(folder)
    assert history.skipped["malformed record"] == 2 + 6
    kept = [e for e in history.events if e.message_id == f"{GENERAL}:1709900000.000400"]
    assert [(e.text, e.thread_id) for e in kept] == [("", None)]


def test_slack_rejects_what_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a Slack export"):
        read_slack_export(tmp_path)
    with pytest.raises(ValueError, match="neither"):
        read_slack_export(tmp_path / "notes.txt")


# --- Discord -----------------------------------------------------------------------------------------------------


def test_discord_export_reads_members_messages_and_skips() -> None:
    history = read_discord_export(DISCORD)

    assert history.workspace == GUILD
    assert history.channels == 2  # the thread counts within #general
    assert history.skipped == Counter({"system message": 2, "bot message": 1, "malformed record": 2})
    assert len(history.events) == 21
    assert Counter(e.channel for e in history.events) == {D_GENERAL: 8, D_HELP: 13}
    assert [e.at for e in history.events] == sorted(e.at for e in history.events)

    members = {m.user_id: m for m in history.members}
    assert {u: m.name for u, m in members.items()} == {
        D_ANA: "Ana", D_BOB: "Bob", D_CAROL: "Carol", D_DAVE: "Dave", D_ERIN: "Erin", D_CARL: "Carl-bot",
    }
    assert [u for u, m in members.items() if m.is_bot] == [D_CARL]
    assert D_CARL not in {e.author for e in history.events}


def test_discord_ids_replies_and_threads() -> None:
    events = {e.message_id: e for e in read_discord_export(DISCORD).events}

    starter = events[D_THREAD]
    assert (starter.author, starter.channel, starter.thread_id) == (D_ANA, D_GENERAL, None)
    assert starter.at == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # exported as 10:00+01:00
    assert starter.text == "Does anyone know why the canary deploy sits at 5% for a full hour?"
    in_thread = [e for e in events.values() if e.thread_id == D_THREAD]
    assert [e.author for e in in_thread] == [D_BOB, D_ANA, D_BOB]
    assert {e.channel for e in in_thread} == {D_GENERAL}

    replies = [e for e in events.values() if e.reply_to]
    assert len(replies) == 8
    answer = events["1214182808617091083"]
    assert (answer.author, answer.reply_to, answer.mentions) == (D_DAVE, "1214180543692931082", (D_CAROL,))
    assert events["1214180543692931082"].mentions == (D_DAVE,)


def test_discord_thread_parent_without_category_id(tmp_path: Path) -> None:
    """Older DiscordChatExporter versions wrote the parent's category, or nothing: the starter message tells."""
    folder = copy(DISCORD, tmp_path)
    thread_file = folder / THREAD_FILE
    doc = json.loads(thread_file.read_text())
    doc["channel"]["categoryId"] = D_CATEGORY
    thread_file.write_text(json.dumps(doc))
    assert {e.channel for e in read_discord_export(folder).events if e.thread_id == D_THREAD} == {D_GENERAL}

    doc["channel"]["categoryId"] = None
    thread_file.write_text(json.dumps(doc))
    alone = read_discord_export(thread_file)  # no parent anywhere: the thread stands as its own channel
    assert {(e.channel, e.thread_id) for e in alone.events} == {(D_THREAD, D_THREAD)}


def test_discord_single_thread_file_uses_category_id_as_parent() -> None:
    history = read_discord_export(DISCORD / THREAD_FILE)
    assert {(e.channel, e.thread_id) for e in history.events} == {(D_GENERAL, D_THREAD)}
    assert history.skipped == Counter({"system message": 1})  # the thread starter notice


def test_discord_malformed_files_duplicates_and_attachments(tmp_path: Path) -> None:
    folder = copy(DISCORD, tmp_path)
    (folder / "broken.json").write_text('{"guild": {"id": "1"')
    (folder / "list.json").write_text("[]")
    (folder / f"{GENERAL_FILE}_Files").mkdir()
    (folder / f"{GENERAL_FILE}_Files" / "config-1A2B3.json").write_text('{"an": "attached file"}')
    shutil.copy(folder / GENERAL_FILE, folder / "general again.json")  # the same channel exported twice

    history = read_discord_export(folder)
    assert history.skipped["malformed file"] == 2
    assert history.skipped["duplicate"] == 5
    assert len(history.events) == 21


def test_discord_junk_records_are_counted_not_fatal(tmp_path: Path) -> None:
    folder = copy(DISCORD, tmp_path)
    doc = json.loads((folder / GENERAL_FILE).read_text())
    good = doc["messages"][2]
    doc["messages"] = [
        42, None, {**good, "id": 7}, {**good, "author": "Ana"}, {**good, "timestamp": "4 March"},
        {**good, "id": "900", "type": ["Default"]},
        {**good, "id": "901", "mentions": [None, {"id": D_BOB, "name": "bobk"}], "content": None, "reference": 3},
    ]
    (folder / GENERAL_FILE).write_text(json.dumps(doc))
    history = read_discord_export(folder)
    assert history.skipped["malformed record"] == 5
    assert history.skipped["system message"] == 2  # the type list, and the thread starter notice
    kept = [e for e in history.events if e.message_id == "901"]
    assert [(e.text, e.mentions, e.reply_to) for e in kept] == [("", (D_BOB,), None)]


def test_discord_workspace_override_and_ambiguous_guilds(tmp_path: Path) -> None:
    history = read_discord_export(DISCORD, workspace="W1")
    assert {e.workspace for e in history.events} == {m.workspace for m in history.members} == {"W1"}

    folder = copy(DISCORD, tmp_path)
    doc = json.loads((folder / GENERAL_FILE).read_text())
    doc["guild"] = {"id": "2087314220359442482", "name": "Another server"}
    (folder / "other.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="--workspace"):
        read_discord_export(folder)


def test_discord_direct_messages_are_never_imported(tmp_path: Path) -> None:
    # PRIVACY.md promises direct messages are never stored, not even as who wrote to whom.
    folder = copy(DISCORD, tmp_path)
    doc = json.loads((folder / GENERAL_FILE).read_text())
    doc["guild"] = {"id": "0", "name": "Direct Messages"}
    doc["channel"] = {**doc["channel"], "id": "1187314220359442999", "type": "DirectTextChat"}
    (folder / "dm.json").write_text(json.dumps(doc))
    full = read_discord_export(DISCORD)

    history = read_discord_export(folder)

    assert len(history.events) == len(full.events) and history.workspace == GUILD
    assert history.skipped["direct-message conversation (never imported)"] == 1
    for workspace in (None, "W1"):
        with pytest.raises(ValueError, match="direct-message conversation"):
            read_discord_export(folder / "dm.json", workspace=workspace)


# --- Into the store ----------------------------------------------------------------------------------------------


async def import_history(store: SqlStore, history: History, processes: int | None = None) -> HistoryReport:
    """What `rapport import` does with a History."""
    await store.members.upsert(history.members)
    return await ingest_history(store, history.events, name_index(history.members), processes=processes)


def stages(stats: list) -> dict[tuple[str, str], tuple[Stage, str | None]]:
    return {(s.a, s.b): (a.stage, a.advisor) for s in stats for a in [assess(s, NOW)]}


READERS = [  # reader, export, expected stages, (questions, answers), who asked the advisor
    pytest.param(read_slack_export, SLACK, EXPECTED_SLACK, (11, 10), CAROL, id="slack"),
    pytest.param(read_discord_export, DISCORD, EXPECTED_DISCORD, (10, 9), D_CAROL, id="discord"),
]
READER_ARGS = ("read", "path", "expected", "questions_answers", "advisee")


@pytest.mark.parametrize("processes", [1, 2], ids=["linked here", "linked in two processes"])
@pytest.mark.parametrize(READER_ARGS, READERS)
async def test_import_builds_the_expected_stages(sql_store: SqlStore, read, path, expected, questions_answers,
                                                 advisee, processes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 0)  # the fixtures are small: link them apart all the same
    history = read(path)
    assert len(partitions(history.events, processes)) == processes  # two channels, or a channel and its threads
    report = await import_history(sql_store, history, processes)

    assert (report.read, report.new) == (len(history.events), len(history.events))
    assert (report.questions, report.answers) == questions_answers
    stats = await sql_store.graph.pair_stats(history.workspace, NOW)
    assert stages(stats) == {tuple(sorted(pair)): stage for pair, stage in expected.items()}
    advice = next(s for s in stats if advisee in (s.a, s.b) and assess(s, NOW).advisor)
    assert advice.seen_from(advisee) == (6, 6, 0, 0)  # (asked, answered for, asked of, answered by) the advisee
    unanswered = [s for s in stats if s.unanswered_ab or s.unanswered_ba]
    assert len(unanswered) == 1 and unanswered[0].unanswered_ab + unanswered[0].unanswered_ba == 1
    assert len(await sql_store.members.list(history.workspace)) == len(history.members)


@pytest.mark.parametrize(READER_ARGS, READERS)
async def test_importing_twice_changes_nothing(sql_store: SqlStore, read, path, expected, questions_answers,
                                               advisee) -> None:
    history = read(path)
    await import_history(sql_store, history)
    before = await sql_store.graph.pair_stats(history.workspace, NOW)

    again = await import_history(sql_store, read(path))

    assert (again.read, again.new) == (len(history.events), 0)
    assert await sql_store.graph.pair_stats(history.workspace, NOW) == before
    assert len(await sql_store.members.list(history.workspace)) == len(history.members)


def test_channels_a_thread_or_a_reply_joins_are_linked_together_and_parts_are_even() -> None:
    def said(channel: str, message_id: str, **more: str) -> MessagePosted:
        return MessagePosted("W", channel, message_id, "U1", NOW, "hi", **more)  # type: ignore[arg-type]

    # C2 holds a thread started in C1 (as a Discord thread is a channel of its own); C4 replies to C3.
    events = [said("C1", "1"), said("C3", "2"), said("C2", "3", thread_id="1"), said("C1", "4"),
              said("C4", "5", reply_to="2"), said("C5", "6"), said("C4", "7")]
    parts = partitions(events, 3)
    assert sorted(sorted({e.channel for e in part}) for part in parts) == [["C1", "C2"], ["C3", "C4"], ["C5"]]
    assert all(part == [e for e in events if e in part] for part in parts)  # each in the order given
    # Eleven channels of 1 to 11 messages into three parts: the largest first, each into the lightest part so far.
    many = [said(f"C{n}", f"{n}.{i}") for n in range(11) for i in range(n + 1)]
    assert sorted(len(part) for part in partitions(many, 3)) == [22, 22, 22]
    assert len(partitions(many[:1], 3)) == 1  # no empty parts


async def test_a_process_that_fails_to_link_ends_the_import_with_what_failed(sql_store: SqlStore,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 0)
    broken = [MessagePosted("W", f"C{n}", f"{n}", "U1", None, "hello") for n in range(2)]  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"another process: (AttributeError|TypeError)"):
        await ingest_history(sql_store, broken, {}, processes=2)


KILLED_IMPORTER = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from bot.events import MessagePosted
from bot.intake import ingest

async def stuck(outcomes):  # a database that never answers: the linking processes' batches pile up
    print("writing", flush=True)
    await asyncio.sleep(3600)

if __name__ == "__main__":
    ingest.PARALLEL_FROM = 0
    at = datetime(2024, 3, 1, tzinfo=UTC)
    events = [MessagePosted("W", f"C{n % 2}", str(n), f"U{n % 3}", at + timedelta(seconds=n), "can you look?")
              for n in range(400)]
    store = SimpleNamespace(graph=SimpleNamespace(record=stuck))
    asyncio.run(ingest.ingest_history(store, events, {}, batch_size=1, processes=2))
"""


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("stop", ["kill -9 the importer", "Ctrl-C to the terminal's process group"])
def test_linking_processes_end_when_the_import_is_stopped(tmp_path: Path, stop: str) -> None:
    """kill -9 cannot stop the linking processes with it: waiting to hand over a batch, they would wait for good.
    Ctrl-C reaches them all: the import ends at once, and so do they, with no traceback of theirs."""
    script = tmp_path / "importer.py"
    script.write_text(KILLED_IMPORTER)
    importer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=Path(__file__).parents[2], start_new_session=True)
    assert importer.stdout and importer.stdout.readline().strip() == "writing"
    linkers = _children(importer.pid)
    assert len(linkers) >= 2  # (and the resource tracker)
    if stop.startswith("kill"):
        importer.kill()
    else:
        os.killpg(importer.pid, signal.SIGINT)
    _, stderr = importer.communicate(timeout=15)  # ended, not waiting for good
    deadline = time.monotonic() + 15
    while (alive := {pid for pid in linkers if Path(f"/proc/{pid}").exists()
                     and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"}) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive
    assert "Process SpawnProcess" not in stderr  # how multiprocessing introduces a linking process's traceback


async def test_an_import_collects_garbage_rarely_while_it_runs_and_puts_the_collector_back(
        sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two imports at once: the collector is set up once, and put back only when the last ends."""
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    seen: list[tuple[tuple[int, int, int], int]] = []
    record = sql_store.graph.record

    async def recording(outcomes):  # type: ignore[no-untyped-def]
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        await asyncio.sleep(0.01)  # the other import runs meanwhile
        return await record(outcomes)

    monkeypatch.setattr(sql_store.graph, "record", recording)
    await asyncio.gather(import_history(sql_store, read_slack_export(SLACK)),
                         import_history(sql_store, read_discord_export(DISCORD)))
    assert len(seen) >= 2
    assert all(during == (*thresholds[:2], thresholds[2] * 10) and held > frozen for during, held in seen)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)


TEXT_FIELD = re.compile(r'"(?:text|content)":\s*"((?:[^"\\]|\\.)*)"')
PROBE = 12  # characters: longer than any id or name in the fixtures, short enough to catch a fragment


def message_fragments() -> set[str]:
    """Every PROBE-long piece of every text in the fixtures, malformed and skipped ones included."""
    texts = [json.loads(f'"{raw}"') for folder in (SLACK, DISCORD) for file in folder.rglob("*.json")
             for raw in TEXT_FIELD.findall(file.read_text())]
    assert len(texts) > 60
    return {t[i:i + PROBE] for t in texts for i in range(len(t) - PROBE + 1)}


def leaks(values: list[str], fragments: set[str]) -> list[str]:
    return [v for v in values if any(v[i:i + PROBE] in fragments for i in range(len(v) - PROBE + 1))]


async def test_no_message_text_reaches_the_database_or_logs(sql_store: SqlStore,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    fragments = message_fragments()
    assert leaks(["..Nice work, the deploys feel much.."], fragments)  # the probe does catch a stored text
    caplog.set_level(logging.DEBUG)
    for read, path in ((read_slack_export, SLACK), (read_discord_export, DISCORD)):
        await import_history(sql_store, read(path))

    values: list[str] = []
    async with sql_store.engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(lambda sync: metadata.reflect(sync))
        assert {"members", "messages", "questions", "contacts"} <= set(metadata.tables)
        for table in metadata.tables.values():
            for row in await connection.execute(select(table)):
                values.extend(v for v in row if isinstance(v, str))
    assert len(values) > 500
    assert leaks(values, fragments) == []
    assert leaks([r.getMessage() for r in caplog.records] + [caplog.text], fragments) == []
