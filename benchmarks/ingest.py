"""Ingest throughput: a synthetic workspace through bot.intake.ingest into SQLite and PostgreSQL, beside a plain
bulk insert.

Run: python benchmarks/ingest.py [--messages 100000] [--members 200] [--postgres URL] [--live] [--no-postgres]

History (default): `ingest_history` links every message in memory (from 20,000 messages in one process a core, as
`rapport import` does; peak RSS is this process's) and writes in batches, into a fresh SQLite file and
a fresh PostgreSQL database (`rapport_bench`, dropped and created again on the --postgres server, so the test
database is never touched). The baseline writes the very rows that ingest produced (messages, questions, contacts)
with one plain `session.execute(insert(Table), rows)` per table (the Core Table: an ORM entity would split the rows
into one statement per run of rows with the same NULL columns) into fresh tables of the same schema, made by the
same migrations: the cost of the writes alone, with no linking, no ON CONFLICT and no answer updates.

--live: the one-message-at-a-time path (`bot.intake.ingest.ingest`: read a window, link, record in its own transaction)
for 5,000 messages, beside a baseline that writes each message's rows in its own transaction.

Each run happens in a fresh process. Peak memory is the growth of that process's resident set during the run
(sampled every 5 ms), not counting the synthetic events or the rows to insert, which exist before the run starts;
beside it, the largest peak resident set of the processes that linked a large import (whole, models included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Member, MessagePosted
from bot.intake.ingest import Directory, ingest, ingest_history, name_index
from storage.engine import connect
from storage.models import ContactRow, MessageRow, QuestionRow
from storage.store import SqlStore

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "rapport_bench"
WORKSPACE = "TBENCH"
START = datetime(2025, 10, 6, tzinfo=UTC)
TABLES = (MessageRow, QuestionRow, ContactRow)

# A small vocabulary of chat, enough to exercise every path of bot.graph.questions.
FIRST = ("ana bob cid dana eli fay gus hana ivan jo kai lena mira noor omar priya quinn rosa sam tomas uma vik "
         "wen xia yuki zoe ada ben cora dev emil fern gita hugo ines jonas kofi liam maya nils olga").split()
LAST = "lima stone okafor wu novak haddad ortega sato ivanova chen park silva kim rossi meyer".split()
THINGS = ("the staging db", "CI", "the deploy script", "the search endpoint", "the billing job", "the design doc",
          "the release branch", "the VPN config", "the feature flags", "the on-call rota", "the dashboards",
          "the migration", "the cache", "the export", "the auth service", "the flaky test")
QUESTIONS = (
    "how do I get access to {t}?", "anyone know why {t} is slow today", "is {t} down?", "does {t} need a review?",
    "can you take a look at {t}", "who owns {t}?", "what's the plan for {t}", "where do the logs for {t} live",
    "should we roll back {t}?", "any idea why {t} fails on main", "is there a way to restart {t} without a deploy",
    "did {t} go out last night?", "how long will {t} take?", "could someone review my PR for {t}?",
    "when is {t} scheduled?", "which version of {t} are we on", "has anyone touched {t} since Friday?",
    "is it just me or is {t} broken", "do we still need {t}?", "can I merge the fix for {t} now?",
)
ANSWERS = (
    "yes, {t} went out at 2am", "no, it's fine as long as it's reversible", "there's a script for {t} in ops/",
    "try restarting the worker, it usually clears up", "I'll take a look after lunch", "not me, ask in #ops",
    "it moved to the wiki under Platform: https://wiki.example.com/page?id=42", "should be back in 30 min",
    "we ignore those, there's a .gitignore entry", "run `make {x}` and it regenerates", "Thursday 3pm",
    "v2.31, same as prod", "the owner is on leave, I can approve", "it copies the latest version only",
)
STATEMENTS = (
    "Deploy of {t} done :rocket:", "Reminder: {t} freeze starts Thursday", "PSA: {t} moved to the new cluster",
    "How we cut the build time of {t} in half: https://blog.example.com/ci?ref=slack",
    "Do this first: update {t} before you pull", "pushed the fix for {t}", "{t} is green again",
    "what a week", "Could be worse", "can't make standup today", "reviewed the PR for {t}, left comments",
    "```\nSELECT * FROM jobs WHERE id = ?\n```", "morning all :wave:", "back from lunch",
)
CHATTER = ("thanks!", "ty", "lol", ":+1:", ":tada:", "nice", "brb", "haha yes", "👍", "same", "ok", "perfect, thanks")


@dataclass(frozen=True)
class Synthetic:
    members: list[Member]
    events: list[MessagePosted]
    threaded_channels: int
    flat_channels: int


def synthetic_workspace(messages: int, member_count: int, seed: int = 7) -> Synthetic:
    """A workspace of `member_count` people and `messages` messages over ~4 months in time order. Two thirds of the
    channels are Slack-style (answers in threads), the rest Discord-style (flat chat, "name: ..." and replies)."""
    rng = random.Random(seed)
    members = [
        Member(WORKSPACE, f"U{i:06d}", f"{rng.choice(FIRST).capitalize()} {rng.choice(LAST).capitalize()}")
        for i in range(member_count)
    ]
    activity = [1 / (rank + 1) ** 0.8 for rank in range(member_count)]  # a few people post most
    channel_count = max(4, member_count // 8)
    channels = []
    for c in range(channel_count):
        size = rng.randint(6, min(60, member_count))
        people = rng.choices(members, weights=activity, k=size)
        channels.append((f"C{c:04d}", c % 3 != 2, list({m.user_id: m for m in people}.values())))
    span = timedelta(days=120).total_seconds()
    drafts: list[tuple[datetime, dict[str, Any]]] = []
    counter = 0

    def post(at: datetime, author: Member, channel: str, text: str, **kw: Any) -> str:
        nonlocal counter
        counter += 1
        mid = f"{int(at.timestamp())}.{counter:06d}"
        drafts.append((at, {"channel": channel, "message_id": mid, "author": author.user_id, "text": text, **kw}))
        return mid

    def fill(template: str) -> str:
        return template.format(t=rng.choice(THINGS), x=rng.choice(("gen", "lint", "schema")))

    while len(drafts) < messages:
        channel, threaded, people = rng.choice(channels)
        at = START + timedelta(seconds=rng.uniform(0, span))
        asker = rng.choice(people)
        others = [m for m in people if m is not asker] or people
        kind = rng.random()
        if kind < 0.45:  # a question and its answers
            helper = rng.choice(others)
            text = fill(rng.choice(QUESTIONS))
            mentions: tuple[str, ...] = ()
            if rng.random() < 0.25:
                text, mentions = f"<@{helper.user_id}> {text}", (helper.user_id,)
            elif not threaded and rng.random() < 0.3:
                text = f"{helper.name.split()[0].lower()}: {text}"
            root = post(at, asker, channel, text, mentions=mentions)
            for n in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4))):
                at += timedelta(minutes=rng.expovariate(1 / 12))
                who = helper if n == 0 else rng.choice(others)
                answer = fill(rng.choice(ANSWERS))
                if threaded and rng.random() < 0.8:
                    post(at, who, channel, answer, thread_id=root)
                elif not threaded and rng.random() < 0.3:
                    post(at, who, channel, answer, reply_to=root)
                elif not threaded and rng.random() < 0.4:
                    post(at, who, channel, f"{asker.name.split()[0].lower()}: {answer}")
                else:
                    post(at, who, channel, answer)
                if rng.random() < 0.3:
                    at += timedelta(minutes=rng.expovariate(1 / 5))
                    follow_up = rng.choice((*CHATTER[:3], fill(rng.choice(QUESTIONS))))
                    post(at, asker, channel, follow_up, thread_id=root if threaded else None)
        elif kind < 0.6:  # an announcement and its reactions
            root = post(at, asker, channel, fill(rng.choice(STATEMENTS)))
            for _ in range(rng.randint(0, 5)):
                at += timedelta(minutes=rng.expovariate(1 / 6))
                post(at, rng.choice(others), channel, rng.choice(CHATTER), thread_id=root if threaded else None)
        else:  # chatter between a few people
            talkers = [asker, *rng.sample(others, k=min(2, len(others)))]
            for _ in range(rng.randint(1, 6)):
                who = rng.choice(talkers)
                text = fill(rng.choice(STATEMENTS + CHATTER))
                mentions = ()
                if rng.random() < 0.1:
                    other = rng.choice(talkers)
                    text, mentions = f"{text} cc <@{other.user_id}>", (other.user_id,)
                post(at, who, channel, text, mentions=mentions)
                at += timedelta(minutes=rng.expovariate(1 / 3))
    drafts.sort(key=lambda d: d[0])
    events = [MessagePosted(WORKSPACE, at=at, **fields) for at, fields in drafts[:messages]]
    slack_style = sum(1 for _, t, _ in channels if t)
    return Synthetic(members, events, slack_style, channel_count - slack_style)


class PeakRss:
    """Largest growth of resident memory while the block runs, sampled from /proc/self/statm."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = 0
        self.running = False

    def rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = self.rss()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


@dataclass(frozen=True)
class Run:
    backend: str
    path: str
    events: int
    seconds: float
    peak_mb: float
    rows: int
    linking_mb: float = 0.0  # the largest peak RSS among the processes the run started (linking a large import)

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class Databases:
    """Fresh, empty databases on demand: SQLite files in a temporary directory, PostgreSQL databases named
    rapport_bench* on the --postgres server (dropped first if a previous run left them)."""

    def __init__(self, postgres: str | None) -> None:
        self.postgres = postgres
        self.dir = tempfile.TemporaryDirectory(prefix="rapport-bench-")
        self.created: list[str] = []

    def fresh(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{Path(self.dir.name) / name}.db"
        assert self.postgres
        database = f"{BENCH_DATABASE}_{name}" if name != "ingest" else BENCH_DATABASE
        with psycopg.connect(self.postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return make_url(self.postgres).set(database=database).render_as_string(hide_password=False)

    def close(self) -> None:
        self.dir.cleanup()
        if self.postgres:
            with psycopg.connect(self.postgres, autocommit=True) as admin:
                for database in self.created:
                    if database != BENCH_DATABASE:  # keep the ingest database for a look afterwards
                        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def rows_of(url: str) -> dict[Any, list[dict[str, Any]]]:
    engine = await connect(url)
    async with engine.connect() as connection:
        rows = {
            table: [dict(r) for r in (await connection.execute(select(table.__table__))).mappings()]
            for table in TABLES
        }
    await engine.dispose()
    return rows


def per_message(rows: dict[Any, list[dict[str, Any]]]) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """Each message's rows (its message, its questions, its contacts), in message order."""
    owned: dict[str, list[tuple[Any, dict[str, Any]]]] = {r["message_id"]: [] for r in rows[MessageRow]}
    for table in TABLES:
        for row in rows[table]:
            owned[row["message_id"]].append((table, row))
    yield from owned.values()


async def measure(path: str, url: str, args: argparse.Namespace) -> tuple[float, float, int, float]:
    """One measured run, in this (fresh) process: (seconds, peak RSS growth in MB, rows in the database after, the
    largest peak RSS in MB of the processes it started: the linking processes of a large import, else 0)."""
    if path in ("history", "live"):
        workspace = synthetic_workspace(args.messages, args.members)
        store = await SqlStore.open(url)
        await store.members.upsert(workspace.members)
        names, directory = name_index(workspace.members), Directory(store)

        async def one_by_one() -> None:
            for event in workspace.events:
                await ingest(store, directory, [event])

        async def work() -> None:
            await (ingest_history(store, workspace.events, names) if path == "history" else one_by_one())
    else:
        rows = await rows_of(args.source)
        store = await SqlStore.open(url)  # the same migrations make the same empty tables

        async def work() -> None:
            async with AsyncSession(store.engine) as session:
                if path == "bulk":
                    async with session.begin():
                        for table, table_rows in rows.items():
                            if table_rows:
                                await session.execute(insert(table.__table__), table_rows)
                else:
                    for message_rows in per_message(rows):
                        async with session.begin():
                            for table, row in message_rows:
                                await session.execute(insert(table.__table__), [row])

    with PeakRss() as memory:
        started = time.perf_counter()
        await work()
        seconds = time.perf_counter() - started
    await store.close()
    written = sum(len(r) for r in (await rows_of(url)).values())
    return seconds, memory.growth_mb, written, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


PATHS = {
    "history": "ingest_history",
    "bulk": "bulk insert (baseline)",
    "live": "ingest, one message at a time",
    "single": "insert per message (baseline)",
}


def run_in_child(path: str, backend: str, url: str, args: argparse.Namespace, source: str = "") -> Run:
    """Measure in a fresh process, so that peak memory is this run's alone."""
    command = [sys.executable, __file__, "--child", path, "--url", url, "--source", source,
               "--messages", str(args.messages), "--members", str(args.members)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds, peak, rows, linking = json.loads(done.stdout.splitlines()[-1])
    return Run(backend, PATHS[path], args.messages, seconds, peak, rows, linking)


def report(title: str, pairs: list[tuple[Run, Run]]) -> Table:
    table = Table(title=title)
    for name, justify in (("backend", "left"), ("path", "left"), ("events", "right"), ("rows written", "right"),
                          ("seconds", "right"), ("events/s", "right"), ("peak RSS growth", "right"),
                          ("linking processes' peak RSS", "right"), ("vs baseline", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for ours, base in pairs:
        for run in (base, ours):
            ratio = "1.00x" if run is base else f"{ours.rate / base.rate:.2f}x"
            table.add_row(run.backend, run.path, f"{run.events:,}", f"{run.rows:,}", f"{run.seconds:.2f}",
                          f"{run.rate:,.0f}", f"{run.peak_mb:.0f} MB",
                          f"{run.linking_mb:.0f} MB each at most" if run.linking_mb else "-", ratio,
                          end_section=run is ours)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a server we may CREATE DATABASE on")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--live", action="store_true", help="the one-message-at-a-time path, 5,000 messages")
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.url, args))))
        return
    if args.live:
        args.messages = min(args.messages, 5_000)
    console = Console()
    workspace = synthetic_workspace(args.messages, args.members)
    questions = sum(1 for e in workspace.events if "?" in (e.text or ""))
    console.print(
        f"{len(workspace.events):,} messages by {len(workspace.members)} members in {workspace.threaded_channels} "
        f"threaded and {workspace.flat_channels} flat channels ({questions:,} with a question mark)")
    del workspace
    databases = Databases(None if args.no_postgres else args.postgres)
    ours_path, base_path = ("live", "single") if args.live else ("history", "bulk")
    pairs = []
    try:
        for backend in ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]:
            ingested = databases.fresh(backend, "ingest")
            ours = run_in_child(ours_path, backend, ingested, args)
            base = run_in_child(base_path, backend, databases.fresh(backend, "baseline"), args, source=ingested)
            pairs.append((ours, base))
    finally:
        databases.close()
    console.print(report("Live ingest, one message at a time" if args.live else "History ingest", pairs))


if __name__ == "__main__":
    main()
