"""What an operator types at `rapport`: each mistake gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json

from tests.conftest import rapport

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
        assert found.returncode == 0, found.stderr
        return json.loads(found.stdout)["member"]

    assert demo_member() is None  # and wrote nothing into the database

    demo = rapport(["run"], env, "@alice /rapport help\n")  # in development the console still opens
    assert demo.returncode == 0 and "Commands" in demo.stdout
    assert demo_member() is not None  # (so the check above can fail)
