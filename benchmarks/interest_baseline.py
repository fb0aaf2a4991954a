"""The interest scoring of a coffee round as it was at commit 64c6061 (bot/coffee/interest_pairs.py, copied
verbatim below this docstring), kept as the baseline of `benchmarks/pairing.py --round`: 16 nearest members per member
scored and all of them handed to the planner, BLAS on its default threads. Only this docstring differs; the
current module is bot/coffee/interest_pairs.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from bot.coffee.pairing import SharedInterest
from bot.domain.coffee import PairKey, pair
from bot.domain.profiles import Profile
from bot.interests.vectors import matchers, phrase_vectors, to_bytes
from bot.ports import Store
from bot.text import shown

PARTNERS = 16  # interest partners per member scored exactly (every other pair scores 0 interest)
EXACT_PARTNERS_LIMIT = 2000  # members up to which partners are found against everyone
WORKSPACE_WIDE_AT = 500  # profiles above which the workspace's vectors are read in one query
BLOCK = 8192  # candidate pairs scored per numpy call
SEARCH_DIMS = 128  # dimensions the neighbour search works in above EXACT_PARTNERS_LIMIT members


async def phrase_matrix(store: Store, profiles: Sequence[Profile], matcher_name: str, embed: object
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(members x width x dim vectors, zero-padded; phrases per member), in the order of `profiles`. Phrases
    without a stored vector are embedded and stored first (bot.profiles.phrase_vectors)."""
    workspace = profiles[0].workspace
    users = [p.user_id for p in profiles]
    stored = await store.profiles.vectors(workspace, matcher_name, None if len(users) > WORKSPACE_WIDE_AT else users)
    keys = [[ph.key for ph in p.phrases()] for p in profiles]
    missing = [p for p, ks in zip(profiles, keys, strict=True) if any(k not in stored.get(p.user_id, {}) for k in ks)]
    if missing:
        fresh = await phrase_vectors(store, embed, missing)  # type: ignore[arg-type]
        for p in missing:
            stored[p.user_id] = {k: to_bytes(v) for k, v in fresh[p.user_id].items()}
    blob = b"".join(stored[u][k] for u, ks in zip(users, keys, strict=True) for k in ks)
    counts = np.array([len(ks) for ks in keys], dtype=np.int64)
    flat = np.frombuffer(blob, dtype="<f4").reshape(int(counts.sum()), -1)
    padded = np.zeros((len(users), int(counts.max()), flat.shape[1]), dtype=np.float32)
    rows = np.repeat(np.arange(len(users)), counts)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
    padded[rows, cols] = flat
    return padded, counts


def closest_pairs(centroids: np.ndarray, k: int) -> np.ndarray:
    """(i, j) rows, i < j, sorted: each member with its k most similar members by centroid. Up to
    EXACT_PARTNERS_LIMIT members against everyone; above it within buckets (each member joins the buckets of its
    two nearest of sqrt(n) random anchor members) and keeps its k best over both buckets."""
    n = len(centroids)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros((0, 2), dtype=np.int64)
    if n <= EXACT_PARTNERS_LIMIT:
        buckets = [np.arange(n)]
    else:
        anchors = centroids[np.random.default_rng(0).choice(n, int(np.sqrt(n)), replace=False)]
        nearest = np.argpartition(-(centroids @ anchors.T), 1, axis=1)[:, :2]
        order = np.argsort(nearest.ravel(), kind="stable")
        edges = np.searchsorted(nearest.ravel()[order], np.arange(len(anchors) + 1))
        buckets = [order[edges[a]:edges[a + 1]] // 2 for a in range(len(anchors))]
    best_sim = np.full((n, 2 * k), -np.inf, dtype=np.float32)  # each member's best from up to two buckets
    best_j = np.full((n, 2 * k), -1, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    for members in buckets:
        kk = min(k, len(members) - 1)
        if kk < 1:
            continue
        vectors = centroids[members]
        for start in range(0, len(members), 1024):
            sims = vectors[start:start + 1024] @ vectors.T
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = -np.inf
            top = np.argpartition(sims, -kk, axis=1)[:, -kk:]
            owners = members[start:start + 1024]
            slot = filled[owners][:, None] + np.arange(kk)
            best_sim[owners[:, None], slot] = np.take_along_axis(sims, top, axis=1)
            best_j[owners[:, None], slot] = members[top]
            filled[owners] += kk
    # A partner found in both of a member's buckets counts once.
    order = np.argsort(best_j, axis=1, kind="stable")
    ranked = np.take_along_axis(best_j, order, axis=1)
    repeated = np.zeros_like(best_j, dtype=bool)
    repeated[:, 1:] = (ranked[:, 1:] == ranked[:, :-1]) & (ranked[:, 1:] >= 0)
    sims_ranked = np.where(repeated, -np.inf, np.take_along_axis(best_sim, order, axis=1))
    np.put_along_axis(best_sim, order, sims_ranked, axis=1)
    keep = np.argpartition(-best_sim, k - 1, axis=1)[:, :k]
    partners = np.where(np.isfinite(np.take_along_axis(best_sim, keep, axis=1)),
                        np.take_along_axis(best_j, keep, axis=1), -1).ravel()
    owners = np.repeat(np.arange(n), k)
    valid = (partners >= 0) & (partners != owners)
    a, b = np.minimum(owners[valid], partners[valid]), np.maximum(owners[valid], partners[valid])
    codes = np.unique(a * n + b)
    return np.stack([codes // n, codes % n], axis=1)


def score_pairs(threshold: float, padded: np.ndarray, counts: np.ndarray, candidates: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate pair's strength (sum over its best three phrase pairs of how far they clear the threshold,
    scaled to 0..1 per phrase pair) and the index of its best phrase pair (row-major in width x width)."""
    width = padded.shape[1]
    strength = np.zeros(len(candidates), dtype=np.float32)
    best = np.zeros(len(candidates), dtype=np.int64)
    if not len(candidates):
        return strength, best
    # Blocks of similar widths: a pair is compared over the phrases its two members have, rounded up to a power of 2.
    wa = counts[candidates[:, 0]]
    wb = counts[candidates[:, 1]]
    classes = np.minimum(width, 2 ** np.ceil(np.log2(np.maximum(wa, 1))).astype(np.int64)) * (width + 1) + \
        np.minimum(width, 2 ** np.ceil(np.log2(np.maximum(wb, 1))).astype(np.int64))
    for cls in np.unique(classes):
        xa, xb = divmod(int(cls), width + 1)
        chosen = np.nonzero(classes == cls)[0]
        for start in range(0, len(chosen), BLOCK):
            rows = chosen[start:start + BLOCK]
            a, b = candidates[rows, 0], candidates[rows, 1]
            sims = np.matmul(padded[a, :xa], padded[b, :xb].transpose(0, 2, 1)).reshape(len(rows), -1)
            top = -np.partition(-sims, min(2, sims.shape[1] - 1), axis=1)[:, :3]  # padding scores 0
            strength[rows] = np.clip((top - threshold) / (1 - threshold), 0.0, None).sum(axis=1)
            x, y = np.divmod(np.argmax(sims, axis=1), xb)
            best[rows] = x * width + y
    return strength, best


def interest_scores(threshold: float, users: list[str], phrases: list[list[tuple[str, str]]], padded: np.ndarray,
                    counts: np.ndarray, topics: bool, partners: int = PARTNERS) -> dict[PairKey, SharedInterest]:
    centroids = padded.sum(axis=1) / counts[:, None]
    if len(users) > EXACT_PARTNERS_LIMIT and centroids.shape[1] > SEARCH_DIMS:
        # Neighbours are searched in fewer dimensions (a fixed random projection keeps cosines roughly): the
        # search only proposes candidates, which are then scored on the full vectors.
        centroids = centroids @ np.random.default_rng(0).standard_normal((centroids.shape[1], SEARCH_DIMS))
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    candidates = closest_pairs(centroids.astype(np.float32), partners)
    strength, best = score_pairs(threshold, padded, counts, candidates)
    width = padded.shape[1]
    found = np.nonzero(strength > 0)[0]
    scores = np.minimum(1.0, strength[found] / 2).tolist()
    firsts, seconds = candidates[found, 0].tolist(), candidates[found, 1].tolist()
    if not topics:
        return {pair(users[i], users[j]): SharedInterest(score)
                for i, j, score in zip(firsts, seconds, scores, strict=True)}
    out: dict[PairKey, SharedInterest] = {}
    for i, j, score, where in zip(firsts, seconds, scores, best[found].tolist(), strict=True):
        x, y = divmod(where, width)
        (kx, tx), (ky, ty) = phrases[i][x], phrases[j][y]
        named = shown(tx) if kx == ky else f"{shown(tx)} / {shown(ty)}"
        out[pair(users[i], users[j])] = SharedInterest(score, (named,))
    return out


async def shared_interests(store: Store, profiles: Sequence[Profile], topics: bool = False
                           ) -> dict[PairKey, SharedInterest]:
    with_phrases = [p for p in profiles if p.phrases()]
    if len(with_phrases) < 2:
        return {}
    matcher = await matchers.aget()
    padded, counts = await phrase_matrix(store, with_phrases, matcher.name, matcher)
    users = [p.user_id for p in with_phrases]
    phrases = [[(ph.key, ph.text) for ph in p.phrases()] for p in with_phrases] if topics else []
    return await asyncio.to_thread(interest_scores, matcher.threshold, users, phrases, padded, counts, topics)
