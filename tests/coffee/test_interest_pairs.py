"""Shared interest for a coffee round (bot/coffee/interest_pairs.py) against a brute-force reference on small data."""

from __future__ import annotations

import numpy as np

from bot.coffee.interest_pairs import closest_pairs, interest_scores, score_pairs
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


def _brute(padded: np.ndarray, counts: np.ndarray, a: int, b: int) -> float:
    sims = padded[a, :counts[a]] @ padded[b, :counts[b]].T
    top = np.sort(sims.ravel())[::-1][:3]
    return float(np.clip((top - THRESHOLD) / (1 - THRESHOLD), 0, None).sum())


def test_each_pair_is_scored_as_the_brute_force_does_whatever_the_widths() -> None:
    padded, counts = _members(40)
    i, j = np.triu_indices(40, 1)
    strength, best = score_pairs(THRESHOLD, padded, counts, np.stack([i, j], axis=1))
    for row, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        assert abs(strength[row] - _brute(padded, counts, a, b)) < 1e-4
        if strength[row] > 0:
            x, y = divmod(int(best[row]), padded.shape[1])
            assert x < counts[a] and y < counts[b]  # the phrase pair a starter names is real, never padding


def test_with_everyone_as_a_partner_the_scores_are_every_related_pair() -> None:
    padded, counts = _members(30)
    users = [f"u{k}" for k in range(30)]
    found = interest_scores(THRESHOLD, users, [], padded, counts, False, partners=29)
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
