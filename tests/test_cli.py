"""End to end: `rapport import` on export fixtures, then `rapport graph --json`, as an operator runs them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.store import SqlStore
from tests.conftest import rapport

FIXTURES = Path(__file__).parent / "fixtures"
SLACK_TEAM, DISCORD_GUILD = "T05QX7RPT", "1087314220359442482"


async def keep_for(env: dict[str, str], days: int, *workspaces: str) -> None:
    """Set these workspaces' retention, as `/rapport retention DAYS` would: the fixtures date from 2024."""
    store = await SqlStore.open(env["RAPPORT_DATABASE_URL"])
    for workspace in workspaces:
        await store.privacy.set_retention_days(workspace, days)
    await store.close()


async def test_import_twice_then_graph(env: dict[str, str]) -> None:
    await keep_for(env, 3650, SLACK_TEAM, DISCORD_GUILD, "acme")
    env = {**env, "COLUMNS": "200"}  # one table row a line
    first = rapport(["import", "slack-export", str(FIXTURES / "slack_export")], env)
    assert first.returncode == 0, first.stderr
    assert "messages new" in first.stdout and "skipped: malformed record" in first.stdout
    second = rapport(["import", "slack-export", str(FIXTURES / "slack_export")], env)
    assert second.returncode == 0
    assert re.search(r"│ messages new\s+│\s+0 │", second.stdout)
    assert re.search(r"records older than the 3650-day retention, deleted \(/rapport retention\)\s+│\s+0 │",
                     second.stdout)
    discord = rapport(["import", "discord-export", str(FIXTURES / "discord_export")], env)
    assert discord.returncode == 0, discord.stderr

    ambiguous = rapport(["graph", "--json"], env)
    assert ambiguous.returncode == 2 and "--workspace" in ambiguous.stderr
    slack = json.loads(rapport(["graph", "--json", "--workspace", "T05QX7RPT"], env).stdout)
    stages = {(p["a"], p["b"]): (p["stage"], p["advisor"]) for p in slack}
    assert ("trusted_advisor", "U05DAVE0004") in stages.values()
    assert all(p["a"].startswith("U") for p in slack)  # no Discord ids leak into the Slack workspace
    custom = rapport(["import", "discord-export", str(FIXTURES / "discord_export"), "--workspace", "acme"], env)
    assert custom.returncode == 0
    assert json.loads(rapport(["graph", "--json", "--workspace", "acme"], env).stdout)


async def test_an_import_keeps_nothing_older_than_the_retention(env: dict[str, str], tmp_path: Path) -> None:
    # Without a running bot no daily pass deletes old detail: the import itself keeps to the retention.
    now = datetime.now(UTC)

    def said(message_id: str, days_ago: int, author: dict, **more: object) -> dict:
        return {"id": message_id, "type": "Default", "content": "can you review it?", "mentions": [],
                "timestamp": (now - timedelta(days=days_ago)).isoformat(), "author": author, **more}

    ana, bob, cid = {"id": "11", "name": "ana"}, {"id": "22", "name": "bob"}, {"id": "33", "name": "cid"}
    export = tmp_path / "general.json"
    export.write_text(json.dumps({"guild": {"id": "555"}, "channel": {"id": "777", "type": "GuildTextChannel"},
                                  "messages": [said("1001", 400, ana, mentions=[bob]),
                                               said("1002", 400, bob, type="Reply", reference={"messageId": "1001"}),
                                               said("1003", 2, ana, mentions=[cid]),
                                               said("1004", 2, cid, type="Reply", reference={"messageId": "1003"})]}))
    imported = rapport(["import", "discord-export", str(export)], {**env, "COLUMNS": "200"})
    assert imported.returncode == 0, imported.stderr
    assert re.search(r"records older than the 365-day retention, deleted.*│\s+[1-9]", imported.stdout)
    pairs = {(p["a"], p["b"]) for p in json.loads(rapport(["graph", "--json"], env).stdout)}
    assert pairs == {("11", "33")}  # ana and bob's exchange a year and more ago is gone


def test_missing_export_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    run = rapport(["import", "slack-export", str(tmp_path / "nope.zip")], env)
    assert run.returncode == 2 and "does not exist" in run.stderr and "Traceback" not in run.stderr


def test_operators_export_and_erase_a_member(env: dict[str, str]) -> None:
    script = "at 2026-03-02T09:00\n@alice #general: bob: can you review my PR?\n@bob ^1 done, one comment\n" \
             "@carol alice: lunch?\n@alice ^3 yes!\n"
    assert rapport(["console"], env, script).returncode == 0
    exported = rapport(["member", "export", "alice", "--workspace", "console"], env)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert {r["with"] for r in document["relationships"]} == {"bob", "carol"}
    assert "review my PR" not in exported.stdout

    # A mistyped id is refused as export refuses it, not answered "erased 0 records" with exit 0.
    mistyped = rapport(["member", "erase", "Alice", "--workspace", "console", "--yes"], env)
    assert mistyped.returncode == 1 and "erased" not in mistyped.stdout, mistyped.stdout
    assert "nothing is stored about 'Alice' in workspace 'console'" in mistyped.stderr
    assert rapport(["member", "export", "alice", "--workspace", "console"], env).returncode == 0

    erased = rapport(["member", "erase", "alice", "--workspace", "console", "--yes"], env)
    assert erased.returncode == 0 and "erased" in erased.stdout
    again = rapport(["member", "erase", "alice", "--workspace", "console", "--yes"], env)
    assert again.returncode == 1 and "erased already" in again.stderr
    pairs = json.loads(rapport(["graph", "--json"], env).stdout)
    assert all("alice" not in (p["a"], p["b"]) for p in pairs)
    # A later console session (which lists Alice as a member) does not bring her back.
    assert rapport(["console"], env, "@alice #general: bob: still there?\n@bob ^1 yes\n").returncode == 0
    pairs = json.loads(rapport(["graph", "--json"], env).stdout)
    assert all("alice" not in (p["a"], p["b"]) for p in pairs)


def test_similarity_keeps_words_in_another_sense_apart(env: dict[str, str]) -> None:
    def judged(*args: str) -> dict[str, object]:
        run = rapport(["similarity", *args, "--json"], env)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    assert judged("Rust", "knitting")["related"] is False
    assert judged("Swift", "Taylor Swift concerts", "--level-a", "capability", "--level-b", "behaviour")["related"] \
        is False
    assert judged("Go programming", "the board game Go")["related"] is False
    assert judged("Rust", "systems programming", "--level-a", "capability")["related"] is True
    unknown = rapport(["similarity", "Rust", "Go", "--level-a", "hobbies"], env)
    assert unknown.returncode == 2 and unknown.stdout == "" and "error: unknown level 'hobbies'" in unknown.stderr


def test_export_of_an_unknown_member_is_one_clear_line(env: dict[str, str]) -> None:
    assert rapport(["console"], env, "at 2026-03-02T09:00\n@alice #general: bob: lunch?\n@bob ^1 yes\n").returncode == 0
    run = rapport(["member", "export", "NOPE", "--workspace", "console"], env)
    assert run.returncode == 1 and run.stdout == ""
    assert "nothing is stored about 'NOPE' in workspace 'console'" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    graph = rapport(["graph", "--workspace", "console"], env)
    assert "Rapport in console: 1 pair" in graph.stdout and "1 pairs" not in graph.stdout


def test_a_mistyped_workspace_is_refused_not_read_as_empty(env: dict[str, str]) -> None:
    assert rapport(["console"], env, "at 2026-03-02T09:00\n@alice #general: bob: lunch?\n@bob ^1 yes\n").returncode == 0
    for args in (["graph", "--json"], ["insights"], ["member", "export", "alice"],
                 ["member", "erase", "alice", "--yes"]):
        for workspace in ("Console", ""):  # "": an unset shell variable
            run = rapport([*args, "--workspace", workspace], env)
            assert run.returncode == 2 and run.stdout == "", args
            assert run.stderr.strip() == f"error: the database holds no workspace {workspace!r} (it holds console; " \
                                         "ids are case-sensitive)", args
    empty = rapport(["import", "discord-export", str(FIXTURES / "discord_export"), "--workspace", " "], env)
    assert empty.returncode == 2 and "--workspace is empty" in empty.stderr
    assert rapport(["member", "export", "alice", "--workspace", "console"], env).returncode == 0  # nothing erased


def test_names_and_ids_are_printed_as_written_not_read_as_markup(env: dict[str, str], tmp_path: Path) -> None:
    def said(message_id: str, minute: int, author: dict[str, str], **more: object) -> dict[str, object]:
        at = datetime.now(UTC) - timedelta(days=1, minutes=-minute)  # recent: kept by the retention
        return {"id": message_id, "type": "Default", "timestamp": at.isoformat(), "content": "", "author": author,
                **more}

    ana, eve = {"id": "11", "name": "[/oops]"}, {"id": "22", "name": "[red]Eve[/red]"}
    export = tmp_path / "general.json"
    export.write_text(json.dumps({"guild": {"id": "555"}, "channel": {"id": "777", "type": "GuildTextChannel"},
                                  "messages": [said("1001", 0, ana, mentions=[eve]),
                                               said("1002", 1, eve, type="Reply", reference={"messageId": "1001"})]}))
    assert rapport(["import", "discord-export", str(export)], env).returncode == 0
    wide = {**env, "COLUMNS": "200"}
    shown = rapport(["graph"], wide)
    assert shown.returncode == 0, shown.stderr
    assert "[/oops]" in shown.stdout and "[red]Eve[/red]" in shown.stdout
    refused = rapport(["graph", "--workspace", "[/x]"], wide)
    assert refused.returncode == 2 and "no workspace '[/x]'" in refused.stderr and "Traceback" not in refused.stderr
