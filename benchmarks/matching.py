"""Benchmark the interest matchers on benchmarks/data/interest_pairs.csv.

Run: python benchmarks/matching.py

Prints precision and recall of "related" at each matcher's threshold, on the tuning pairs (also 5-fold cross-validated:
threshold chosen for precision on four fifths, counted on the fifth) and on held-out pairs written before the rules
were tuned (benchmarks/data/interest_pairs_heldout.csv) and on fresh held-out pairs written later by someone who
never saw the matcher (benchmarks/data/interest_pairs_fresh.csv), for the embedding matcher, baselines and the
lexical fallback, plus load time, time to embed 1,000 phrases and peak RSS.

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
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.interests.similarity import EmbeddingMatcher, LexicalMatcher, Matcher  # noqa: E402

PAIRS = ROOT / "benchmarks" / "data" / "interest_pairs.csv"
#: Written before the matcher's rules were tuned and never looked at while tuning: the honest estimate.
HELD_OUT = ROOT / "benchmarks" / "data" / "interest_pairs_heldout.csv"
#: Written later by someone who had not seen the matcher, its rules or the other pairs, and read once, after the
#: three-frame matcher was chosen: the earlier held-out set had been read three times by then.
FRESH = ROOT / "benchmarks" / "data" / "interest_pairs_fresh.csv"
MIN_PRECISION = 0.96  # the aim is 0.95; choosing at 0.96 leaves a margin


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


def precision_recall(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    said = scores >= threshold
    hits = int((said & (labels == 1)).sum())
    return hits / max(int(said.sum()), 1), hits / max(int((labels == 1).sum()), 1)


def precision_threshold(scores: np.ndarray, labels: np.ndarray, min_precision: float = MIN_PRECISION) -> float:
    """The threshold with the best recall whose precision is at least ``min_precision`` (how the embedding
    matcher's threshold was set), on a 0.01 grid."""
    best = (-1.0, 1.0)
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        precision, recall = precision_recall(scores, labels, t)
        if precision >= min_precision and recall > best[0]:
            best = (recall, float(t))
    return best[1]


def cv_precision_recall(scores: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Threshold chosen for precision on 4/5 of the pairs, "related" counted on the held-out fifth, pooled."""
    order = np.random.default_rng(seed).permutation(len(scores))
    said = np.zeros(len(scores), dtype=bool)
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        said[fold] = scores[fold] >= precision_threshold(scores[train], labels[train])
    hits = int((said & (labels == 1)).sum())
    return hits / max(int(said.sum()), 1), hits / int((labels == 1).sum())


def pair_scores(matcher: Matcher, pairs: list[Pair], levels: bool = True) -> np.ndarray:
    return np.array([matcher.judge(p.a, p.b, *((p.level_a, p.level_b) if levels else ())).score for p in pairs],
                    dtype=np.float64)


def phrases_for_timing(pairs: list[Pair], n: int = 1000) -> list[str]:
    """n distinct phrases (benchmark phrases with numbered variants) so the cache cannot help."""
    base = sorted({p.a for p in pairs} | {p.b for p in pairs})
    return [f"{base[i % len(base)]} {i // len(base)}" for i in range(n)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    tuning, held_out, fresh = load_pairs(PAIRS), load_pairs(HELD_OUT), load_pairs(FRESH)
    rss_start = peak_rss_mb()

    # (label, matcher, judged with levels?, load seconds)
    rows: list[tuple[str, Matcher, bool, float]] = []
    start = time.perf_counter()
    embedding = EmbeddingMatcher()
    rows.append(("embedding: phrase in three frames + levels + whole phrase + precision threshold (default)",
                 embedding, True, time.perf_counter() - start))
    rows.append(("the same without levels", embedding, False, float("nan")))
    rows.append(("one frame, 'interested in' (the default before)",
                 EmbeddingMatcher(frames=("interested in {}",), specialisation_weight=0.5, threshold=0.57), True,
                 float("nan")))
    # The rows below read the bare phrase, as the matcher did before any frame (PHRASE_FRAMES).
    bare = EmbeddingMatcher(frames=("{}",), threshold=0.41)
    rows.append(("bare phrase: levels + whole phrase + precision threshold (the default before the frame)", bare,
                 True, float("nan")))
    rows.append(("baseline: before (bare phrase, shared-word 0.7, no specialisation, threshold 0.32)",
                 EmbeddingMatcher(shared_word_weight=0.7, specialisation_weight=0.0, threshold=0.32, frames=("{}",)),
                 False, float("nan")))
    rows.append(("baseline: plain cosine of the bare phrase at 0.25",
                 EmbeddingMatcher(shared_word_weight=0.0, threshold=0.25, frames=("{}",)), False, float("nan")))
    start = time.perf_counter()
    rows.append(("lexical fallback", LexicalMatcher(), True, time.perf_counter() - start))

    timing_phrases = phrases_for_timing(tuning)
    results: list[dict[str, Any]] = []
    for label, matcher, levels, load_s in rows:
        r: dict[str, Any] = {"matcher": label, "threshold": matcher.threshold, "load_s": load_s}
        for name, pairs in (("tune", tuning), ("held", held_out), ("fresh", fresh)):
            scores, labels = pair_scores(matcher, pairs, levels), np.array([p.related for p in pairs])
            r[f"{name}_p"], r[f"{name}_r"] = precision_recall(scores, labels, matcher.threshold)
            r[f"{name}_auc"] = roc_auc(scores, labels)
            hard = np.array([p.kind == "hard_negative" for p in pairs])
            r[f"{name}_hard"] = float((scores[hard] < matcher.threshold).mean())
            if name == "tune":
                r["best_t"] = precision_threshold(scores, labels)
                r["cv_p"], r["cv_r"] = cv_precision_recall(scores, labels)
        start = time.perf_counter()
        matcher.embed(timing_phrases)
        # A matcher timed already has the phrases cached: no figure rather than a false one.
        r["embed_1000_s"] = float("nan") if any(m is matcher for _, m, _, _ in rows[:len(results)]) \
            else time.perf_counter() - start
        results.append(r)

    rss = peak_rss_mb()

    def count(pairs: list[Pair]) -> str:
        pos = sum(p.related for p in pairs)
        hard = sum(p.kind == "hard_negative" for p in pairs)
        return f"{len(pairs)} pairs: {pos} related, {len(pairs) - pos} not, {hard} of them same-word-different-sense"

    print(f"Interest matching. Tuning set {PAIRS.name} ({count(tuning)}).")
    print(f"Held-out set {HELD_OUT.name} ({count(held_out)}): written before the rules were tuned, never tuned on.")
    print(f"Fresh held-out set {FRESH.name} ({count(fresh)}): written by someone who never saw the matcher.")
    print("'related' is counted at each matcher's threshold; the aim is precision >= 0.95 with recall >= 0.80.\n")
    print("| matcher | threshold | tuning: precision / recall | tuning, 5-fold CV: precision / recall "
          "| held-out: precision / recall | held-out ROC AUC | held-out hard negatives kept apart "
          "| fresh: precision / recall | fresh ROC AUC | fresh hard negatives kept apart "
          "| load | embed 1,000 phrases |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        load = "-" if np.isnan(r["load_s"]) else f"{r['load_s']:.2f} s"
        embed = "-" if np.isnan(r["embed_1000_s"]) else f"{r['embed_1000_s']:.2f} s"
        print(f"| {r['matcher']} | {r['threshold']:.2f} | {r['tune_p']:.2f} / {r['tune_r']:.2f} "
              f"| {r['cv_p']:.2f} / {r['cv_r']:.2f} | {r['held_p']:.2f} / {r['held_r']:.2f} | {r['held_auc']:.2f} "
              f"| {r['held_hard']:.0%} | {r['fresh_p']:.2f} / {r['fresh_r']:.2f} | {r['fresh_auc']:.2f} "
              f"| {r['fresh_hard']:.0%} | {load} | {embed} |")
    print(f"\nbest-recall threshold at precision >= {MIN_PRECISION} on the tuning set, per matcher: "
          + ", ".join(f"{r['best_t']:.2f}" for r in results))
    print(f"peak RSS: {rss:.0f} MB (at start {rss_start:.0f} MB)")


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
    from bot.domain.profiles import Profile
    from bot.events import CommandInvoked, Member
    from bot.interests.similarity import load_matcher
    from bot.interests.vectors import MatcherSource, phrase_vectors
    from bot.profiles.profiles import apply_form
    from storage.models import ProfileVectorsRow
    from storage.store import SqlStore
    from tests.fakes import FakeClock, FakeOutbound

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    matcher = load_matcher()
    load_s = time.perf_counter() - start
    rss_model = peak_rss_mb()

    with tempfile.TemporaryDirectory() as tmp:
        store = await SqlStore.open(database_url or f"sqlite+aiosqlite:///{tmp}/bench.db")
        core = Rapport(store, FakeClock(), FakeOutbound(), matchers=MatcherSource(lambda: matcher))
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
                await session.execute(delete(ProfileVectorsRow).where(
                    ProfileVectorsRow.workspace == BENCH_WS, ProfileVectorsRow.user_id.in_(pairs[i])))
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
