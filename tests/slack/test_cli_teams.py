"""`rapport insights` and `rapport map` on the command line take Slack's user groups as teams when Slack is
configured, asked of the local fake Slack as `/rapport insights` asks them; without a token, or when Slack cannot
be asked (429, 500, no connection, another workspace's token), teams come from coffee only and one line says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.installations import installation_store
from bot.events import Member
from storage.sealing import sealer
from storage.store import SqlStore
from tests.conftest import rapport
from tests.slack.fake_slack import FakeSlack

T1 = "T0ALPHA"
PEOPLE = [f"U0P{i:02d}" for i in range(8)]


async def _members(env: dict[str, str]) -> None:
    store = await SqlStore.open(env["RAPPORT_DATABASE_URL"])
    await store.members.upsert([Member(T1, u, u) for u in PEOPLE])
    await store.close()


def _env(env: dict[str, str], fake: FakeSlack | None, **slack: str) -> dict[str, str]:
    """The operator's environment with Slack's settings as given and no others (none leak in from this machine)."""
    base = {k: v for k, v in env.items() if not k.startswith("SLACK_") and k != "RAPPORT_SLACK_API_URL"}
    return {**base, **({"RAPPORT_SLACK_API_URL": fake.url} if fake else {}), **slack}


async def test_insights_and_map_name_teams_from_slack_user_groups(env: dict[str, str], fake_slack: FakeSlack,
                                                                 tmp_path: Path) -> None:
    await _members(env)
    token = fake_slack.install(T1)
    fake_slack.usergroups[T1] = {"Platform": PEOPLE[:6], "Data": PEOPLE[6:]}
    configured = _env(env, fake_slack, SLACK_BOT_TOKEN=token)

    said = rapport(["insights", "--workspace", T1], configured)
    assert said.returncode == 0, said.stderr
    assert "Platform: 6 members" in said.stdout and "Data: fewer than 5 members" in said.stdout, said.stdout
    assert "teams: as named in coffee, else Slack's user groups (2 groups)" in said.stderr, said.stderr
    drawn = rapport(["map", "--workspace", T1, "--out", str(tmp_path / "teams.svg")], configured)
    assert drawn.returncode == 0, drawn.stderr  # no team is named in coffee: without Slack's, there is no map
    assert (tmp_path / "teams.svg").read_bytes().lstrip().startswith(b"<?xml")
    listed = fake_slack.called("usergroups.list")
    assert len(listed) == 2 and all(call.token == token for call in listed)

    # The same database without a token: coffee's teams only (none here), said in one line.
    plain = rapport(["insights", "--workspace", T1], _env(env, None))
    assert plain.returncode == 0 and "Platform" not in plain.stdout, plain.stdout
    assert plain.stderr.strip() == "teams: as named in coffee only: Slack is not configured (no SLACK_BOT_TOKEN)"
    unmapped = rapport(["map", "--workspace", T1, "--out", str(tmp_path / "none.svg")], _env(env, None))
    assert unmapped.returncode == 2 and "no teams are named" in unmapped.stderr


async def test_with_oauth_installs_the_workspace_s_own_token_asks(env: dict[str, str], fake_slack: FakeSlack) -> None:
    await _members(env)
    token = fake_slack.install(T1)
    fake_slack.usergroups[T1] = {"Platform": PEOPLE[:6]}
    store = await SqlStore.open(env["RAPPORT_DATABASE_URL"])
    await installation_store(store.engine, "1111.2222", sealer(env["RAPPORT_SECRET_KEY"], False)).async_save(
        Installation(app_id="A0RAPPORT", enterprise_id=None, team_id=T1, bot_token=token, bot_id="B0BOT",
                     bot_user_id="UBOT", bot_scopes="usergroups:read", user_id="U0INSTALLER",
                     is_enterprise_install=False))
    await store.close()
    oauth = _env(env, fake_slack, SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="client-secret")

    said = rapport(["insights", "--workspace", T1], oauth)

    assert said.returncode == 0 and "Platform: 6 members" in said.stdout, said.stderr
    assert [call.token for call in fake_slack.called("usergroups.list")] == [token]


@pytest.mark.parametrize(("trouble", "said"), [
    ("429", "Slack answered 429 (ratelimited)"),
    ("500", "Slack answered 500 (internal_error)"),
    ("unreachable", "cannot reach Slack at http://127.0.0.1:"),
    ("another workspace", "SLACK_BOT_TOKEN belongs to Slack workspace T0BETA, not to 'T0ALPHA'"),
    ("bad token", "Slack rejected SLACK_BOT_TOKEN: invalid_auth"),
])
async def test_when_slack_cannot_be_asked_teams_come_from_coffee_with_a_clear_line(
        env: dict[str, str], fake_slack: FakeSlack, trouble: str, said: str) -> None:
    await _members(env)
    token = fake_slack.install("T0BETA" if trouble == "another workspace" else T1)
    fake_slack.usergroups[T1] = {"Platform": PEOPLE[:6]}
    fake_slack.retry_after = 0  # the client waits out each 429 before giving up: no need to wait a second
    if trouble == "429":
        fake_slack.rate_limited["usergroups.list"] = 10
    elif trouble == "500":
        fake_slack.server_errors["usergroups.list"] = 10
    elif trouble == "bad token":
        token = "xoxb-revoked"
    settings = _env(env, fake_slack, SLACK_BOT_TOKEN=token)
    if trouble == "unreachable":
        fake_slack.stop()  # its port refuses connections from now on

    run = rapport(["insights", "--workspace", T1], settings)

    assert run.returncode == 0, run.stderr
    assert "Members Rapport knows:" in run.stdout and "Platform" not in run.stdout, run.stdout
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("teams: as named in coffee only: ") and said in line, run.stderr
    assert "Traceback" not in run.stderr
    if trouble in ("429", "500"):
        assert len(fake_slack.called("usergroups.list")) > 1  # asked again before giving up

