"""Starting the Slack adapter: single-workspace tokens, clear one-line errors, and the schema of its tables."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import inspect

from adapters import PlatformError
from adapters.deferred import Deferred
from adapters.slack.app import run_slack
from bot.app import Rapport
from bot.replies import Reply
from tests.fakes import FakeClock
from tests.slack.conftest import slack_settings, start
from tests.slack.fake_slack import FakeSlack

SINGLE = {"SLACK_CLIENT_ID": "", "SLACK_CLIENT_SECRET": "", "SLACK_BOT_TOKEN": "xoxb-single"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_single_workspace_from_a_bot_token(core: Rapport, fake_slack: FakeSlack, clock: FakeClock) -> None:
    fake_slack.install("T0SOLO", "xoxb-single")
    slack = await start(core, fake_slack, clock, **SINGLE)
    try:
        await slack.adapter.verify()
        assert slack.adapter.outbound.owns("T0SOLO") and not slack.adapter.outbound.owns("T0OTHER")
        me = await (await slack.command("T0SOLO", "U0ANN", "me")).json()
        assert "has not seen you talk" in me["text"]
        assert await core.outbound.send_channel("T0SOLO", "C0GENERAL", Reply("hi"))
        await slack.event("T0SOLO", {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": "1.0"})
        calls = len(fake_slack.calls)
        assert not await core.outbound.send_channel("T0SOLO", "C0GENERAL", Reply("hi"))
        assert len(fake_slack.calls) == calls
    finally:
        await slack.http.close()


async def test_the_first_request_does_not_ask_auth_test_again(core: Rapport, fake_slack: FakeSlack,
                                                              clock: FakeClock) -> None:
    """auth.test is asked once, at start: Slack's API may be slow, and the first request must be acked at once."""
    fake_slack.install("T0SOLO", "xoxb-single")
    slack = await start(core, fake_slack, clock, **SINGLE)
    try:
        await slack.adapter.verify()
        response = await slack.say("T0SOLO", "U0ANN", "anyone around?", slack.ts())
        assert response.status == 200
        assert (await (await slack.command("T0SOLO", "U0ANN", "me")).json())["response_type"] == "ephemeral"
        assert len(fake_slack.called("auth.test")) == 1
    finally:
        await slack.settle()
        await slack.http.close()


async def test_a_bad_token_is_one_clear_line(core: Rapport, fake_slack: FakeSlack) -> None:
    with pytest.raises(PlatformError) as raised:
        await run_slack(core, slack_settings(fake_slack, **SINGLE, RAPPORT_PORT=closed_port()))
    assert str(raised.value) == "Slack rejected SLACK_BOT_TOKEN: invalid_auth"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize("mode", [SINGLE, {}])
async def test_unreachable_slack_is_one_clear_line(core: Rapport, fake_slack: FakeSlack, mode: dict) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/"
    settings = slack_settings(fake_slack, **mode, RAPPORT_SLACK_API_URL=url, RAPPORT_PORT=closed_port())
    with pytest.raises(PlatformError) as raised:
        await asyncio.wait_for(run_slack(core, settings), 30)
    assert str(raised.value).startswith(f"cannot reach Slack at {url}: ")
    assert "\n" not in str(raised.value)


async def test_missing_settings_are_named(core: Rapport, fake_slack: FakeSlack) -> None:
    with pytest.raises(PlatformError, match="SLACK_SIGNING_SECRET"):
        await run_slack(core, slack_settings(fake_slack, SLACK_SIGNING_SECRET=""))


async def test_run_slack_serves_until_cancelled(core: Rapport, fake_slack: FakeSlack) -> None:
    port = closed_port()
    task = asyncio.create_task(run_slack(core, slack_settings(fake_slack, RAPPORT_PORT=port)))
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert (await response.json())["ok"] is True
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the server did not come up")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_migration_creates_slack_sdks_own_schema(core: Rapport) -> None:
    engine = core.store.engine  # type: ignore[attr-defined]
    expected = [*AsyncSQLAlchemyInstallationStore("x", engine).metadata.sorted_tables,
                *AsyncSQLAlchemyOAuthStateStore(60, engine).metadata.sorted_tables]

    def actual(connection):  # type: ignore[no-untyped-def]
        inspector = inspect(connection)
        return {t: ({c["name"]: (str(c["type"]).split("(")[0].replace("VARCHAR", "STRING"), c["nullable"])
                     for c in inspector.get_columns(t)},
                    sorted(tuple(i["column_names"]) for i in inspector.get_indexes(t)))
                for t in inspector.get_table_names() if t.startswith("slack_")}

    async with engine.connect() as connection:
        found = await connection.run_sync(actual)
    assert set(found) == {t.name for t in expected}
    for table in expected:
        columns, indexes = found[table.name]
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name][1] == (column.nullable and not column.primary_key), (table.name, column.name)
        assert indexes == sorted(tuple(c.name for c in i.columns) for i in table.indexes), table.name


async def test_deferred_work_is_retried_once_then_logged_by_ids(caplog: pytest.LogCaptureFixture) -> None:
    deferred = Deferred(retry_delay=0)
    runs: list[str] = []

    async def flaky() -> None:
        runs.append("flaky")
        if runs.count("flaky") == 1:
            raise ConnectionError("database went away")

    async def broken() -> None:
        runs.append("broken")
        raise ValueError("the secret words")

    deferred.submit("C1", "team=T1 event=Ev1", flaky)
    deferred.submit("C1", "team=T1 event=Ev2", broken)
    with caplog.at_level(logging.WARNING):
        await deferred.drain()
    assert runs == ["flaky", "flaky", "broken", "broken"], "same channel: in order; each retried once"
    assert deferred.failed == 1
    assert "team=T1 event=Ev2" in caplog.text and "failed twice" in caplog.text
    assert "secret words" not in caplog.text


async def test_deferred_work_keeps_the_order_within_a_channel() -> None:
    deferred = Deferred()
    seen: list[int] = []

    def job(n: int, delay: float):  # type: ignore[no-untyped-def]
        async def run() -> None:
            await asyncio.sleep(delay)
            seen.append(n)
        return run

    for n, delay in enumerate([0.05, 0.0, 0.02, 0.0]):
        deferred.submit("C1", f"n={n}", job(n, delay))
    await deferred.drain()
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("mode", [SINGLE, {}], ids=["single workspace", "oauth"])
async def test_starting_logs_no_warning_from_bolt(core: Rapport, fake_slack: FakeSlack, clock: FakeClock, mode: dict,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warned "As you gave `client` as well, `token`
    will be unused" on every start; the variable is where an operator puts the token, so it is set here."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-single")
    fake_slack.install("T0SOLO", "xoxb-single")
    with caplog.at_level(logging.DEBUG):
        slack = await start(core, fake_slack, clock, **mode)
    try:
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == []
        assert "will be unused" not in caplog.text
        assert os.environ["SLACK_BOT_TOKEN"] == "xoxb-single"  # put back for whoever reads it next
        if mode:  # the single workspace still answers with its token
            await slack.adapter.verify()
            assert (await slack.command("T0SOLO", "U0ANN", "me")).status == 200
            assert {c.token for c in fake_slack.calls} == {"xoxb-single"}
    finally:
        await slack.settle()
        await slack.http.close()
