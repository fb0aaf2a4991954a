"""Load on the Slack adapter: signed message events from several workspaces at rising rates.

The adapter runs as its own process (`run_slack`, as `rapport run` starts it) on a fresh database, talking to a
local fake of Slack's Web API; this process plays Slack: it posts events open-loop at each rate, with a share
of Slack-style retries (same event_id, X-Slack-Retry-Num), measures the ack latency of every request, waits for
the work done after the acks, then counts what reached the database.

Baseline, same run: signed url_verification requests at the top rate, which go through the same HTTP server and
Bolt's signature check but touch neither the database nor the core.

    python benchmarks/slack_load.py                       # SQLite in a temp dir
    python benchmarks/slack_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.models import MessageRow  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from tests.slack.fake_slack import BOT_USER, FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
CLIENT_ID = "1111.2222"
WORDS = ["can you review my PR?", "how do I deploy the worker?", "done, merged it", "thanks!",
         "anyone know why CI is red?", "looks good to me", "is the staging db back up?", "on it"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None  # None only without a secret
    return {"X-Slack-Request-Timestamp": stamp, "Content-Type": "application/json", "X-Slack-Signature": signature}


@dataclass
class Stage:
    name: str
    rate: int
    sent: int = 0
    unique: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    drained: float = 0.0
    stored: int = 0

    def row(self) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        acked = len(self.latencies) / self.elapsed if self.elapsed else 0
        lost = self.unique - self.stored if self.unique else 0
        processed = self.unique / self.drained if self.drained and self.unique else 0
        double = max(0, self.stored - self.unique)
        return (f"| {self.name:<18} | {self.rate:>6} | {self.sent:>6} | {acked:>8.0f} | {processed:>9.0f} | "
                f"{p50:>7.1f} | {p99:>7.1f} | {self.errors:>6} | {lost:>4} | {double:>6} |")


class Slack:
    """Plays Slack: workspaces with channels and people, posting messages and retrying some deliveries."""

    def __init__(self, workspaces: int, retry_share: float) -> None:
        self.teams = [f"T0LOAD{n}" for n in range(workspaces)]
        self.retry_share = retry_share
        self.ts = time.time() - 3600
        self.roots: dict[tuple[str, str], list[str]] = {}
        self.n = 0

    def event(self) -> tuple[str, list[dict[str, str]]]:
        self.n += 1
        self.ts += 0.001
        team = random.choice(self.teams)
        channel = f"C0{random.randrange(8)}"
        ts = f"{self.ts:.6f}"
        event = {"type": "message", "channel": channel, "user": f"U0{random.randrange(40)}", "ts": ts,
                 "text": random.choice(WORDS), "channel_type": "channel", "event_ts": ts}
        roots = self.roots.setdefault((team, channel), [])
        if roots and random.random() < 0.4:
            event["thread_ts"] = random.choice(roots)
        else:
            roots.append(ts)
            del roots[:-5]
        body = json.dumps({"team_id": team, "api_app_id": "A0RAPPORT", "type": "event_callback", "event": event,
                           "event_id": f"Ev{self.n:010d}", "event_time": int(self.ts),
                           "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}]})
        deliveries: list[dict[str, str]] = [{}]
        if random.random() < self.retry_share:
            deliveries.append({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        return body, deliveries


async def post(session: aiohttp.ClientSession, url: str, body: str, extra: dict[str, str], stage: Stage) -> None:
    started = time.perf_counter()
    try:
        async with session.post(url, data=body.encode(), headers={**signed(body), **extra}) as response:
            await response.read()
            ok = response.status == 200
    except aiohttp.ClientError:
        ok = False
    if ok:
        stage.latencies.append(time.perf_counter() - started)
    else:
        stage.errors += 1


async def run_stage(session: aiohttp.ClientSession, base: str, stage: Stage, seconds: float,
                    bodies: Slack | None) -> None:
    tasks: list[asyncio.Task[None]] = []
    total = int(stage.rate * seconds)
    started = time.perf_counter()
    for i in range(total):
        delay = started + i / stage.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if bodies is None:
            body = json.dumps({"token": "x", "challenge": f"c{i}", "type": "url_verification"})
            deliveries: list[dict[str, str]] = [{}]
        else:
            body, deliveries = bodies.event()
            stage.unique += 1
        for extra in deliveries:
            stage.sent += 1
            tasks.append(asyncio.create_task(post(session, f"{base}/slack/events", body, extra, stage)))
    await asyncio.gather(*tasks)
    stage.elapsed = time.perf_counter() - started
    if bodies is not None:
        while True:
            async with session.get(f"{base}/healthz") as response:
                if (await response.json())["pending"] == 0:
                    break
            await asyncio.sleep(0.05)
    stage.drained = time.perf_counter() - started


async def prepare(url: str, teams: list[str], fake: FakeSlack) -> None:
    store = await SqlStore.open(url)
    installations = AsyncSQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=store.engine)
    for team in teams:
        token = fake.install(team)
        await installations.async_save(Installation(
            app_id="A0RAPPORT", enterprise_id=None, team_id=team, bot_token=token, bot_id="B0BOT",
            bot_user_id=BOT_USER, user_id="U0INSTALLER", is_enterprise_install=False))
    await store.close()


async def stored(url: str) -> int:
    store = await SqlStore.open(url)
    async with store.engine.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(MessageRow))).scalar_one()
    await store.close()
    return int(count)


async def reset_postgres(url: str) -> None:
    from storage.engine import create_engine

    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    tmp = tempfile.mkdtemp(prefix="slack-load-")
    url = args.database_url or f"sqlite+aiosqlite:///{tmp}/rapport.db"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    fake = FakeSlack().start()
    slack = Slack(args.workspaces, args.retries)
    await prepare(url, slack.teams, fake)
    port = free_port()
    env = {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_LOG_LEVEL": "WARNING", "RAPPORT_PORT": str(port),
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "s",
           "RAPPORT_SLACK_API_URL": fake.url, "PYTHONPATH": str(ROOT)}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    server = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", env=env, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    stages = [Stage("baseline url_verif", max(args.rates))] + [Stage("message events", r) for r in args.rates]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/healthz"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            await run_stage(session, base, Stage("warm-up", 50), 2, slack)
            before = await stored(url)
            for stage in stages:
                await run_stage(session, base, stage, args.seconds, None if stage.name.startswith("baseline")
                                else slack)
                now = await stored(url)
                stage.stored, before = now - before, now
    finally:
        server.terminate()
        await server.wait()
        fake.stop()
    print(f"\nSlack adapter load: {args.workspaces} workspaces, {args.seconds:.0f} s per rate, "
          f"{args.retries:.0%} of events redelivered, database {url.split(':')[0]}, {os.cpu_count()} cores\n")
    print("| stage              | target | posted | acked/s | processed/s | p50 ms | p99 ms | errors | lost | double |")
    print("|--------------------|-------:|-------:|--------:|------------:|-------:|-------:|-------:|-----:|-------:|")
    for stage in stages:
        print(stage.row())
    print("\nposted includes redeliveries; processed/s = distinct events / time until the after-ack work drained;"
          "\nlost = distinct events not in the database; double = rows beyond distinct events.")


def serve() -> None:
    from adapters.bootstrap import bootstrap
    from adapters.settings import load_settings
    from adapters.slack.app import run_slack
    from adapters.slack.settings import SlackSettings

    async def run() -> None:
        core = await bootstrap(load_settings())
        await run_slack(core, SlackSettings())

    asyncio.run(run())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workspaces", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--retries", type=float, default=0.05, help="share of events delivered twice")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 200, 300, 400])
    arguments = parser.parse_args()
    if arguments.serve:
        serve()
    else:
        asyncio.run(main(arguments))
