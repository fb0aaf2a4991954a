"""Train the flat-chat reply ranker (bot/graph/reply_model.py) on public annotated chat and write it into the package.

    python -m training.reply_model IRC_DATA MOLWENI_DEV_JSON [--out bot/data] [--folds DIR]

IRC_DATA is the `data` folder of jkkummerfeld/irc-disentanglement (its train/ and dev/ are read; nothing else);
MOLWENI_DEV_JSON is HIT-SCIR/Molweni's DP/dev.json (its train file is not available, its test is held out).

IRC is one long busy channel; Molweni short conversations cut out of it. Molweni's train file is not available, so
its 500 dev dialogues are used two-fold: a fold model is fitted on IRC train/ and one half of them (each of its rows
counting --molweni-weight times), its threshold chosen on IRC dev/ and the other half, and measured there. The
shipped model is fitted on IRC train/ and all 500 dialogues (each row counting half as much, so that Molweni weighs
the same in all), at the mean of the folds' thresholds; the folds' figures on the halves they did not fit are its
Molweni figures (benchmarks/real_chat.py --folds reads them through the whole graph). The similarity features read
the package's word vectors (training/word_vectors.py: make them first), named with their sha256 in the card. It is
not told how long a window is: told, it learned that in a short window everything is a reply, which in a quiet
team channel turns unrelated neighbours into contacts. A threshold is chosen for what Rapport makes of the links:
IRC contact pairs (two people joined by a link, or by a leading @mention) must keep precision at least 0.90, the
aim of issue 12 (a contact that did not happen misleads coffee pairing and nudges more than a missed one); among
those thresholds, the one with the best sum of IRC contact-pair F and Molweni link F. Each model is two: a
lambdarank ranker that picks each message's best candidate (reply_model_rank.onnx) and a binary classifier that
judges the pick (reply_model.onnx; the threshold is on its probability). Prints the dev figures and writes
reply_model.onnx, reply_model_rank.onnx, their textless *_notext* twins and reply_model.json (data, licences,
command, figures, the folds') to --out, and with --folds the fold models to DIR/even and DIR/odd (named for the
half they fitted). Needs the training extra: pip install -e ".[train]".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib.resources import files
from pathlib import Path

import numpy as np

from bot.graph.conversation import reading
from bot.graph.reply_model import CANDIDATES, FEATURES, HORIZON, VECTORS_FILE, Said, Table, choose, read_vectors, table
from bot.intake.ingest import name_index
from training.corpora import Channel, irc_files, molweni_half, read_irc, read_molweni

PARAMS = {
    "objective": "binary", "learning_rate": 0.15, "num_leaves": 31, "min_data_in_leaf": 40,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "verbose": -1, "num_threads": 2,
    "seed": 7,
}
# The ranker: the same trees, fitted to put each message's parent first among its candidates (lambdarank, grouped by
# message); the classifier above then judges only each message's best candidate.
RANK_PARAMS = {**PARAMS, "objective": "lambdarank", "lambdarank_truncation_level": 10}
ROUNDS = 120  # scoring time grows with the trees
PAIR_PRECISION = 0.90
# A fold's Molweni half is 1% of its rows: counted once, the ranker barely learns how a small channel with one
# conversation at a time replies (Molweni odd-half links F 0.772); counted 3 times, 0.812 over five seeds, with IRC
# dev links and pairs unchanged (README: "Molweni weighed three times"). At 6 or 10, IRC links fall by 0.01.
MOLWENI_WEIGHT = 3.0


@dataclass
class Rows:
    """Candidate rows of a set of channels (bot.graph.reply_model.Table) with their labels, and the messages they ask
    about: `asked[i]` is message i with its candidates, `messages[i]` its (channel name, message id)."""

    table: Table
    y: np.ndarray
    messages: list[tuple[str, str]]
    asked: list[tuple[Said, list[Said]]]
    weight: np.ndarray | None = None  # how much each row counts in fitting; None: all alike

    @property
    def x(self) -> np.ndarray:
        return self.table.x


def saids(channel: Channel, with_text: bool) -> list[Said]:
    names = name_index(channel.members)
    return [reading(e if with_text else replace(e, text=None), names).said for e in channel.events]


def candidates_of(said: Sequence[Said], i: int) -> list[Said]:
    now = said[i].at
    return [c for c in said[max(0, i - CANDIDATES):i] if now - c.at <= HORIZON]


def rows_of(channels: Sequence[Channel], with_text: bool) -> Rows:
    messages: list[tuple[str, str]] = []
    asked: list[tuple[Said, list[Said]]] = []
    parents: list[set[str]] = []
    for channel in channels:
        said = saids(channel, with_text)
        parent_of: dict[str, set[str]] = {}
        for child, parent in channel.links:
            parent_of.setdefault(child, set()).add(parent)
        for i, s in enumerate(said):
            if s.message_id in channel.annotated:
                messages.append((channel.name, s.message_id))
                asked.append((s, candidates_of(said, i)))
                parents.append(parent_of.get(s.message_id, set()))
    rows = table(asked)
    labels = [asked[m][1][k].message_id in parents[m] for m, k in zip(rows.message, rows.candidate, strict=True)]
    return Rows(rows, np.array(labels, dtype=np.int8), messages, asked)


def joined(a: Rows, b: Rows, b_weight: float = 1.0) -> Rows:
    """The rows of both, each of b's counting `b_weight` times in fitting."""
    ta, tb = a.table, b.table
    both = Table(np.concatenate([ta.x, tb.x]), np.concatenate([ta.message, tb.message + len(a.asked)]),
                 np.concatenate([ta.candidate, tb.candidate]), np.concatenate([ta.addressed, tb.addressed]))
    weight = np.concatenate([np.ones(len(a.y)), np.full(len(b.y), b_weight)])
    return Rows(both, np.concatenate([a.y, b.y]), a.messages + b.messages, a.asked + b.asked, weight)


def picked(rows: Rows, ranks: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[int, str]:
    """Message index -> the parent bot.graph.reply_model.choose takes at this threshold, each pick judged by its
    row's probability as ReplyModel.parents judges it."""
    chosen = choose(rows.asked, rows.table, np.asarray(ranks), threshold, np.asarray(probabilities).__getitem__)
    return {m: parent for m, parent in enumerate(chosen) if parent}


def link_scores(rows: Rows, channels: Sequence[Channel], chosen: dict[int, str]) -> tuple[float, float, float]:
    """P/R/F of reply links between different people."""
    authors = {(c.name, e.message_id): e.author for c in channels for e in c.events}
    gold = set()
    for c in channels:
        for child, parent in c.links:
            if child in c.annotated and authors[(c.name, child)] != authors.get((c.name, parent)):
                gold.add((c.name, child, parent))
    found = {(*rows.messages[m], p) for m, p in chosen.items()}
    return prf(len(found & gold), len(found), len(gold))


def prf(hit: int, predicted: int, actual: int) -> tuple[float, float, float]:
    p = hit / predicted if predicted else 0.0
    r = hit / actual if actual else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pair_scores(rows: Rows, channels: Sequence[Channel], chosen: dict[int, str]) -> tuple[float, float, float]:
    """P/R/F of contact pairs from the chosen links and leading @mentions, as the graph would show them."""
    authors = {(c.name, e.message_id): e.author for c in channels for e in c.events}
    gold = {(c.name, *sorted((authors[(c.name, a)], authors[(c.name, b)]))) for c in channels for a, b in c.links
            if a in c.annotated and (c.name, b) in authors and authors[(c.name, a)] != authors[(c.name, b)]}
    found = {(c.name, *sorted((e.author, m))) for c in channels for e in c.events for m in e.mentions
             if m != e.author and e.message_id in c.annotated}
    found |= {(rows.messages[m][0], *sorted((authors[rows.messages[m]], authors[(rows.messages[m][0], p)])))
              for m, p in chosen.items()}
    return prf(len(found & gold), len(found), len(gold))


def train(train_rows: Rows, rounds: int = ROUNDS, rank: bool = False) -> object:
    """The classifier, or with `rank` the ranker (rows grouped by message: they come message by message)."""
    import lightgbm as lgb

    groups = np.bincount(train_rows.table.message)
    data = lgb.Dataset(train_rows.x, train_rows.y, weight=train_rows.weight, group=groups[groups > 0] if rank else None,
                       feature_name=list(FEATURES), free_raw_data=False)
    return lgb.train(RANK_PARAMS if rank else PARAMS, data, num_boost_round=rounds)


THRESHOLDS = [round(float(t), 3) for t in np.arange(0.025, 0.951, 0.025)]

ATTRIBUTION = ("Trained on the Ubuntu IRC disentanglement data (Jonathan K. Kummerfeld et al., ACL 2019, CC-BY-4.0) "
               "and Molweni (Jiaqi Li et al., COLING 2020, Apache-2.0). Rapport, Apache-2.0.")


def export(booster: object, path: Path) -> None:
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = onnxmltools.convert_lightgbm(
        booster, initial_types=[("features", FloatTensorType([None, len(FEATURES)]))], zipmap=False,
        target_opset=15)
    model.doc_string = ATTRIBUTION
    path.write_bytes(model.SerializeToString())


def vectors_used() -> dict[str, object] | None:
    """The package's word vectors (training/word_vectors.py), which the similarity features read: the models are
    trained with them, so the card names them and their sha256 (bot.graph.reply_model.word_vectors checks it)."""
    stored = files("bot.data") / VECTORS_FILE
    if not stored.is_file():
        return None
    data = stored.read_bytes()
    vectors = read_vectors(data)
    return {"file": VECTORS_FILE, "sha256": hashlib.sha256(data).hexdigest(), "words": len(vectors.index),
            "dimensions": vectors.vectors.shape[1], "command": "python -m training.word_vectors IRC_DATA"}


@dataclass
class Fitted:
    """One model pair (classifier and ranker) and the threshold on the classifier's probability."""

    booster: object
    ranker: object
    threshold: float

    def predicted(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """The ranker's scores and the classifier's probabilities of `rows`."""
        return self.ranker.predict(rows.x), self.booster.predict(rows.x)  # type: ignore[attr-defined]

    def picks(self, rows: Rows) -> dict[int, str]:
        return picked(rows, *self.predicted(rows), self.threshold)

    def export(self, out: Path, file: str) -> dict[str, object]:
        """Write both models to `out`; their entry in a card."""
        ranker_file = file.replace(".onnx", "_rank.onnx")
        export(self.booster, out / file)
        export(self.ranker, out / ranker_file)
        return {"file": file, "ranker_file": ranker_file, "threshold": self.threshold}


def fit(rows: Rows, rounds: int, threshold: float = 0.5) -> Fitted:
    return Fitted(train(rows, rounds), train(rows, rounds, rank=True), threshold)


def tuned(model: Fitted, dev: tuple[Rows, Sequence[Channel]], molweni: tuple[Rows, Sequence[Channel]]) -> Fitted:
    """The model with the threshold that keeps IRC dev contact pairs at PAIR_PRECISION with the best sum of IRC pair
    F and Molweni link F."""
    on_dev, on_molweni = model.predicted(dev[0]), model.predicted(molweni[0])
    pairs = [pair_scores(*dev, picked(dev[0], *on_dev, t)) for t in THRESHOLDS]
    links = [link_scores(*molweni, picked(molweni[0], *on_molweni, t)) for t in THRESHOLDS]
    precise = [t for t in range(len(THRESHOLDS)) if pairs[t][0] >= PAIR_PRECISION] or [len(THRESHOLDS) - 1]
    return replace(model, threshold=THRESHOLDS[max(precise, key=lambda t: pairs[t][2] + links[t][2])])


def figures(model: Fitted, dev: tuple[Rows, Sequence[Channel]],
            molweni: tuple[Rows, Sequence[Channel]] | None = None) -> dict[str, dict[str, float]]:
    def named(scores: tuple[float, float, float]) -> dict[str, float]:
        return dict(zip(("precision", "recall", "f"), (round(v, 3) for v in scores), strict=True))

    chosen = model.picks(dev[0])
    found = {"irc_dev_contact_pairs": named(pair_scores(*dev, chosen)),
             "irc_dev_links_between_people": named(link_scores(*dev, chosen))}
    if molweni:
        found["molweni_unfitted_half_links_between_people"] = named(link_scores(*molweni, model.picks(molweni[0])))
    return found


def said_as(found: dict[str, dict[str, float]]) -> str:
    pairs, links = found["irc_dev_contact_pairs"], found["irc_dev_links_between_people"]
    text = (f"IRC dev links between people P {links['precision']:.3f} R {links['recall']:.3f} F {links['f']:.3f}, "
            f"pairs F {pairs['f']:.3f} at P {pairs['precision']:.3f}")
    if molweni := found.get("molweni_unfitted_half_links_between_people"):
        text += f"; Molweni unfitted half links F {molweni['f']:.3f}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="irc-disentanglement's data folder (train/ and dev/ are read)")
    parser.add_argument("molweni", type=Path, help="Molweni's DP/dev.json")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "bot" / "data")
    parser.add_argument("--folds", type=Path, metavar="DIR",
                        help="also write the two fold models, each fitted on one Molweni half, to DIR/even and "
                             "DIR/odd (benchmarks/real_chat.py --folds DIR measures each on the other half)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--molweni-weight", type=float, default=MOLWENI_WEIGHT,
                        help="how many times the fitted Molweni rows count in all, against IRC's rows counting once "
                             "(a fold's half counts this many times; the shipped model's two halves half as much)")
    args = parser.parse_args(argv)
    train_files, dev_files = irc_files(args.data / "train"), irc_files(args.data / "dev")
    if not train_files or not dev_files or not args.molweni.is_file():
        print(f"error: no annotated samples under {args.data}/train and {args.data}/dev, or no {args.molweni}",
              file=sys.stderr)
        return 2
    train_channels = [read_irc(f) for f in train_files]
    dev_channels = [read_irc(f) for f in dev_files]
    dialogues = [d.channel for d in read_molweni(args.molweni)]
    halves = {"even": molweni_half(dialogues, fit=True), "odd": molweni_half(dialogues, fit=False)}
    card: dict[str, object] = {
        "what": "Reply ranker for unthreaded chat: a LightGBM lambdarank model picks each message's best earlier "
                "message, a LightGBM binary classifier over (message, earlier message) pairs judges that pick; both "
                "exported to ONNX. Features: bot/graph/reply_model.py FEATURES.",
        "data": [
            "Ubuntu IRC disentanglement data/train (fit) and data/dev (thresholds, figures): Kummerfeld et al., "
            "ACL 2019, https://github.com/jkkummerfeld/irc-disentanglement, data CC-BY-4.0",
            "Molweni DP/dev.json, all dialogues (fit; two-fold: each fold model fitted on one half, its threshold "
            "and figures on the other): Li et al., COLING 2020, https://github.com/HIT-SCIR/Molweni, Apache-2.0",
        ],
        "licence": ATTRIBUTION + " The .onnx files carry this attribution as their doc_string.",
        "command": "python -m training.reply_model IRC_DATA MOLWENI_DEV_JSON",
        "trained": date.today().isoformat(),
        "features": list(FEATURES),
        "candidates": CANDIDATES,
        "params": {**PARAMS, "rounds": args.rounds, "molweni_weight": args.molweni_weight},
        "ranker_params": {**RANK_PARAMS, "rounds": args.rounds},
        "train_files": len(train_files),
        "dev_files": len(dev_files),
        "molweni_dialogues": {half: len(channels) for half, channels in halves.items()},
        "threshold_objective": f"each fold: IRC dev contact-pair precision >= {PAIR_PRECISION}, then the best IRC "
                               "pair F + link F on the Molweni half it did not fit; the shipped model: the folds' "
                               "mean",
        "word_vectors": vectors_used(),
    }
    folds: dict[str, dict[str, object]] = {half: {**card, "molweni_fitted": half} for half in halves}
    for key, with_text, file in (("with_text", True, "reply_model.onnx"),
                                 ("without_text", False, "reply_model_notext.onnx")):
        started = time.perf_counter()
        irc_rows = rows_of(train_channels, with_text)
        dev = (rows_of(dev_channels, with_text), dev_channels)
        half_rows = {half: rows_of(channels, with_text) for half, channels in halves.items()}
        thresholds = []
        # Molweni's train file is not available: each half is fitted once and measured once, by the other's model.
        for half, other in (("even", "odd"), ("odd", "even")):
            unfitted = (half_rows[other], halves[other])
            model = tuned(fit(joined(irc_rows, half_rows[half], args.molweni_weight), args.rounds), dev, unfitted)
            thresholds.append(model.threshold)
            found = figures(model, dev, unfitted)
            if args.folds:
                (args.folds / half).mkdir(parents=True, exist_ok=True)
            folds[half][key] = {**(model.export(args.folds / half, file) if args.folds else
                                    {"threshold": model.threshold}), **found}
            print(f"{key}, fold fitted on Molweni's {half} half: threshold {model.threshold}: {said_as(found)}")
        both = joined(half_rows["even"], half_rows["odd"])
        fit_rows = joined(irc_rows, both, args.molweni_weight / 2)
        model = fit(fit_rows, args.rounds, round(sum(thresholds) / len(thresholds), 4))
        found = figures(model, dev)
        card[key] = {**model.export(args.out, file), "train_rows": len(fit_rows.y), **found,
                     "folds": {half: folds[half][key] for half in halves}}
        print(f"{key}: {len(fit_rows.y):,} rows, threshold {model.threshold} (the folds' mean): {said_as(found)} "
              f"({time.perf_counter() - started:.0f} s)")
    (args.out / "reply_model.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {args.out / 'reply_model.json'}")
    if args.folds:
        for half, fold in folds.items():
            (args.folds / half / "reply_model.json").write_text(json.dumps(fold, indent=2) + "\n")
        print(f"wrote the fold models to {args.folds}/even and {args.folds}/odd")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
