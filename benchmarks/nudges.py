"""Benchmark of the nudge planner (bot/nudges/nudges.py): `python benchmarks/nudges.py [--members N] [--url URL]`.

A workspace of 10,000 members (teams of 15, time zones over several regions, a third with profiles) and a year
of activity written straight into the questions and contacts tables with bulk inserts: questions mostly within
teams, some across, most answered; contacts for every question and answer plus chat; a coffee round's meetups
in the last days. Prints the time and peak traced memory to plan one day's nudges beside two baselines measured
in the same run: the raw SELECTs of the candidate rows (workspace pair statistics and closed unanswered
questions, no rules applied), and a naive per-member loop (each member's own pair statistics, timed on a sample
and scaled up).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, insert

from bot.domain.coffee import Meeting
from bot.domain.profiles import Profile
from bot.events import Member
from bot.graph.conversation import QUESTION_WINDOW
from bot.nudges.nudges import LOOKBACK, plan
from storage.graph import day_of
from storage.models import ContactRow, NudgeRow, QuestionRow
from storage.store import SqlStore

WS = "T1"
NOW = datetime(2026, 3, 3, 0, 5, tzinfo=UTC)
ZONES = ["America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
         "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", None]
TEAM = 15
QUESTIONS_PER_MEMBER_WEEK = 0.6
CHAT_PER_MEMBER_WEEK = 1.0


@dataclass
class MeetingLog:
    meetings: list[Meeting]

    async def meetings_since(self, workspace: str, since: datetime) -> list[Meeting]:
        return [m for m in self.meetings if m.met_at >= since]


async def populate(store: SqlStore, n: int, rng: random.Random) -> dict[str, int]:
    users = [f"U{i:05d}" for i in range(n)]
    await store.members.upsert([Member(WS, u, u, ZONES[i % len(ZONES)]) for i, u in enumerate(users)])
    for i, u in enumerate(users[: n // 3]):
        await store.profiles.save(Profile(WS, u, behaviour="running, chess", looking_for="a mentor in SQL"
                                          if i % 5 == 0 else "", tz=ZONES[i % len(ZONES)], work_start=8, work_end=16))

    def partner(i: int) -> str:
        if rng.random() < 0.85:
            base = i - i % TEAM
            j = base + rng.randrange(TEAM)
            return users[min(j, n - 1)] if j != i else users[(i + 1) % n]
        return users[rng.randrange(n)]

    questions: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    start = NOW - timedelta(days=365)
    weeks = 52
    msg = 0
    for i, asker in enumerate(users):
        for _ in range(int(weeks * QUESTIONS_PER_MEMBER_WEEK)):
            other = partner(i)
            if other == asker:
                continue
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            msg += 1
            answered = at + timedelta(hours=rng.randint(1, 30)) if rng.random() < 0.8 else None
            if answered and answered > NOW:
                answered = None
            questions.append({"workspace": WS, "message_id": f"q{msg}", "addressee": other, "channel": "C1",
                              "thread_id": None, "asker": asker, "asked_at": at, "deadline": at + QUESTION_WINDOW,
                              "answered_at": answered, "answer_id": f"a{msg}" if answered else None})
            contacts.append({"workspace": WS, "message_id": f"q{msg}", "source": asker, "target": other, "at": at,
                             "day": day_of(at), "kind": "question"})
            if answered:
                contacts.append({"workspace": WS, "message_id": f"a{msg}", "source": other, "target": asker,
                                 "at": answered, "day": day_of(answered), "kind": "answer"})
        for _ in range(int(weeks * CHAT_PER_MEMBER_WEEK)):
            other = partner(i)
            if other == asker:
                continue
            at = start + timedelta(seconds=rng.randrange(365 * 86400))
            msg += 1
            contacts.append({"workspace": WS, "message_id": f"c{msg}", "source": asker, "target": other, "at": at,
                             "day": day_of(at), "kind": "chat"})
    async with store.sessions.begin() as session:
        for table, rows in ((QuestionRow, questions), (ContactRow, contacts)):
            for k in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[k:k + 5000])
    return {"members": n, "questions": len(questions), "contacts": len(contacts)}


def meetings(n: int, rng: random.Random) -> MeetingLog:
    users = [f"U{i:05d}" for i in range(n)]
    rng.shuffle(users)
    met = NOW - timedelta(days=1, hours=10)
    return MeetingLog([Meeting(WS, "C9", "2026-W10", (users[k], users[k + 1]), met)
                       for k in range(0, n - 1, 2)])


async def measure(run: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """(seconds, peak MiB traced) of one call: timed untraced first, then traced for memory."""
    started = time.perf_counter()
    result = await run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    await run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--url", default="", help="a database to fill (its tables are emptied); default SQLite")
    parser.add_argument("--sample", type=int, default=5, help="members timed in the naive per-member loop")
    args = parser.parse_args()
    rng = random.Random(7)
    console = Console(width=120)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/nudges.db"
        store = await SqlStore.open(url)
        if args.url:
            async with store.sessions.begin() as session:
                for table in (NudgeRow, ContactRow, QuestionRow):
                    await session.execute(delete(table))
        started = time.perf_counter()
        sizes = await populate(store, args.members, rng)
        store.coffee = meetings(args.members, rng)  # type: ignore[assignment]  # only meetings_since is read
        console.print(f"generated {sizes} in {time.perf_counter() - started:.1f}s on {url.split(':')[0]}")

        async def raw_select() -> int:
            stats = await store.graph.pair_stats(WS, NOW)
            closed = await store.nudges.unanswered(WS, NOW - LOOKBACK, NOW)
            return len(stats) + len(closed)

        sample = [f"U{i:05d}" for i in rng.sample(range(args.members), min(args.sample, args.members))]

        async def naive_loop() -> int:
            found = 0
            for user in sample:
                found += len(await store.graph.pair_stats(WS, NOW, user=user))
            return found

        async def plan_day() -> int:
            async with store.sessions.begin() as session:
                await session.execute(delete(NudgeRow))
            return await plan(store, WS, NOW)

        rows: list[tuple[str, float, float | None, str]] = []
        t, m, found = await measure(raw_select)
        rows.append(("baseline: raw SELECT of candidate rows (no rules)", t, m, f"{found:,} rows"))
        started = time.perf_counter()
        found = await naive_loop()  # timed only: tracing it too would double the slowest part of the run
        scale = args.members / len(sample)
        rows.append((f"baseline: naive per-member loop ({len(sample)} timed, x{scale:.0f})",
                     (time.perf_counter() - started) * scale, None, f"{found:,} pair rows in sample"))
        t, m, planned = await measure(plan_day)
        rows.append(("plan a day's nudges (bot.nudges.nudges.plan)", t, m, f"{planned:,} nudges planned"))
        started = time.perf_counter()
        again = await plan(store, WS, NOW)
        rows.append(("plan again the same day (all deduplicated)", time.perf_counter() - started, None,
                     f"{again:,} new"))
        started = time.perf_counter()
        due = await store.nudges.due(NOW + timedelta(days=1), 2000)
        rows.append(("delivery: list due nudges (one tick)", time.perf_counter() - started, None,
                     f"{len(due):,} due"))
        report = Table(title=f"Nudge planning: {args.members:,} members, a year of activity")
        for column in ("what", "seconds", "peak MiB", "result"):
            report.add_column(column, justify="left" if column in ("what", "result") else "right")
        for what, seconds, peak, result in rows:
            report.add_row(what, f"{seconds:.2f}", "-" if peak is None else f"{peak:.0f}", result)
        console.print(report)
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
