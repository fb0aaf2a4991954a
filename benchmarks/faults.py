"""Rapport under faults: real `rapport run` processes on a throwaway PostgreSQL cluster of their own, against the
local fake Slack Web API (tests/slack/fake_slack.py); this process plays Slack as benchmarks/slack_load.py does,
and redelivers what was not acked (after 1 s, up to 3 times, as Slack retries).

Prints one row per fault: events (or DMs) sent / acked / stored / lost / doubled / seconds to recover.

    python benchmarks/faults.py                         # every fault (about 5 minutes)
    python benchmarks/faults.py --only poison sigterm   # some of them

Faults: pg-5 / pg-60 (PostgreSQL stopped 5 s / 60 s under a 50 events/s stream), poison (one `"ts":"abc"` in a
burst of 41), sigterm (SIGTERM mid-stream), sigkill (the process sending a coffee round killed after 5 DMs, 3
processes), http-500 / http-429 (30% of chat.postMessage calls answer 500 / 429 during a round), slack-down (16
chat.postMessage calls in a row answer 500 at the start of a round).

The cluster is made with initdb / pg_ctl from /usr/lib/postgresql/*/bin on a free port, in a temp dir, and
removed at the end (as user postgres when run as root: initdb refuses root). The machine's own server is not used.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.slack_load import SECRET, free_port, signed  # noqa: E402
from storage.store import SqlStore  # noqa: E402
from tests.slack.fake_slack import BOT_USER, FakeSlack  # noqa: E402

TEAM, CHANNEL = "T0FAULT", "C0COFFEE"
SENTINEL = "zebra-sentinel"  # in every message's text: must never reach the logs
ROUND_MEMBERS = [f"U0M{i:02d}" for i in range(20)]


@dataclass
class Row:
    fault: str
    sent: int = 0
    acked: int = 0
    stored: int = 0
    lost: int = 0
    doubled: int = 0
    recover: float | None = None
    note: str = ""

    def line(self) -> str:
        recover = "-" if self.recover is None else f"{self.recover:.1f}"
        return (f"| {self.fault} | {self.sent} | {self.acked} | {self.stored} | {self.lost} | {self.doubled} | "
                f"{recover} | {self.note} |")


class Cluster:
    """A PostgreSQL cluster of our own: stopped and started at will."""

    def __init__(self) -> None:
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.dir = tempfile.mkdtemp(prefix="faults-pg-")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres")

    def _run(self, tool: str, *args: str) -> None:
        command = [f"{self.bin}/{tool}", *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


async def reset(url: str) -> None:
    store = await SqlStore.open(url)  # migrates
    async with store.engine.begin() as connection:
        names = (await connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"
        ))).scalars().all()
        await connection.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names)))
    await store.close()


async def stored_ids(url: str) -> tuple[set[str], int]:
    store = await SqlStore.open(url)
    async with store.engine.connect() as connection:
        ids = (await connection.execute(text("SELECT message_id FROM messages WHERE workspace = :w"),
                                        {"w": TEAM})).scalars().all()
    await store.close()
    return set(ids), len(ids)


class App:
    """One `rapport run` process (Slack, single workspace) with its log in a file."""

    def __init__(self, url: str, fake: FakeSlack, tmp: str, name: str = "app") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tmp) / f"{name}.log"
        env = {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_LOG_LEVEL": "INFO", "RAPPORT_PORT": str(self.port),
               "RAPPORT_HOST": "127.0.0.1", "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": fake.install(TEAM),
               "RAPPORT_SLACK_API_URL": fake.url, "PYTHONPATH": str(ROOT)}
        for key in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN"):
            env.pop(key, None)
        self.process = subprocess.Popen([sys.executable, "-m", "adapters.cli", "run"], env=env, cwd=tmp,
                                        stdout=subprocess.DEVNULL, stderr=self.log.open("w"))

    async def ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(300):
            try:
                async with session.get(f"{self.base}/healthz"):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"app did not start: {self.log.read_text()[-2000:]}")

    async def idle(self, session: aiohttp.ClientSession, within: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < within:
            try:
                async with session.get(f"{self.base}/healthz") as response:
                    if (await response.json())["pending"] == 0:
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        return float("nan")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def text_in_log(self) -> bool:
        return SENTINEL in self.log.read_text()


class Player:
    """Plays Slack: message events at a rate; what is not acked is redelivered after 1 s, up to 3 times."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.n = 0
        self.ts = time.time() - 3600
        self.acked: set[str] = set()
        self.sent: list[str] = []
        self.refused = 0
        self.tasks: list[asyncio.Task[None]] = []

    def body(self, ts: str | None = None) -> tuple[str, str]:
        self.n += 1
        self.ts += 0.01
        ts = ts or f"{self.ts:.6f}"
        event = {"type": "message", "channel": f"C0{self.n % 4}", "user": f"U0{self.n % 12}", "ts": ts,
                 "text": f"{SENTINEL} can you check {self.n}?", "channel_type": "channel"}
        return f"C0{self.n % 4}:{ts}", json.dumps({
            "team_id": TEAM, "api_app_id": "A0RAPPORT", "type": "event_callback", "event": event,
            "event_id": f"Ev{self.n:08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})

    def send(self, ts: str | None = None) -> None:
        message_id, body = self.body(ts)
        self.sent.append(message_id)
        self.tasks.append(asyncio.create_task(self._deliver(message_id, body)))

    async def _deliver(self, message_id: str, body: str) -> None:
        for attempt in range(4):
            extra = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"} if attempt else {}
            try:
                async with self.session.post(f"{self.base}/slack/events", data=body.encode(),
                                             headers={**signed(body), **extra},
                                             timeout=aiohttp.ClientTimeout(total=3)) as response:
                    if response.status == 200:
                        self.acked.add(message_id)
                        return
                    self.refused += 1
            except (aiohttp.ClientError, TimeoutError):
                self.refused += 1
            await asyncio.sleep(1)

    async def stream(self, rate: float, seconds: float, at: dict[float, Callable[[], object]] | None = None) -> None:
        """Send at `rate` for `seconds`; `at` runs actions (stop the database...) at given offsets."""
        started = time.monotonic()
        pending = sorted((at or {}).items())
        for i in range(int(rate * seconds)):
            while pending and time.monotonic() - started >= pending[0][0]:
                result = pending.pop(0)[1]()
                if asyncio.iscoroutine(result):
                    await result
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send()
        await asyncio.gather(*self.tasks)


async def count(row: Row, player: Player, url: str) -> None:
    ids, rows = await stored_ids(url)
    row.sent, row.acked = len(player.sent), len(player.acked)
    row.stored = len(ids & set(player.sent))
    row.lost = len(player.acked - ids)
    row.doubled = rows - len(ids)


async def database_down(cluster: Cluster, fake: FakeSlack, tmp: str, seconds: float) -> Row:
    await reset(cluster.url)
    app = App(cluster.url, fake, tmp, f"pg{seconds:.0f}")
    row = Row(f"PostgreSQL down {seconds:.0f} s, 50 events/s")
    recovered: list[asyncio.Task[float]] = []

    async def caught_up(acked: set[str]) -> float:
        started = time.monotonic()
        while True:
            if acked <= (await stored_ids(cluster.url))[0]:
                return time.monotonic() - started
            await asyncio.sleep(0.2)

    async def up() -> None:
        await asyncio.to_thread(cluster.start)
        # Recovery: from the restart until every message acked before it (kept in memory meanwhile) was stored.
        recovered.append(asyncio.create_task(caught_up(set(player.acked))))

    async with aiohttp.ClientSession() as session:
        await app.ready(session)
        player = Player(session, app.base)
        await player.stream(50, seconds + 15, {3: lambda: asyncio.to_thread(cluster.stop), 3 + seconds: up})
        await app.idle(session)
        row.recover = await recovered[0]
    code = app.stop()
    await count(row, player, cluster.url)
    row.note = (f"{player.refused} deliveries refused (503) and redelivered; exit {code}; "
                f"text in log: {'yes' if app.text_in_log() else 'no'}")
    return row


async def poison(cluster: Cluster, fake: FakeSlack, tmp: str) -> Row:
    await reset(cluster.url)
    app = App(cluster.url, fake, tmp, "poison")
    row = Row("poison event (`\"ts\":\"abc\"`) in a burst of 41")
    async with aiohttp.ClientSession() as session:
        await app.ready(session)
        player = Player(session, app.base)
        started = time.monotonic()
        for i in range(41):
            player.send("abc" if i == 20 else None)
        await asyncio.gather(*player.tasks)
        await app.idle(session)
        row.recover = time.monotonic() - started
    app.stop()
    await count(row, player, cluster.url)
    row.lost = len(player.acked - (await stored_ids(cluster.url))[0]) - 1  # the poison itself is not a message
    logged = "message=abc" in app.log.read_text()
    row.note = f"the bad event is logged by its ids: {'yes' if logged else 'no'}; seconds = burst to all stored"
    return row


async def sigterm(cluster: Cluster, fake: FakeSlack, tmp: str) -> Row:
    await reset(cluster.url)
    app = App(cluster.url, fake, tmp, "sigterm")
    row = Row("SIGTERM mid-stream, 50 events/s")
    async with aiohttp.ClientSession() as session:
        await app.ready(session)
        player = Player(session, app.base)
        stopped: list[float] = []

        def term() -> None:
            stopped.append(time.monotonic())
            app.process.send_signal(signal.SIGTERM)

        streaming = asyncio.create_task(player.stream(50, 6, {3: term}))
        code = await asyncio.to_thread(app.process.wait, 40)
        row.recover = time.monotonic() - stopped[0]
        await streaming
    await count(row, player, cluster.url)
    row.note = f"exit {code}; seconds = SIGTERM to exit; events after the stop are refused, not acked"
    return row


async def seed_round(url: str) -> datetime:
    """20 members in a coffee channel whose round fell due a moment ago."""
    from bot.app import Rapport
    from bot.events import CHANNEL_MANAGER, CommandInvoked, Member
    from bot.outbound import Outbounds
    from tests.fakes import FakeClock

    await reset(url)
    store = await SqlStore.open(url)
    core = Rapport(store, FakeClock(datetime.now(UTC) - timedelta(days=1)), Outbounds())
    await store.members.upsert([Member(TEAM, u, u, "Europe/London") for u in ROUND_MEMBERS])
    await core.on_command(CommandInvoked(TEAM, CHANNEL, "U0MGR", "coffee setup weekly monday 10:00 tz UTC",
                                         frozenset({CHANNEL_MANAGER})))
    for user in ROUND_MEMBERS:
        await core.on_command(CommandInvoked(TEAM, CHANNEL, user, "coffee join"))
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE coffee_channels SET next_run_at = :d"), {"d": due})
    await store.close()
    return due


def reached(fake: FakeSlack, channel: str) -> tuple[str, ...]:
    """The members a post to `channel` reached: one for a DM (D...), the group for a group DM (G...), which is how
    a round introduces a group now; none for a channel."""
    if channel.startswith("D"):
        return ("U" + channel.removeprefix("D"),)
    return fake.group_dms.get(channel, ())


def dms(fake: FakeSlack, since: int = 0) -> list[tuple[str, float]]:
    return [(str(c.params.get("channel")), c.at) for c in fake.calls[since:]
            if c.method == "chat.postMessage" and reached(fake, str(c.params.get("channel", "")))]


async def round_done(url: str, due: datetime, within: float) -> bool:
    started = time.monotonic()
    while time.monotonic() - started < within:
        store = await SqlStore.open(url)
        async with store.engine.connect() as connection:
            status = (await connection.execute(text("SELECT status FROM coffee_rounds WHERE due_at = :d"),
                                               {"d": due})).scalar()
        await store.close()
        if status == "sent":
            return True
        await asyncio.sleep(0.5)
    return False


async def seats(url: str) -> Counter[str]:
    store = await SqlStore.open(url)
    async with store.engine.connect() as connection:
        found = Counter((await connection.execute(text("SELECT dm FROM coffee_seats"))).scalars().all())
    await store.close()
    return found


def delivered(fake: FakeSlack, since: int) -> Counter[str]:
    """Introductions that went through (answered 200) per member, in a DM or the group's DM: a call is counted
    once Slack accepted it."""
    got: Counter[str] = Counter()
    for call in fake.calls[since:]:
        if call.method == "chat.postMessage" and not call.refused:
            got.update(reached(fake, str(call.params.get("channel", ""))))
    return got


async def count_round(row: Row, url: str, fake: FakeSlack, since: int) -> Counter[str]:
    """A round's members introduced (acked), seats stored as sent, members lost and introduced twice, into `row`;
    returns the seats by state."""
    got = delivered(fake, since)
    row.sent = len(ROUND_MEMBERS)
    row.acked = sum(1 for u in ROUND_MEMBERS if got[u])
    found = await seats(url)
    row.stored = found.get("sent", 0)
    row.lost = sum(1 for u in ROUND_MEMBERS if not got[u])
    row.doubled = sum(1 for u in ROUND_MEMBERS if got[u] > 1)
    return found


async def sigkill(cluster: Cluster, fake: FakeSlack, tmp: str) -> Row:
    due = await seed_round(cluster.url)
    fake.latency["chat.postMessage"] = 0.3  # a round that takes a while, so the kill lands mid-round
    since = len(fake.calls)
    apps = [App(cluster.url, fake, tmp, f"round{i}") for i in range(3)]
    row = Row("SIGKILL of the round owner after 5 DMs, 3 processes")
    try:
        started = time.monotonic()
        while time.monotonic() - started < 120:
            if len(dms(fake, since)) >= 5:
                break
            await asyncio.sleep(0.05)
        store = await SqlStore.open(cluster.url)
        async with store.engine.connect() as connection:
            owner = (await connection.execute(text("SELECT owner FROM runs WHERE key LIKE 'coffee:%'"))).scalar()
        await store.close()
        pid = int(str(owner).rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        before = len(fake.calls)
        done = await round_done(cluster.url, due, 180)
        after = [at for _, at in dms(fake, before)]
        row.recover = (min(after) - killed) if after else None
        found = await count_round(row, cluster.url, fake, since)
        row.note = (f"per member: acked = got a DM, stored = seat sent; round finished: {'yes' if done else 'no'}, "
                    f"seats {dict(found)}; seconds = kill to the next DM by another process")
    finally:
        fake.latency.clear()
        for app in apps:
            app.stop()
    return row


async def flaky_round(cluster: Cluster, fake: FakeSlack, tmp: str, status: int) -> Row:
    due = await seed_round(cluster.url)
    fake.flaky["chat.postMessage"] = (status, 0.3)
    fake.retry_after = 1
    since = len(fake.calls)
    app = App(cluster.url, fake, tmp, f"flaky{status}")
    row = Row(f"chat.postMessage answers {status} to 30% of calls, one round")
    try:
        started = time.monotonic()
        done = await round_done(cluster.url, due, 240)
        row.recover = time.monotonic() - started
        calls = [c for c in fake.calls[since:] if c.method == "chat.postMessage"]
        found = await count_round(row, cluster.url, fake, since)
        row.note = (f"{len(calls)} calls for {len(ROUND_MEMBERS) + 1} messages; seats {dict(found)}; round "
                    f"finished: {'yes' if done else 'no'}; seconds = round start to finished")
    finally:
        fake.flaky.clear()
        app.stop()
    return row


async def slack_down(cluster: Cluster, fake: FakeSlack, tmp: str) -> Row:
    """Every chat.postMessage answers 500 for a while (16 calls in a row: four messages' worth of the client's
    retries) at the start of a round; the round is resumed after its lease until Slack answers."""
    due = await seed_round(cluster.url)
    fake.server_errors["chat.postMessage"] = 16
    since = len(fake.calls)
    app = App(cluster.url, fake, tmp, "slackdown")
    row = Row("chat.postMessage answers 500 to 16 calls in a row, one round")
    try:
        started = time.monotonic()
        done = await round_done(cluster.url, due, 240)
        row.recover = time.monotonic() - started
        found = await count_round(row, cluster.url, fake, since)
        row.note = f"seats {dict(found)}; round finished: {'yes' if done else 'no'}; seconds = round start to finished"
    finally:
        fake.server_errors.clear()
        app.stop()
    return row


async def main(only: list[str]) -> None:
    cluster = Cluster()
    cluster.start()
    fake = FakeSlack().start()
    tmp = tempfile.mkdtemp(prefix="faults-")
    faults = {
        "pg-5": lambda: database_down(cluster, fake, tmp, 5),
        "pg-60": lambda: database_down(cluster, fake, tmp, 60),
        "poison": lambda: poison(cluster, fake, tmp),
        "sigterm": lambda: sigterm(cluster, fake, tmp),
        "sigkill": lambda: sigkill(cluster, fake, tmp),
        "http-500": lambda: flaky_round(cluster, fake, tmp, 500),
        "http-429": lambda: flaky_round(cluster, fake, tmp, 429),
        "slack-down": lambda: slack_down(cluster, fake, tmp),
    }
    rows = []
    try:
        for name, run in faults.items():
            if only and name not in only:
                continue
            print(f"... {name}", file=sys.stderr, flush=True)
            rows.append(await run())
    finally:
        fake.stop()
        cluster.remove()
    print(f"\nRapport under faults: PostgreSQL {Path(cluster.bin).parent.name} (own cluster), fake Slack Web API, "
          f"{os.cpu_count()} cores; logs in {tmp}\n")
    print("| fault | sent | acked | stored | lost | doubled | seconds to recover | notes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row.line())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=[],
                        help="pg-5 pg-60 poison sigterm sigkill http-500 http-429 slack-down")
    asyncio.run(main(parser.parse_args().only))
