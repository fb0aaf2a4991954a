"""The interest scoring a coffee round used before bot/coffee/interest_pairs.py (commit bddc66c's bot/rounds.py),
kept as the baseline of `benchmarks/pairing.py --round`: an array per phrase from the store, k partners per bucket,
every pair compared over the widest profile's phrases."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from bot.coffee.pairing import SharedInterest
from bot.domain.coffee import PairKey, pair
from bot.domain.profiles import Profile
from bot.interests.vectors import matchers, phrase_vectors
from bot.ports import Store
from bot.text import shown

INTEREST_PARTNERS = 10
EXACT_PARTNERS_LIMIT = 2000


def _interest_scores(threshold: float, users: list[str], phrases: list[list[tuple[str, str]]],
                     vectors: dict[str, dict[str, np.ndarray]], topics: bool) -> dict[PairKey, SharedInterest]:
    """Shared interest for each member's INTEREST_PARTNERS closest members by mean phrase vector, scored
    exactly on their phrase vectors (best three phrase pairs above the matcher's threshold). Never the whole
    n x n phrase matrix, and the candidate pairs are scored in vectorised batches: large channels stay fast."""
    n, width = len(users), max(len(ph) for ph in phrases)
    dim = len(next(iter(vectors[users[0]].values())))
    padded = np.zeros((n, width, dim), dtype=np.float32)  # members x phrases x dims, zero rows as padding
    for i, (user, ph) in enumerate(zip(users, phrases, strict=True)):
        padded[i, :len(ph)] = np.stack([vectors[user][k] for k, _ in ph])
    counts = np.array([len(ph) for ph in phrases], dtype=np.float32)
    centroids = padded.sum(axis=1) / counts[:, None]
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    candidates = _closest_pairs(centroids, INTEREST_PARTNERS)
    out: dict[PairKey, SharedInterest] = {}
    for start in range(0, len(candidates), 4096):
        a, b = candidates[start:start + 4096, 0], candidates[start:start + 4096, 1]
        sims = np.matmul(padded[a], padded[b].transpose(0, 2, 1)).reshape(len(a), -1)  # padding scores 0
        top = -np.sort(-sims, axis=1)[:, :3]
        strength = np.clip((top - threshold) / (1 - threshold), 0.0, None).sum(axis=1)
        for row in np.nonzero(strength > 0)[0]:
            i, j = int(a[row]), int(b[row])
            named: tuple[str, ...] = ()
            if topics:
                x, y = divmod(int(np.argmax(sims[row])), width)
                (kx, tx), (ky, ty) = phrases[i][x], phrases[j][y]
                named = (shown(tx) if kx == ky else f"{shown(tx)} / {shown(ty)}",)
            out[pair(users[i], users[j])] = SharedInterest(min(1.0, float(strength[row]) / 2), named)
    return out


def _closest_pairs(centroids: np.ndarray, k: int) -> np.ndarray:
    """(i, j) rows, i < j: each member with its k most similar members. Up to EXACT_PARTNERS_LIMIT members
    against everyone; above it within buckets (each member joins the buckets of its two nearest of sqrt(n)
    random anchor members), so the cost grows like n * sqrt(n) instead of n squared."""
    n = len(centroids)
    if n <= EXACT_PARTNERS_LIMIT:
        buckets = [np.arange(n)]
    else:
        anchors = centroids[np.random.default_rng(0).choice(n, int(np.sqrt(n)), replace=False)]
        nearest = np.argpartition(-(centroids @ anchors.T), 1, axis=1)[:, :2]
        buckets = [np.nonzero((nearest == a).any(axis=1))[0] for a in range(len(anchors))]
    found = [np.zeros((0, 2), dtype=np.int64)]
    for members in buckets:
        kk = min(k, len(members) - 1)
        if kk < 1:
            continue
        vectors = centroids[members]
        for start in range(0, len(members), 1024):
            sims = vectors[start:start + 1024] @ vectors.T
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = -np.inf
            best = np.argpartition(sims, -kk, axis=1)[:, -kk:]
            found.append(np.stack([np.repeat(members[start + rows], kk), members[best.ravel()]], axis=1))
    return np.unique(np.sort(np.concatenate(found), axis=1), axis=0)


async def shared_interests(store: Store, profiles: Sequence[Profile], topics: bool = False
                           ) -> dict[PairKey, SharedInterest]:
    with_phrases = [p for p in profiles if p.phrases()]
    if len(with_phrases) < 2:
        return {}
    matcher = await matchers.aget()
    vectors = await phrase_vectors(store, matcher, with_phrases)
    users = [p.user_id for p in with_phrases]
    phrases = [[(ph.key, ph.text) for ph in p.phrases()] for p in with_phrases]
    return await asyncio.to_thread(_interest_scores, matcher.threshold, users, phrases, vectors, topics)
