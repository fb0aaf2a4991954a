"""benchmarks/matching_cv.py's table-out cross-validation puts the topic links back with a table of each fold's
choosing; with the whole table it must link exactly the pairs the matcher links."""

from __future__ import annotations

import sys

import numpy as np

from bot.interests.similarity import _content_words, _stem, in_context, topic_link
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import matching_cv
from matching import PAIRS, load_pairs


def stems_of(a: str, b: str) -> tuple[set[str], set[str]]:
    return {_stem(w) for w in _content_words(a)}, {_stem(w) for w in _content_words(b)}


def test_links_with_the_whole_table_are_the_matchers() -> None:
    pairs = load_pairs(PAIRS)
    texts = [(in_context(p.a, p.level_a), in_context(p.b, p.level_b)) for p in pairs]
    ours = [matching_cv.linked(stems_of(a, b), matching_cv.TOPIC_STEMS) for a, b in texts]
    assert ours == [topic_link(a, b) for a, b in texts]
    assert sum(ours) > 30  # the table carries many of the tuning pairs


def test_a_word_taken_out_of_the_table_unlinks_its_pairs() -> None:
    stems = stems_of("yoga", "pilates")
    assert matching_cv.linked(stems, matching_cv.TOPIC_STEMS)
    table = {topic: words - {_stem("pilates")} for topic, words in matching_cv.TOPIC_STEMS.items()}
    assert not matching_cv.linked(stems, table)
    assert not matching_cv.linked(stems_of("bass fishing", "bass guitar"), matching_cv.TOPIC_STEMS)


def test_table_out_cv_keeps_a_link_only_when_other_folds_saw_its_words() -> None:
    # Ten copies of one linked related pair and ten unrelated pairs: every fold's training part holds copies of the
    # linked pair, so taking out the words seen only in the test fold leaves the link, and all are counted right.
    stems = [stems_of("yoga", "pilates")] * 10 + [stems_of("hiking", "tax law")] * 10
    scores = np.array([0.1] * 10 + [0.05] * 10)
    labels = np.array([1] * 10 + [0] * 10)
    assert matching_cv.cv_table_out(scores, stems, labels, seed=0, table_out=False) == (1.0, 1.0)
    assert matching_cv.cv_table_out(scores, stems, labels, seed=0) == (1.0, 1.0)
    # A linked pair whose words are in no other pair loses its link in its own fold; scored under the unrelated
    # pairs, it is then missed (with the whole table it is not).
    lone = [*stems, stems_of("surfing", "bodyboarding")]
    assert matching_cv.linked(lone[-1], matching_cv.TOPIC_STEMS)
    scores, labels = np.append(scores, 0.02), np.append(labels, 1)
    assert matching_cv.cv_table_out(scores, lone, labels, seed=0, table_out=False) == (1.0, 1.0)
    assert matching_cv.cv_table_out(scores, lone, labels, seed=0) == (1.0, 10 / 11)
