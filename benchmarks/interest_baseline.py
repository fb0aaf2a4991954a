"""The interest scoring of a coffee round as it was at commit BASELINE (bot/coffee/interest_pairs.py then), loaded
from git, as the baseline of `benchmarks/pairing.py --round` and benchmarks/coffee_round.py: 16 nearest members per
member scored and all of them handed to the planner, BLAS on its default threads."""

from __future__ import annotations

from benchmarks.from_git import module_at

BASELINE = "64c6061"

shared_interests = module_at(BASELINE, "bot/coffee/interest_pairs.py", f"interest_pairs_{BASELINE}").shared_interests
