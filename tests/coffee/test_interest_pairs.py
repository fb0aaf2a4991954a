"""Shared interest for a coffee round (bot/coffee/interest_pairs.py) against a brute-force reference on small data."""

from __future__ import annotations

import numpy as np
import pytest

from bot.coffee import interest_pairs
from bot.coffee.interest_pairs import PhraseMatrix, _best_per_member, closest_pairs, interest_scores, score_pairs
from bot.domain.coffee import pair

THRESHOLD = 0.41


def _members(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Members with 1 to 12 phrase vectors (one with 12, so widths differ), drawn around 6 topics."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((6, 32)).astype(np.float32)
    counts = rng.integers(1, 6, n)
    counts[0] = 12
    padded = np.zeros((n, int(counts.max()), 32), dtype=np.float32)
    for i, c in enumerate(counts):
        v = topics[rng.integers(0, 6, c)] + 0.8 * rng.standard_normal((c, 32)).astype(np.float32)
        padded[i, :c] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return padded, counts


def _matrix(padded: np.ndarray, counts: np.ndarray) -> PhraseMatrix:
    """A PhraseMatrix of members x width x dim vectors, zero-padded after each member's `counts` phrases (every
    phrase its own row, none shared)."""
    n, width, dim = padded.shape
    vectors = np.concatenate([padded.reshape(n * width, dim), np.zeros((1, dim), dtype=padded.dtype)])
    ids = np.arange(n * width).reshape(n, width)
    ids[np.arange(width) >= counts[:, None]] = n * width
    return PhraseMatrix(vectors.astype(np.float32), ids, np.asarray(counts))


def _brute(padded: np.ndarray, counts: np.ndarray, a: int, b: int) -> float:
    sims = padded[a, :counts[a]] @ padded[b, :counts[b]].T
    top = np.sort(sims.ravel())[::-1][:3]
    return float(np.clip((top - THRESHOLD) / (1 - THRESHOLD), 0, None).sum())


@pytest.mark.parametrize("table_limit", [interest_pairs.TABLE_LIMIT, 0])  # a table of phrase pairs, or pair by pair
def test_each_pair_is_scored_as_the_brute_force_does_whatever_the_widths(
        table_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interest_pairs, "TABLE_LIMIT", table_limit)
    padded, counts = _members(40)
    i, j = np.triu_indices(40, 1)
    strength, best = score_pairs(THRESHOLD, _matrix(padded, counts), np.stack([i, j], axis=1))
    for row, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        assert abs(strength[row] - _brute(padded, counts, a, b)) < 1e-4
        if strength[row] > 0:
            x, y = divmod(int(best[row]), padded.shape[1])
            assert x < counts[a] and y < counts[b]  # the phrase pair a starter names is real, never padding


def test_with_everyone_as_a_partner_the_scores_are_every_related_pair() -> None:
    padded, counts = _members(30)
    users = [f"u{k}" for k in range(30)]
    found = interest_scores(THRESHOLD, users, _matrix(padded, counts), partners=29, kept=None)
    expected = {pair(users[a], users[b]): min(1.0, s / 2) for a in range(30) for b in range(a + 1, 30)
                if (s := _brute(padded, counts, a, b)) > 0}
    assert found.keys() == expected.keys()
    assert all(abs(found[k].score - v) < 1e-4 for k, v in expected.items())


def test_large_channels_search_partners_in_buckets_each_member_keeps_its_own() -> None:
    rng = np.random.default_rng(1)
    centroids = rng.standard_normal((2600, 16)).astype(np.float32)  # above EXACT_PARTNERS_LIMIT: buckets
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    found = closest_pairs(centroids, 6)
    assert (found[:, 0] < found[:, 1]).all() and len(np.unique(found, axis=0)) == len(found)
    partners = np.bincount(found.ravel(), minlength=2600)
    assert partners.min() >= 6  # everyone has their own k (others may add themselves)
    # The nearest member of most members is among their partners.
    sims = centroids[:300] @ centroids.T
    sims[np.arange(300), np.arange(300)] = -np.inf
    nearest = sims.argmax(axis=1)
    listed = {(int(a), int(b)) for a, b in found}
    hits = sum((min(k, int(m)), max(k, int(m))) in listed for k, m in enumerate(nearest))
    assert hits / 300 > 0.6


def test_a_pair_reaches_the_planner_only_if_it_is_among_the_strongest_of_one_of_its_members() -> None:
    candidates = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
    strength = np.array([0.9, 0.5, 0.1, 0.2, 0.0, 0.3], dtype=np.float32)
    kept = _best_per_member(candidates, strength, 1, 4)
    # 0 and 1: each other; 2: 0 (0.5); 3: 2 (0.3). (0, 3) and (1, 2) are nobody's best; (1, 3) shares nothing.
    assert candidates[kept].tolist() == [[0, 1], [0, 2], [2, 3]]
    assert candidates[_best_per_member(candidates, strength, 5, 4)].tolist() == [
        [0, 1], [0, 2], [0, 3], [1, 2], [2, 3]]


def test_large_rounds_score_each_member_with_its_few_strongest_partners() -> None:
    padded, counts = _members(60)
    users = [f"u{k}" for k in range(60)]
    everyone = interest_scores(THRESHOLD, users, _matrix(padded, counts), partners=59, kept=None)
    kept = interest_scores(THRESHOLD, users, _matrix(padded, counts), partners=10, kept=3)
    assert 0 < len(kept) <= 3 * len(users) < len(everyone)
    assert all(abs(kept[k].score - everyone[k].score) < 1e-4 for k in kept)  # scored exactly, not estimated
