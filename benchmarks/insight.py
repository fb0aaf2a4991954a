"""Benchmark of seeing the graph (bot/insight/): `python benchmarks/insight.py [--members N] [--url URL]`.

The workspace of benchmarks/nudges.py (5,000 members by default, teams of 15, a year of questions and contacts
written with bulk inserts), with everyone in coffee in 12 departments and 4 nudges each over six months. Prints
time, CPU time and peak traced memory of the personal map (gathered and drawn to PNG) for the member with the
most ties, and of the insights (gathered, and the HTML report with its charts and team table), each beside its
baseline from the same run (the SELECTs the same figures are read from, nothing drawn) and the previous path.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text

from benchmarks.nudges import NOW, TEAM, WS, populate
from bot.domain.coffee import ChannelSettings
from bot.domain.nudges import DONE, SENT
from bot.domain.ties import PairSummary
from bot.insight.drawing import own_map_png
from bot.insight.figures import insights
from bot.insight.insights import workspace_insights
from bot.insight.own_map import own_map
from bot.insight.report import report_html
from bot.insight.teams import team_ties
from storage.models import CoffeeMemberRow, NudgeRow
from storage.store import SqlStore


async def teams_and_nudges(store: SqlStore, n: int, rng: random.Random) -> dict[str, int]:
    """Coffee in one channel with everyone in 12 teams (the benchmark's teams of 15 grouped into departments),
    and 4 nudges per member over the last six months, a third marked done, each about a teammate."""
    users = [f"U{i:05d}" for i in range(n)]
    await store.coffee.save_channel(ChannelSettings(WS, "C9", "weekly", 0, 10, 0, "UTC", date(2025, 1, 6)))
    members = [{"workspace": WS, "channel": "C9", "user_id": u, "joined_at": NOW - timedelta(days=300),
                "team": f"Department {(i // TEAM) % 12 + 1}", "paused": False, "paused_until": None,
                "pause_reason": "", "skip_at": None, "missed": 0} for i, u in enumerate(users)]
    nudges = []
    for i, u in enumerate(users):
        for k in range(4):
            at = NOW - timedelta(days=rng.uniform(0, 180))
            other = users[min(i - i % TEAM + rng.randrange(TEAM), n - 1)]
            nudges.append({"workspace": WS, "recipient": u, "kind": "cooling", "subject": other, "ref": f"r{k}",
                           "dedup": f"cooling:{other}:r{k}", "channel": None, "value": 1, "created_at": at,
                           "due_at": at, "deliver_at": at, "status": DONE if rng.random() < 0.33 else SENT,
                           "sent_at": at, "attempt": 0})
    async with store.sessions.begin() as session:
        for table, rows in ((CoffeeMemberRow, members), (NudgeRow, nudges)):
            for k in range(0, len(rows), 2000):
                await session.execute(insert(table), rows[k:k + 2000])
    return {"teams": 12, "nudges": len(nudges)}


async def measure_cpu(run: Callable[[], Awaitable[int]], repeat: int = 3) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak MiB traced, result) of one call: the best of `repeat` untraced runs, then one
    traced for memory.

    CPU seconds are the whole process's (SQLite's thread included): on a shared machine they tell the code's own
    cost apart from waiting for the other work, and the best of three keeps one unlucky moment out."""
    seconds = cpu = float("inf")
    result = 0
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        result = await run()
        seconds, cpu = min(seconds, time.perf_counter() - started), min(cpu, time.process_time() - used)
    tracemalloc.start()
    await run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, cpu, peak, result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--url", default="", help="an empty database to fill; default a temporary SQLite file")
    args = parser.parse_args()
    console = Console(width=120)
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqlStore.open(args.url or f"sqlite+aiosqlite:///{tmp}/insight.db")
        started = time.perf_counter()
        sizes = await populate(store, args.members, random.Random(7))
        sizes |= await teams_and_nudges(store, args.members, random.Random(8))
        console.print(f"generated {sizes} in {time.perf_counter() - started:.1f}s")
        degree: Counter[str] = Counter()
        for stats in await store.graph.pair_stats(WS, NOW):
            degree.update((stats.a, stats.b))
        busiest, ties = degree.most_common(1)[0]

        async def own_rows() -> int:
            return len(await store.graph.pair_stats(WS, NOW, user=busiest)) + len(await store.members.list(WS))

        async def own_rows_before() -> int:
            # The per-member query as it was: `asker = u OR addressee = u`, which SQLite answers by scanning
            # the workspace's rows rather than by two index searches.
            async with store.sessions() as session:
                rows = await session.execute(text(
                    "SELECT source, target, count(DISTINCT day), min(at), max(at) FROM contacts "
                    "WHERE workspace = :ws AND (source = :u OR target = :u) GROUP BY source, target"),
                    {"ws": WS, "u": busiest})
                found = len(rows.all())
                rows = await session.execute(text(
                    "SELECT asker, addressee, count(*) FROM questions WHERE workspace = :ws AND addressee != '' "
                    "AND (asker = :u OR addressee = :u) GROUP BY asker, addressee"), {"ws": WS, "u": busiest})
                found += len(rows.all())
            return found + len(await store.members.list(WS))

        async def own_picture() -> int:
            return len(own_map_png(await own_map(store, WS, busiest, NOW)))

        async def figure_rows() -> int:
            rows = len(await store.graph.pair_summaries(WS)) + len(await store.members.list(WS))
            return rows + len(await store.nudges.sent_since(WS, NOW.replace(year=NOW.year - 1)))

        async def report_before() -> int:
            # The figures as they were first gathered: every pair's full statistics (distinct contact days, last
            # contact, unanswered counts) as frozen dataclasses, then the same aggregation.
            full = await store.graph.pair_stats(WS, NOW)
            pairs = [PairSummary(s.a, s.b, s.answered_ab, s.answered_ba, s.first_contact) for s in full]
            figures = await insights(store, WS, NOW, pairs=pairs)
            return len(report_html(figures, await team_ties(store, WS, NOW, pairs)))

        async def report() -> int:
            return len(report_html(*await workspace_insights(store, WS, NOW)))

        own_picture_warm = await own_picture()  # matplotlib's first import and font cache are not the map's cost
        rows = []
        for what, run, unit in (
            (f"baseline: SELECT one member's pairs ({ties} ties) and the names", own_rows, "rows"),
            ("before: the same SELECTs by `asker = u OR addressee = u`", own_rows_before, "rows"),
            ("personal map: gather and draw the PNG", own_picture, "bytes"),
            ("baseline: SELECT the workspace's pair summaries, members, nudges", figure_rows, "rows"),
            ("before: insights from every pair's full statistics", report_before, "bytes"),
            ("insights: gather and write the HTML report", report, "bytes"),
        ):
            seconds, cpu, peak, result = await measure_cpu(run)
            rows.append((what, seconds, cpu, peak, f"{result:,} {unit}"))
        table = Table(title=f"Seeing the graph: {args.members:,} members, a year of activity")
        for column in ("what", "seconds", "CPU seconds", "peak MiB", "result"):
            table.add_column(column, justify="left" if column in ("what", "result") else "right")
        for what, seconds, cpu, peak, found in rows:
            table.add_row(what, f"{seconds:.2f}", f"{cpu:.2f}", f"{peak:.1f}", found)
        console.print(table)
        assert own_picture_warm
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
