"""`rapport run` on Slack as an operator runs it, in its own process: SIGTERM mid-stream stores everything that
was acked and exits 0; a busy port is one line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.models import MessageRow
from storage.store import SqlStore
from tests.conftest import ROOT
from tests.slack.conftest import SECRET, sign
from tests.slack.fake_slack import BOT_USER, FakeSlack

pytestmark = pytest.mark.serial  # a fixed-rate stream of events: run alone, not beside other tests

TEAM = "T0STOP"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slack_env(env: dict[str, str], fake: FakeSlack, port: int) -> dict[str, str]:
    values = {**env, "SLACK_BOT_TOKEN": fake.install(TEAM), "SLACK_SIGNING_SECRET": SECRET,
              "RAPPORT_SLACK_API_URL": fake.url, "RAPPORT_PORT": str(port), "RAPPORT_HOST": "127.0.0.1"}
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN"):
        values.pop(name, None)
    return values


def message(n: int) -> str:
    ts = f"{time.time() - 600 + n / 1000:.6f}"
    return json.dumps({"team_id": TEAM, "api_app_id": "A0RAPPORT", "type": "event_callback",
                       "event_id": f"Ev{n:08d}", "event_time": int(time.time()),
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
                       "event": {"type": "message", "channel": "C0GENERAL", "user": f"U0{n % 5}", "ts": ts,
                                 "text": f"can you look at ticket {n}?", "channel_type": "channel"}})


async def stored(url: str) -> int:
    store = await SqlStore.open(url)
    try:
        async with store.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(MessageRow))).scalar_one())
    finally:
        await store.close()


async def start(env: dict[str, str], tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_sigterm_mid_stream_stores_everything_acked_and_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    fake = FakeSlack().start()
    port = free_port()
    process = await start(slack_env(env, fake, port), tmp_path)
    base = f"http://127.0.0.1:{port}"
    acked: set[int] = set()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/healthz"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)

            async def send(n: int) -> None:
                body = message(n)
                try:
                    async with session.post(f"{base}/slack/events", data=body.encode(),
                                            headers={"Content-Type": "application/json", **sign(body)}) as response:
                        if response.status == 200:
                            acked.add(n)
                except aiohttp.ClientError:
                    pass  # not acked: Slack would redeliver it

            sending = []
            for n in range(300):  # 100 events/s for 3 s; the stop comes after 1.5 s
                sending.append(asyncio.create_task(send(n)))
                if n == 150:
                    process.send_signal(signal.SIGTERM)
                    stopped = time.monotonic()
                await asyncio.sleep(0.01)
            await asyncio.gather(*sending)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        took = time.monotonic() - stopped
    finally:
        if process.returncode is None:
            process.kill()
        fake.stop()
    assert process.returncode == 0, err.decode()
    assert took < 30
    assert len(acked) >= 150
    assert await stored(env["RAPPORT_DATABASE_URL"]) == len(acked)  # every acked event, none twice
    assert b"Traceback" not in err


async def test_a_busy_port_is_one_line_without_a_traceback(env: dict[str, str], tmp_path: Path) -> None:
    fake = FakeSlack().start()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = await start(slack_env(env, fake, port), tmp_path)
        try:
            _, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            fake.stop()
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert process.returncode == 2
    assert b"Traceback" not in err and "ERROR" not in err.decode(), err.decode()
    assert lines[-1].startswith("error: cannot listen on 127.0.0.1:") and "RAPPORT_PORT" in lines[-1]
    assert os.environ.get("RAPPORT_PORT") != str(port)
