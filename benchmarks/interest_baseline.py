"""The interest scoring of a coffee round as it was at commit BASELINE (bot/coffee/interest_pairs.py then), loaded
from git, as the baseline of `benchmarks/pairing.py --round` and benchmarks/coffee_round.py: 16 nearest members per
member scored and all of them handed to the planner, BLAS on its default threads. Then the matcher was a
module-level singleton; the loaded module gets the caller's instead."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.from_git import module_at
from bot.coffee.pairing import SharedInterest
from bot.domain.coffee import PairKey
from bot.domain.profiles import Profile
from bot.ports import Matchers, Store

BASELINE = "64c6061"

_then = module_at(BASELINE, "bot/coffee/interest_pairs.py", f"interest_pairs_{BASELINE}", {
    "from bot.interests.vectors import matchers, phrase_vectors, to_bytes":
        "from bot.interests.vectors import phrase_vectors, to_bytes\nmatchers = None"})


async def shared_interests(store: Store, matchers: Matchers, profiles: Sequence[Profile],
                           ) -> dict[PairKey, SharedInterest]:
    vars(_then)["matchers"] = matchers  # the old module reads a global of that name
    result: dict[PairKey, SharedInterest] = await _then.shared_interests(store, profiles)
    return result
