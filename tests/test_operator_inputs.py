"""What an operator types at `rapport`: each mistake gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from adapters.exportfiles import MAX_FILE_BYTES
from tests.conftest import ROOT, rapport

PLATFORM_SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN",
                     "DISCORD_BOT_TOKEN")


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_production_without_a_platform_refuses_to_start(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k not in PLATFORM_SETTINGS}
    run = rapport(["run"], {**env, "RAPPORT_ENV": "production", "SLACK_BOT_TOKN": "xoxb-misspelt"},
                  "@alice /rapport coffee join\n")
    assert run.returncode != 0
    line = one_error_line(run.stderr)
    assert "RAPPORT_ENV=production" in line and "SLACK_BOT_TOKEN" in line and "DISCORD_BOT_TOKEN" in line
    assert "rapport" not in run.stdout  # the console never ran

    def demo_member() -> object:
        found = rapport(["member", "export", "alice", "--workspace", "console"], env)
        if found.returncode == 2 and "the database holds no workspace 'console'" in found.stderr:
            return None
        assert found.returncode == 0, found.stderr
        return json.loads(found.stdout)["member"]

    assert demo_member() is None  # and wrote nothing into the database

    demo = rapport(["run"], env, "@alice /rapport help\n")  # in development the console still opens
    assert demo.returncode == 0 and "Commands" in demo.stdout
    assert demo_member() is not None  # (so the check above can fail)


def test_numbers_and_times_out_of_range_get_a_clear_message(env: dict[str, str], tmp_path: Path) -> None:
    huge = "9" * 5000
    script = "\n".join([
        "at 2026-03-02T09:00",
        "@alice /rapport retention 99999999",
        "@alice /rapport retention 2147483648",
        f"@alice /rapport retention {huge}",
        "@alice /rapport retention ²",
        f"@bob /rapport nudges cap {huge}",
        "@alice /rapport coffee setup weekly monday 10:00 no-repeat 99999",
        "at 9999-12-31T23:59",
        "+99999999d",
        f"+{huge}d",
        "at 0001-01-01T00:00",
        "@alice /rapport retention 400",
        "+2d",
        "@alice /rapport retention",
    ])
    run = rapport(["console"], env, script + "\n")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert run.stdout.count("Give a number of days from 30 to 3650.") == 4
    assert "Give a number of nudges a week from 1 to 14. To have none, say `/rapport nudges off`." in run.stdout
    assert "Give a number of rounds for no-repeat from 0 to 52." in run.stdout
    assert run.stdout.count("the workspace clock runs from 2000-01-01 to 2999-12-31") == 4
    assert "Contact history is kept for 400 days" in run.stdout  # and the daily retention still runs

    bad_zone = bad_workspace = tmp_path / "workspace.json"
    bad_zone.write_text(json.dumps({"members": [{"id": "ana", "tz": "Not/AZone"}], "channels": [{"id": "general"}]}))
    refused = rapport(["console", "--workspace-file", str(bad_zone)], env, "@ana /rapport coffee join\n")
    assert refused.returncode != 0
    assert "'Not/AZone', which is not an IANA zone" in one_error_line(refused.stderr)

    # A workspace the console cannot run in is refused when loaded, in one line (no channel was an IndexError
    # traceback; a member listed twice, or a manager nobody is, was taken silently).
    for members, channels, expected in (
        ([{"id": "ana"}], [], "needs at least one member and one channel"),
        ([], [{"id": "general"}], "needs at least one member and one channel"),
        ([{"id": "ana"}, {"id": "ana", "name": "Ann"}], [{"id": "general"}], "lists the member 'ana' twice"),
        ([{"id": "ana"}], [{"id": "general"}, {"id": "general"}], "lists the channel 'general' twice"),
        ([{"id": "ana"}], [{"id": "general", "managers": ["bob"]}],
         "gives general the manager 'bob', who is not one of its members"),
    ):
        bad_workspace.write_text(json.dumps({"members": members, "channels": channels}))
        refused = rapport(["console", "--workspace-file", str(bad_workspace)], env, "members\n")
        assert refused.returncode == 2, refused.stderr
        assert expected in one_error_line(refused.stderr), refused.stderr


def test_imports_of_what_is_not_an_export_end_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    not_json = tmp_path / "channel.json"
    not_json.write_text("this is not json")
    null = tmp_path / "null.json"
    null.write_text("null")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", "[]")
        archive.writestr("channels.json", "[]")
        archive.writestr("general/2026-03-02.json", "[" + " " * (MAX_FILE_BYTES + 10) + "]")
    assert bomb.stat().st_size < 1_000_000

    for kind, path, expected in (
        ("slack-export", "/dev/null", "neither a Slack export folder nor a .zip"),
        ("discord-export", "/dev/null", "neither a DiscordChatExporter JSON file nor a folder"),
        ("discord-export", str(not_json), "no DiscordChatExporter JSON export (malformed file: 1)"),
        ("discord-export", str(deep), "no DiscordChatExporter JSON export (file nested too deep: 1)"),
        ("discord-export", str(null), "no DiscordChatExporter JSON export (malformed file: 1)"),
        # Not "12 malformed file": a Slack export given to the Discord importer.
        ("discord-export", str(ROOT / "tests" / "fixtures" / "slack_export"),
         "no DiscordChatExporter JSON export (malformed file: 12)"),
    ):
        run = rapport(["import", kind, path], env)
        assert run.returncode != 0, (kind, path)
        assert expected in one_error_line(run.stderr), (kind, path)

    corrupt = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(corrupt, "w") as archive:  # stored: the bytes below are the member's own
        archive.writestr("users.json", "[]")
        archive.writestr("channels.json", '[{"id": "C1", "name": "general"}]')
        archive.writestr("general/2026-03-02.json", '[{"type": "message", "user": "U1", "ts": "1.0"}]')
    corrupt.write_bytes(corrupt.read_bytes().replace(b'"U1"', b'"U2"'))  # its CRC no longer matches
    run = rapport(["import", "slack-export", str(corrupt), "--workspace", "T1"], env)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "skipped: unreadable file" in run.stdout

    started = time.monotonic()
    run = rapport(["import", "slack-export", str(bomb), "--workspace", "T1"], env)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"file over {MAX_FILE_BYTES // 2**20} MB" in run.stdout
    assert time.monotonic() - started < 60


def test_a_database_url_that_does_not_parse_is_one_line(env: dict[str, str]) -> None:
    for url in ("rapport.db", "", "postgresql://rapport:s3cret@db:5432x/rapport"):
        run = rapport(["graph"], {**env, "RAPPORT_DATABASE_URL": url})
        assert run.returncode == 2, url
        line = one_error_line(run.stderr)
        assert "RAPPORT_DATABASE_URL is not a database URL" in line and "s3cret" not in line, url


def test_a_sqlite_file_that_cannot_be_opened_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'rapport.db'}"
    for _ in range(4):  # aiosqlite's own traceback came about one run in two
        run = rapport(["graph"], {**env, "RAPPORT_DATABASE_URL": url})
        assert run.returncode == 2
        assert "cannot open the database in RAPPORT_DATABASE_URL: unable to open database file" in \
            one_error_line(run.stderr)


def test_a_console_script_that_cannot_be_read_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    not_text = tmp_path / "latin1.txt"
    not_text.write_bytes("@alice #general: café?\n".encode("latin-1"))
    for script, expected in ((tmp_path / "nope.txt", "No such file or directory"), (tmp_path, "Is a directory"),
                             (not_text, "it is not UTF-8 text")):
        run = rapport(["console", "--script", str(script)], env)
        assert run.returncode == 2, script
        assert f"cannot read the script {script}: {expected}" in one_error_line(run.stderr)


def test_a_wrong_setting_is_named_in_one_line(env: dict[str, str]) -> None:
    for setting, value, expected in (
        ("RAPPORT_LOG_FORMAT", "xml", "RAPPORT_LOG_FORMAT: Input should be 'text' or 'json'"),
        ("RAPPORT_LOG_LEVEL", "LOUD", "RAPPORT_LOG_LEVEL: should be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("RAPPORT_ENV", "staging", "RAPPORT_ENV: Input should be 'development' or 'production'"),
        ("RAPPORT_PORT", "30OO", "RAPPORT_PORT: Input should be a valid integer"),
        ("RAPPORT_PORT", "99999", "RAPPORT_PORT: Input should be less than or equal to 65535"),
        ("RAPPORT_DISCORD_MESSAGE_CONTENT", "maybe",
         "RAPPORT_DISCORD_MESSAGE_CONTENT: Input should be a valid boolean"),
        ("DISCORD_GUILD_IDS", "123456789012345678,2345x", "DISCORD_GUILD_IDS: should be server ids (digits)"),
    ):
        for command in (["graph"], ["run"]):
            run = rapport(command, {**env, setting: value})
            assert run.returncode == 2, (setting, command)
            line = one_error_line(run.stderr)
            assert expected in line and value not in line, (setting, command)
    assert rapport(["graph"], {**env, "RAPPORT_LOG_LEVEL": "warning"}).returncode == 1  # any case; no workspace yet


def test_a_database_a_newer_rapport_migrated_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    newer = {**env, "RAPPORT_DATABASE_URL": f"sqlite:///{path}"}
    assert rapport(["db", "upgrade"], newer).returncode == 0
    connection = sqlite3.connect(path)
    with connection:  # commits
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    connection.close()
    run = rapport(["db", "upgrade"], newer)
    assert run.returncode == 2
    assert "'0099_from_the_future'; a newer version of Rapport has migrated it" in one_error_line(run.stderr)


async def test_reply_ranker_files_that_cannot_be_used_stop_the_start_with_the_reason(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read at start, not on the first message: vectors the models were not trained with would misread every one."""
    from adapters.bootstrap import bootstrap
    from adapters.settings import Settings
    from bot.graph import reply_model
    from storage.sealing import ConfigurationError

    settings = Settings(database_url=f"sqlite:///{tmp_path}/rapport.db", secret_key="k" * 32)
    core = await bootstrap(settings)  # the package's own files load
    await core.store.close()

    def stale() -> None:
        raise ValueError("word_vectors.npz: sha256 0f00, but the reply models were trained with 5e7d")

    monkeypatch.setattr(reply_model, "word_vectors", stale)
    with pytest.raises(ConfigurationError, match="files in bot/data cannot be used: word_vectors"):
        await bootstrap(settings)
