"""Benchmark the interest matchers on benchmarks/data/interest_pairs.csv.

Run: python benchmarks/matching.py

Prints ROC AUC and accuracy (at the module's threshold, at the best threshold for this data, and 5-fold
cross-validated) for the embedding matcher and the lexical fallback, plus load time, time to embed 1,000
phrases and peak RSS.

Then, in a fresh process (so its memory figures are its own), times `/rapport starters @someone` and
`/rapport match` through the core on a SQLite workspace of 5,000 synthetic profiles built from the benchmark's
phrases: warm (vectors stored, in-process cache warm), a cold process (vectors stored, in-process cache empty) and
the baseline of no embedding cache (both profiles re-embedded on every request). Options: --only accuracy|starters,
--profiles N, --requests N, --database-url URL.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.similarity import EmbeddingMatcher, LexicalMatcher, Matcher  # noqa: E402

PAIRS = ROOT / "benchmarks" / "data" / "interest_pairs.csv"


@dataclass
class Pair:
    a: str
    b: str
    level_a: str
    level_b: str
    related: int
    kind: str


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            Pair(r["a"], r["b"], r["level_a"], r["level_b"], int(r["related"]), r.get("kind", ""))
            for r in csv.DictReader(fh)
        ]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random related pair outscores a random unrelated one (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def accuracy(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    return float(((scores >= threshold).astype(int) == labels).mean())


def choose_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Midpoint of the range of thresholds with the best accuracy (how the module's thresholds were set)."""
    s = np.unique(scores)
    candidates = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    accs = np.array([accuracy(scores, labels, t) for t in candidates])
    best = candidates[accs == accs.max()]
    return float((best.min() + best.max()) / 2)


def cv_accuracy(scores: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Threshold chosen on 4/5 of the pairs, accuracy measured on the held-out fifth, averaged."""
    order = np.random.default_rng(seed).permutation(len(scores))
    correct = 0
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        t = choose_threshold(scores[train], labels[train])
        correct += int(((scores[fold] >= t).astype(int) == labels[fold]).sum())
    return correct / len(scores)


def pair_scores(matcher: Matcher, pairs: list[Pair]) -> np.ndarray:
    return np.array([matcher.judge(p.a, p.b).score for p in pairs], dtype=np.float64)


def phrases_for_timing(pairs: list[Pair], n: int = 1000) -> list[str]:
    """n distinct phrases (benchmark phrases with numbered variants) so the cache cannot help."""
    base = sorted({p.a for p in pairs} | {p.b for p in pairs})
    return [f"{base[i % len(base)]} {i // len(base)}" for i in range(n)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    pairs = load_pairs()
    labels = np.array([p.related for p in pairs])
    rss_start = peak_rss_mb()

    rows: list[tuple[str, Matcher, float]] = []
    start = time.perf_counter()
    embedding = EmbeddingMatcher()
    rows.append(("embedding (MiniLM int8 + shared-word correction)", embedding, time.perf_counter() - start))
    rows.append(("embedding, plain cosine", EmbeddingMatcher(shared_word_weight=0.0, threshold=0.25), float("nan")))
    start = time.perf_counter()
    lexical = LexicalMatcher()
    rows.append(("lexical fallback", lexical, time.perf_counter() - start))

    timing_phrases = phrases_for_timing(pairs)
    results = []
    for label, matcher, load_s in rows:
        scores = pair_scores(matcher, pairs)
        by_kind = {
            kind: accuracy(scores[mask], labels[mask], matcher.threshold)
            for kind in ("same_level", "cross_level", "hard_negative", "unrelated")
            if (mask := np.array([p.kind == kind for p in pairs])).any()
        }
        start = time.perf_counter()
        matcher.embed(timing_phrases)
        embed_s = time.perf_counter() - start
        results.append(
            {
                "matcher": label,
                "auc": roc_auc(scores, labels),
                "threshold": matcher.threshold,
                "acc": accuracy(scores, labels, matcher.threshold),
                "best_t": choose_threshold(scores, labels),
                "cv_acc": cv_accuracy(scores, labels),
                "load_s": load_s,
                "embed_1000_s": embed_s,
                **{f"acc_{k}": v for k, v in by_kind.items()},
            }
        )

    rss = peak_rss_mb()
    n_pos = int(labels.sum())
    title = f"Interest matching, {len(pairs)} labelled pairs ({n_pos} related, {len(pairs) - n_pos} not)"
    columns = [
        ("matcher", "{}"),
        ("auc", "{:.3f}"),
        ("threshold", "{:.2f}"),
        ("acc", "{:.3f}"),
        ("best_t", "{:.3f}"),
        ("cv_acc", "{:.3f}"),
        ("acc_same_level", "{:.2f}"),
        ("acc_cross_level", "{:.2f}"),
        ("acc_hard_negative", "{:.2f}"),
        ("acc_unrelated", "{:.2f}"),
        ("load_s", "{:.2f}"),
        ("embed_1000_s", "{:.2f}"),
    ]
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for name, _ in columns:
            table.add_column(name, justify="left" if name == "matcher" else "right")
        for r in results:
            table.add_row(*(fmt.format(r[name]) for name, fmt in columns))
        Console(width=200).print(table)
    except ImportError:
        print(title)
        for r in results:
            print("  ".join(f"{name}={fmt.format(r[name])}" for name, fmt in columns))
    print(f"peak RSS: {rss:.0f} MB (at start {rss_start:.0f} MB)")
    print(
        "acc = accuracy at the matcher's documented threshold; best_t = accuracy-maximising threshold on this data;"
        "\ncv_acc = 5-fold cross-validated accuracy (threshold picked on the other folds); acc_<kind> = accuracy"
        " per kind of pair."
    )
    print("\nFor the README:\n")
    print("| matcher | ROC AUC | accuracy @ threshold | 5-fold CV accuracy | load | embed 1,000 phrases |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        load = "-" if np.isnan(r["load_s"]) else f"{r['load_s']:.2f} s"
        print(
            f"| {r['matcher']} | {r['auc']:.3f} | {r['acc']:.3f} @ {r['threshold']:.2f} | {r['cv_acc']:.3f} "
            f"| {load} | {r['embed_1000_s']:.2f} s |"
        )
    print(f"\nPeak RSS of the whole run (both matchers loaded): {rss:.0f} MB.")



# --- /rapport starters on a large workspace -----------------------------------------------------------------

BENCH_WS = "BENCH"


def synthetic_profiles(n: int, seed: int = 7) -> list[dict[str, str]]:
    """Profile form values built from the labelled phrases, each phrase at its own level of rapport."""
    by_level: dict[str, set[str]] = {}
    for p in load_pairs():
        by_level.setdefault(p.level_a, set()).add(p.a)
        by_level.setdefault(p.level_b, set()).add(p.b)
    pools = {level: sorted(phrases) for level, phrases in by_level.items()}
    topics = pools["capability"] + pools["behaviour"]
    wishes = ("a mentor in {}", "to learn {} with others", "to mentor in {}", "to be known for {}")
    how_many = {"behaviour": (2, 4), "capability": (1, 3), "environment": (0, 1), "beliefs": (0, 1),
                "identity": (0, 2), "spirit": (0, 1)}
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        values = {level: ", ".join(rng.sample(pools[level], rng.randint(*how_many[level])))
                  for level in how_many if level in pools}
        if rng.random() < 0.5:
            values["looking_for"] = rng.choice(wishes).format(rng.choice(topics))
        out.append(values)
    return out


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(requests: int, make: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for i in range(requests):
        start = time.perf_counter()
        await make(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def starters_benchmark(n_profiles: int, requests: int, database_url: str | None) -> None:
    from sqlalchemy import delete

    from bot.app import Rapport
    from bot.events import CommandInvoked, Member
    from bot.profiles import Profile, apply_form, matchers, phrase_vectors
    from bot.similarity import load_matcher
    from storage.models import ProfilePhraseRow
    from storage.store import SqlStore
    from tests.fakes import FakeClock, FakeOutbound

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    matcher = load_matcher()
    load_s = time.perf_counter() - start
    rss_model = peak_rss_mb()
    matchers.use(matcher)

    with tempfile.TemporaryDirectory() as tmp:
        store = await SqlStore.open(database_url or f"sqlite+aiosqlite:///{tmp}/bench.db")
        core = Rapport(store, FakeClock(), FakeOutbound())
        users = [f"U{i:05d}" for i in range(n_profiles)]
        start = time.perf_counter()
        await store.members.upsert([Member(BENCH_WS, u, u) for u in users])
        profiles = []
        for user, values in zip(users, synthetic_profiles(n_profiles), strict=True):
            page = tuple(values)
            profile = apply_form(Profile(BENCH_WS, user), values, page).profile
            await store.profiles.save(profile)
            profiles.append(profile)
        for chunk in range(0, len(profiles), 500):
            await phrase_vectors(store, matcher, profiles[chunk:chunk + 500])
        build_s = time.perf_counter() - start
        phrases = sum(len(p.phrases()) for p in profiles)

        rng = random.Random(1)
        pairs = [tuple(rng.sample(users, 2)) for _ in range(requests)]

        def starters(i: int) -> Awaitable[object]:
            a, b = pairs[i]
            return core.on_command(CommandInvoked(BENCH_WS, "C1", a, f"starters <@{b}>"))

        async def cold_process(i: int) -> object:
            matcher.cache_clear()  # type: ignore[attr-defined]
            return await starters(i)

        async def no_cache(i: int) -> object:
            matcher.cache_clear()  # type: ignore[attr-defined]
            async with store.sessions.begin() as session:
                await session.execute(delete(ProfilePhraseRow).where(
                    ProfilePhraseRow.workspace == BENCH_WS, ProfilePhraseRow.user_id.in_(pairs[i])))
            return await starters(i)

        def match(i: int) -> Awaitable[object]:
            return core.on_command(CommandInvoked(BENCH_WS, "C1", pairs[i][0], "match"))

        await _timed(min(20, requests), starters)  # warm up
        rows = [
            ("/rapport starters, warm (stored vectors, warm in-process cache)", await _timed(requests, starters)),
            ("/rapport starters, cold process (stored vectors, empty in-process cache)",
             await _timed(requests, cold_process)),
            ("baseline: no embedding cache (both profiles re-embedded per request)",
             await _timed(requests, no_cache)),
        ]
        await _timed(min(20, requests), starters)
        rows.append(("/rapport match, warm", await _timed(max(5, requests // 10), match)))
        await store.close()

    title = (f"/rapport starters on {n_profiles:,} profiles ({phrases:,} phrases), matcher {matcher.name}, "
             f"{'PostgreSQL' if database_url else 'SQLite'}")
    print(f"\n{title}")
    print(f"{'request':<76} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for label, samples in rows:
        print(f"{label:<76} {len(samples):>5} {statistics.median(samples):>10.1f} "
              f"{_percentile(samples, 0.95):>8.1f} {max(samples):>8.1f}")
    print(f"workspace built (profiles saved, {phrases:,} phrases embedded and stored) in {build_s:.1f} s")
    print(f"model load {load_s:.2f} s; peak RSS: {rss_before:.0f} MB before the model, {rss_model:.0f} MB with it "
          f"loaded, {peak_rss_mb():.0f} MB at the end of the run")


def run_starters_in_fresh_process(args: argparse.Namespace) -> None:
    command = [sys.executable, __file__, "--only", "starters", "--profiles", str(args.profiles),
               "--requests", str(args.requests)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    subprocess.run(command, check=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("accuracy", "starters"))
    parser.add_argument("--profiles", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="run the starters benchmark on this database (its tables are "
                        "written to) instead of a temporary SQLite file")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.only == "starters":
        asyncio.run(starters_benchmark(arguments.profiles, arguments.requests, arguments.database_url))
    else:
        main()
        if arguments.only is None:
            run_starters_in_fresh_process(arguments)
