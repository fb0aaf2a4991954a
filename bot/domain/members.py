"""Who a member is once their id may not be kept: the one-way hash that marks members who paused tracking
or erased their data, so that they are not tracked again."""

from __future__ import annotations

import hashlib


def member_hash(workspace: str, user: str) -> str:
    return hashlib.sha256(f"rapport:{workspace}:{user}".encode()).hexdigest()
