"""Benchmark of seeing the graph (bot/insight/): `python benchmarks/insight.py [--members N] [--url URL]`.

The workspace of benchmarks/nudges.py (5,000 members by default, teams of 15, a year of questions and contacts
written with bulk inserts). Prints time and peak traced memory of the personal map (gathered and drawn to PNG)
for the member with the most ties, and of the insights (gathered, and the HTML report with its charts), each
beside its baseline from the same run: the SELECTs the same figures are read from, with nothing drawn.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from benchmarks.nudges import NOW, WS, populate
from bot.domain.ties import PairSummary
from bot.insight.drawing import own_map_png
from bot.insight.figures import insights
from bot.insight.insights import workspace_insights
from bot.insight.own_map import own_map
from bot.insight.report import report_html
from storage.store import SqlStore


async def measure_cpu(run: Callable[[], Awaitable[int]]) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak MiB traced, result) of one call, timed untraced first, then traced for memory.

    CPU seconds are the whole process's (SQLite's thread included): they tell the code's own cost apart from
    waiting for the other work on a shared machine."""
    started, cpu = time.perf_counter(), time.process_time()
    result = await run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
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
            return rows + len(await store.nudges.sent_times(WS, None, NOW.replace(year=NOW.year - 1)))

        async def report_before() -> int:
            # The figures as they were first gathered: every pair's full statistics (distinct contact days, last
            # contact, unanswered counts) as frozen dataclasses, then the same aggregation.
            full = await store.graph.pair_stats(WS, NOW)
            pairs = [PairSummary(s.a, s.b, s.answered_ab, s.answered_ba, s.first_contact) for s in full]
            return len(report_html(await insights(store, WS, NOW, pairs=pairs)))

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
        for what, seconds, cpu, peak, result in rows:
            table.add_row(what, f"{seconds:.2f}", f"{cpu:.2f}", f"{peak:.1f}", result)
        console.print(table)
        assert own_picture_warm
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
