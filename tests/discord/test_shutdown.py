"""`rapport run` on Discord in its own process: SIGTERM stores the messages already received, closes the gateway
normally (1000, not an abnormal 1006) and exits 0."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import MessageRow
from storage.store import SqlStore
from tests.conftest import ROOT
from tests.discord.conftest import ANA, BOB, Harness
from tests.discord.fake_discord import TOKEN, FakeDiscord

pytestmark = pytest.mark.serial  # a fixed-rate stream of events: run alone, not beside other tests

# `rapport run`, with discord.py pointed at the fake (its addresses are class attributes, not settings).
CHILD = r"""
import sys, discord, yarl
discord.http.Route.BASE = sys.argv[1] + "/api/v10"
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[1] + "/gateway")
from adapters.cli import app
app(["run"])
"""


async def test_sigterm_closes_the_gateway_normally_after_storing_what_was_received(
        fake: FakeDiscord, discord_bot: Harness, env: dict[str, str], tmp_path: Path) -> None:
    await discord_bot.stop()  # the harness only lends its payloads; the bot under test is the process below
    connections = len(fake.identified)
    url = env["RAPPORT_DATABASE_URL"]
    child_env = {**env, "DISCORD_BOT_TOKEN": TOKEN, "RAPPORT_DATABASE_URL": url,
                 "RAPPORT_DISCORD_COMMANDS_STATE": str(tmp_path / "commands")}
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        child_env.pop(name, None)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, fake.url, env=child_env, cwd=ROOT,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while len(fake.identified) == connections:
            assert time.monotonic() < deadline, "the bot did not connect"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # its guilds arrive
        burst = [discord_bot.message_payload(ANA if n % 2 else BOB, n / 60, f"number {n}, right?") for n in range(40)]
        await fake.send("MESSAGE_CREATE", *burst)
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert time.monotonic() - stopped < 30
    assert fake.close_codes[-1] == 1000
    store = await SqlStore.open(url)
    try:
        async with store.engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(MessageRow))).scalar_one() == 40
    finally:
        await store.close()
