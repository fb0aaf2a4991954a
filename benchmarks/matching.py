"""Benchmark the interest matchers on benchmarks/data/interest_pairs.csv.

Run: python benchmarks/matching.py

Prints ROC AUC and accuracy (at the module's threshold, at the best threshold for this data, and 5-fold
cross-validated) for the embedding matcher and the lexical fallback, plus load time, time to embed 1,000
phrases and peak RSS.
"""

from __future__ import annotations

import csv
import resource
import sys
import time
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


if __name__ == "__main__":
    main()
