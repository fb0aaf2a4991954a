"""The core as its scheduled work sees it: the store, the clock, outbound messages and this process's counts.

bot.app.Rapport is the one implementation; features type their `core` with this protocol because app imports
every feature and they cannot import it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.ports import Clock, Matchers, Outbound, Store


@dataclass
class Activity:
    """What this process sent, as plain counts an adapter may export (metrics); never ids or text."""

    rounds_sent: int = 0  # coffee rounds whose groups were told
    nudges_sent: int = 0  # nudges delivered


class Core(Protocol):
    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def outbound(self) -> Outbound: ...
    @property
    def activity(self) -> Activity: ...
    @property
    def matchers(self) -> Matchers: ...
