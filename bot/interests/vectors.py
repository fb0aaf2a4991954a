"""The semantic matcher, loaded once per process, and the embedding cache: each interest phrase goes through the
model once and its vector is kept with the profile (the Profiles port), so starters and matches compare stored
vectors instead of re-running the model over the workspace."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from functools import cache

import numpy as np

from bot.domain.profiles import Profile
from bot.interests.similarity import load_matcher
from bot.ports import Matcher, Store, Vectors


@cache
def shared_matcher() -> Matcher:
    """The embedding model (or the lexical fallback when it cannot load), loaded once however many cores a
    process holds: it is read-only once loaded."""
    return load_matcher()


class MatcherSource:
    """A core's semantic matcher (bot.ports.Matchers), loaded on first use (the model takes a moment and memory).

    A test may hand one in with `use`; otherwise `load` decides, by default the process's shared model.
    """

    def __init__(self, load: Callable[[], Matcher] | None = None) -> None:
        self._load = load
        self._matcher: Matcher | None = None
        self._lock = threading.Lock()

    def use(self, matcher: Matcher | None) -> None:
        self._matcher = matcher

    def get(self) -> Matcher:
        with self._lock:
            if self._matcher is None:
                self._matcher = (self._load or shared_matcher)()
            return self._matcher

    async def aget(self) -> Matcher:
        if self._matcher is not None:
            return self._matcher
        return await asyncio.to_thread(self.get)



def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


async def phrase_vectors(store: Store, matcher: Matcher, profiles: Iterable[Profile],
                         workspace_wide: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """user -> phrase key -> vector for these profiles: stored vectors where present, the rest embedded now
    (in a worker thread) and stored, so each phrase goes through the model once."""
    profiles = list(profiles)
    if not profiles:
        return {}
    repo = store.profiles
    workspace = profiles[0].workspace
    users = None if workspace_wide else [p.user_id for p in profiles]
    stored = await repo.vectors(workspace, matcher.name, users)
    out: dict[str, dict[str, np.ndarray]] = {}
    missing: dict[str, list[str]] = {}
    for profile in profiles:
        have = stored.get(profile.user_id, {})
        mine = out[profile.user_id] = {}
        for phrase in profile.phrases():
            if phrase.key in have:
                mine[phrase.key] = from_bytes(have[phrase.key])
            else:
                missing.setdefault(profile.user_id, []).append(phrase.key)
    if missing:
        todo = sorted({k for keys in missing.values() for k in keys})
        vectors: Vectors = await asyncio.to_thread(matcher.embed, todo)
        by_key = dict(zip(todo, vectors, strict=True))
        for user, keys in missing.items():
            out[user].update({k: by_key[k] for k in keys})
            await repo.save_vectors(workspace, user, matcher.name, {k: to_bytes(by_key[k]) for k in keys})
    return out
