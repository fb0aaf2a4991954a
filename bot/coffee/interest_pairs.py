"""Shared interest between the members of a coffee round, from their stored phrase vectors: a few seconds of CPU for
a channel of 20,000, most of it reading the vectors and scoring candidate pairs (README, Performance).

The planner (bot/coffee/pairing.py) keeps each member's best INTEREST_PARTNERS interest partners, so the round needs the
shared interest of each member with its likeliest partners, not of every pair (20,000 members are 200 million
pairs). Candidates are found by nearest neighbours over each member's mean phrase vector (`closest_pairs`: against
everyone up to EXACT_PARTNERS_LIMIT members, above it within buckets around random anchors), and each candidate
pair is then scored exactly on its phrase vectors: the best three phrase pairs above the matcher's threshold, as
bot/coffee/rounds.py always did.

What makes it fast:
- the vectors come from the store as one row per member (its phrase vectors end to end, storage's profile_vectors)
  and are joined into one array, by one query for the workspace when the channel is large (not an IN list of
  20,000 ids); a phrase many members share is compared once (`PhraseMatrix`, `TABLE_LIMIT`);
- members are ordered by how many phrases they have and pairs are scored in blocks of similar widths, so one
  member with 40 phrases does not make every pair pay for 40 x 40 comparisons;
- each member keeps its k nearest over all its buckets (not k per bucket), and pairs are deduplicated as integers;
- above EXACT_PARTNERS_LIMIT members, neighbours are searched in SEARCH_DIMS dimensions (a fixed random
  projection), the scoring stays on the full vectors;
- of the PARTNERS scored, only each member's KEPT strongest reach the planner (a pair stays if it is among the
  strongest of either member): every pair handed over costs the planner Python work, and it keeps no more than
  INTEREST_PARTNERS per member anyway (20,000 members: 120,000 pairs instead of 268,000);
- BLAS runs on one thread here: the products are many small ones, which OpenBLAS's threads only slow down.

`benchmarks/pairing.py --round` times this inside a whole round, against the previous implementation, and
checks the round's score against the exact optimum where that can be computed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from bot.coffee.pairing import INTEREST_PARTNERS, SharedInterest
from bot.domain.coffee import PairKey, pair
from bot.domain.profiles import Profile
from bot.interests.vectors import phrase_vectors, to_bytes
from bot.ports import Matchers, Store

PARTNERS = 16  # nearest members per member by centroid, scored exactly
KEPT = INTEREST_PARTNERS  # best scored partners per member handed to the planner
EXACT_PARTNERS_LIMIT = 2000  # members up to which partners are found against everyone
WORKSPACE_WIDE_AT = 500  # profiles above which the workspace's vectors are read in one query
BLOCK = 128  # candidate pairs scored per numpy call: their phrases fit in the CPU's cache
TABLE_LIMIT = 4096  # distinct phrases up to which each is compared with each once (a table of 64 MiB at most)
SEARCH_DIMS = 128  # dimensions the neighbour search works in above EXACT_PARTNERS_LIMIT members


@dataclass(frozen=True)
class PhraseMatrix:
    """Members' phrase vectors: each distinct phrase once (members share many: "hiking", "cooking"), a zero row
    last, and per member the rows of its phrases, padded with that zero row."""

    vectors: np.ndarray  # distinct phrases x dim, then the zero row
    ids: np.ndarray  # members x width rows of `vectors`
    counts: np.ndarray  # phrases per member

    def centroids(self) -> np.ndarray:
        total = np.zeros((len(self.ids), self.vectors.shape[1]), dtype=np.float32)
        for column in self.ids.T:  # padding adds the zero row
            total += self.vectors[column]
        return total / self.counts[:, None]


async def phrase_matrix(store: Store, profiles: Sequence[Profile], matcher_name: str, embed: object
                        ) -> PhraseMatrix:
    """The phrase vectors of `profiles`, in their order. Phrases without a stored vector are embedded and stored
    first (bot.profiles.phrase_vectors)."""
    workspace = profiles[0].workspace
    users = [p.user_id for p in profiles]
    wide = None if len(users) > WORKSPACE_WIDE_AT else users
    stored = await store.profiles.vector_rows(workspace, matcher_name, wide)
    keys = [[ph.key for ph in p.phrases()] for p in profiles]
    missing = [p for p, ks in zip(profiles, keys, strict=True)
               if (have := stored.get(p.user_id)) is None or not set(have[0]).issuperset(ks)]
    if missing:
        fresh = await phrase_vectors(store, embed, missing)  # type: ignore[arg-type]
        for p in missing:
            mine = fresh[p.user_id]
            stored[p.user_id] = (tuple(mine), b"".join(to_bytes(v) for v in mine.values()))
    # Each distinct phrase from the first member that has it: only those members' rows are joined (members share
    # many phrases, and copying every row is most of the cost).
    row: dict[str, int] = {}
    first: list[int] = []
    blobs: list[bytes] = []
    offset = 0
    for user, ks in zip(users, keys, strict=True):
        stored_keys, blob = stored[user]
        if all(k in row for k in ks):
            continue
        at = {k: offset + x for x, k in enumerate(stored_keys)}
        for k in ks:
            if k not in row:
                row[k] = len(first)
                first.append(at[k])
        blobs.append(blob)
        offset += len(stored_keys)
    flat = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(offset, -1)  # at least one: every profile has phrases
    counts = np.array([len(ks) for ks in keys], dtype=np.int64)
    vectors = np.concatenate([flat[first], np.zeros((1, flat.shape[1]), dtype=np.float32)])
    ids = np.full((len(users), int(counts.max())), len(first), dtype=np.int64)
    members = np.repeat(np.arange(len(users)), counts)
    ids[members, np.arange(len(members)) - np.repeat(np.cumsum(counts) - counts, counts)] = \
        [row[k] for ks in keys for k in ks]
    return PhraseMatrix(vectors, ids, counts)


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


def score_pairs(threshold: float, matrix: PhraseMatrix, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate pair's strength (sum over its best three phrase pairs of how far they clear the threshold,
    scaled to 0..1 per phrase pair) and the index of its best phrase pair (row-major in width x width)."""
    vectors, ids, counts = matrix.vectors, matrix.ids, matrix.counts
    width, dim = ids.shape[1], vectors.shape[1]
    strength = np.zeros(len(candidates), dtype=np.float32)
    best = np.zeros(len(candidates), dtype=np.int64)
    if not len(candidates):
        return strength, best
    # Few distinct phrases: every phrase against every other once, then each pair is a lookup.
    table = vectors @ vectors.T if len(vectors) <= TABLE_LIMIT else None
    # Blocks of similar widths: a pair is compared over the phrases its two members have, rounded up to a power of 2.
    wa = counts[candidates[:, 0]]
    wb = counts[candidates[:, 1]]
    classes = np.minimum(width, 2 ** np.ceil(np.log2(np.maximum(wa, 1))).astype(np.int64)) * (width + 1) + \
        np.minimum(width, 2 ** np.ceil(np.log2(np.maximum(wb, 1))).astype(np.int64))
    # Else copying the two members' phrases out costs more than the products: small blocks gathered into the
    # same buffers each time stay in the CPU's cache and allocate nothing (20,000 members: 2.4 s -> 1.0 s).
    mine = np.empty((BLOCK, width, dim), dtype=np.float32)
    theirs = np.empty((BLOCK, width, dim), dtype=np.float32)
    step = BLOCK if table is None else 64 * BLOCK  # lookups need no buffers: larger blocks, fewer calls
    for cls in np.unique(classes):
        xa, xb = divmod(int(cls), width + 1)
        chosen = np.nonzero(classes == cls)[0]
        for start in range(0, len(chosen), step):
            rows = chosen[start:start + step]
            m = len(rows)
            ia, ib = ids[candidates[rows, 0], :xa], ids[candidates[rows, 1], :xb]
            if table is not None:
                sims = table[ia[:, :, None], ib[:, None, :]].reshape(m, -1)
            else:
                np.take(vectors, ia, axis=0, out=mine[:m, :xa], mode="clip")  # "raise" would copy via a buffer
                np.take(vectors, ib, axis=0, out=theirs[:m, :xb], mode="clip")
                sims = np.matmul(mine[:m, :xa], theirs[:m, :xb].transpose(0, 2, 1)).reshape(m, -1)
            top = -np.partition(-sims, min(2, sims.shape[1] - 1), axis=1)[:, :3]  # padding scores 0
            strength[rows] = np.clip((top - threshold) / (1 - threshold), 0.0, None).sum(axis=1)
            x, y = np.divmod(np.argmax(sims, axis=1), xb)
            best[rows] = x * width + y
    return strength, best


def _best_per_member(candidates: np.ndarray, strength: np.ndarray, k: int, n: int) -> np.ndarray:
    """Rows of the pairs with some shared interest that are among the k strongest of either member: the
    planner considers no more than that (pairing.INTEREST_PARTNERS), and every pair handed over costs it Python
    work."""
    rows = np.nonzero(strength > 0)[0]
    owners = np.concatenate([candidates[rows, 0], candidates[rows, 1]])
    both = np.concatenate([rows, rows])
    order = np.lexsort((-strength[both], owners))
    owners, both = owners[order], both[order]
    starts = np.searchsorted(owners, np.arange(n))
    rank = np.arange(len(owners)) - starts[owners]
    return np.unique(both[rank < k])


def interest_scores(threshold: float, users: list[str], matrix: PhraseMatrix,
                    partners: int = PARTNERS, kept: int | None = KEPT) -> dict[PairKey, SharedInterest]:
    centroids = matrix.centroids()
    if len(users) > EXACT_PARTNERS_LIMIT and centroids.shape[1] > SEARCH_DIMS:
        # Neighbours are searched in fewer dimensions (a fixed random projection keeps cosines roughly): the
        # search only proposes candidates, which are then scored on the full vectors.
        centroids = centroids @ np.random.default_rng(0).standard_normal((centroids.shape[1], SEARCH_DIMS))
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    candidates = closest_pairs(centroids.astype(np.float32), partners)
    strength, _ = score_pairs(threshold, matrix, candidates)
    found = _best_per_member(candidates, strength, kept or partners, len(users))
    scores = np.minimum(1.0, strength[found] / 2).tolist()
    firsts, seconds = candidates[found, 0].tolist(), candidates[found, 1].tolist()
    return {pair(users[i], users[j]): SharedInterest(score)
            for i, j, score in zip(firsts, seconds, scores, strict=True)}


async def shared_interests(store: Store, matchers: Matchers, profiles: Sequence[Profile],
                           ) -> dict[PairKey, SharedInterest]:
    """How much each member shares with its likeliest partners, as a number for the planner to rank by. What two
    people are shown as sharing is judged pair by pair elsewhere (bot.interests.starters.find_links)."""
    with_phrases = [p for p in profiles if p.phrases()]
    if len(with_phrases) < 2:
        return {}
    matcher = await matchers.aget()
    matrix = await phrase_matrix(store, with_phrases, matcher.name, matcher)
    users = [p.user_id for p in with_phrases]
    return await asyncio.to_thread(_one_blas_thread, matcher.threshold, users, matrix)


def _one_blas_thread(*args: Any) -> dict[PairKey, SharedInterest]:
    """interest_scores with BLAS on one thread: its products are many small ones, which OpenBLAS's threads slow
    down (closest_pairs at 20,000 members: 1.9 s on two threads beside other work, 0.4 s on one). The limit is
    process-wide while it lasts, which only ever costs another product some speed."""
    with threadpool_limits(1, user_api="blas"):
        return interest_scores(*args)
