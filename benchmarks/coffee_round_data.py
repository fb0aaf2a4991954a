"""Synthetic workspaces for timing a whole coffee round (benchmarks/pairing.py --round): members, profiles whose
interest phrases have stored vectors, a coffee channel everyone joined, some rapport and some past rounds.

Phrase vectors are made here, not by the model (the round reads stored vectors, as it does once profiles are
saved): each of TOPICS topics has a direction, each phrase is its topic's direction plus noise, so phrases of one
topic are related and phrases of different topics are not. Two phrases of one topic have a cosine of about
SAME_TOPIC_COSINE, as far over the matcher's threshold (0.43, for phrases read in three frames) as 0.55 was over
the bare phrase's 0.41."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from bot.domain.coffee import ChannelSettings
from bot.domain.profiles import Profile
from storage.models import CoffeeMemberRow, MemberRow, ProfileRow, ProfileVectorsRow
from storage.store import SqlStore

WS, CHANNEL = "TBENCH", "CBENCH"
TOPICS = 120
PHRASES_PER_TOPIC = 30
ZONES = ["America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
         "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", None]
DUE = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
SAME_TOPIC_COSINE = 0.57


def phrase_vectors(dim: int, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for t in range(TOPICS):
        direction = rng.standard_normal(dim).astype(np.float32)
        direction /= np.linalg.norm(direction)
        for p in range(PHRASES_PER_TOPIC):
            noise = rng.standard_normal(dim).astype(np.float32)
            noise /= np.linalg.norm(noise)
            # Independent noise: the expected cosine of two phrases of one topic is the direction's share squared.
            v = SAME_TOPIC_COSINE ** 0.5 * direction + (1 - SAME_TOPIC_COSINE) ** 0.5 * noise
            out[f"topic{t} thing{p}"] = (v / np.linalg.norm(v)).astype(np.float32)
    return out


async def populate(store: SqlStore, n: int, matcher: str, dim: int, seed: int = 1) -> ChannelSettings:
    rng = random.Random(seed)
    vectors = phrase_vectors(dim)
    members, profiles, phrases, joined = [], [], [], []
    for i in range(n):
        user = f"U{i:06d}"
        tz = rng.choice(ZONES)
        members.append({"workspace": WS, "user_id": user, "name": f"Person {i}", "tz": tz, "is_bot": False})
        topics = rng.sample(range(TOPICS), 3)
        picks = [f"topic{rng.choice(topics)} thing{rng.randrange(PHRASES_PER_TOPIC)}" for _ in range(8)]
        start = rng.choice((8, 9, 9, 9, 10))
        profile = Profile(WS, user, behaviour=", ".join(picks[:4]), capability=", ".join(picks[4:7]),
                          environment=picks[7], tz=tz, work_start=start, work_end=start + 8)
        profiles.append({"workspace": WS, "user_id": user, "behaviour": profile.behaviour,
                         "capability": profile.capability, "environment": profile.environment, "tz": tz,
                         "work_start": start, "work_end": start + 8})
        keys = [ph.key for ph in profile.phrases()]
        phrases.append({"workspace": WS, "user_id": user, "matcher": matcher, "phrases": "\n".join(keys),
                        "vectors": b"".join(vectors[k].tobytes() for k in keys)})
        joined.append({"workspace": WS, "channel": CHANNEL, "user_id": user, "joined_at": DUE - timedelta(days=30),
                       "team": f"team{rng.randrange(max(2, n // 8))}", "paused": False, "paused_until": None,
                       "pause_reason": "", "skip_at": None, "missed": 0})
    async with store.sessions.begin() as session:
        for model, rows in ((MemberRow, members), (ProfileRow, profiles), (ProfileVectorsRow, phrases),
                            (CoffeeMemberRow, joined)):
            for start in range(0, len(rows), 5000):
                await session.execute(insert(model), rows[start:start + 5000])
    settings = ChannelSettings(WS, CHANNEL, "weekly", 1, 10, 0, "UTC", date(2026, 3, 3), cross_teams=True,
                               next_run_at=DUE)
    await store.coffee.save_channel(settings)
    return settings
