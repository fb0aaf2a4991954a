"""A pair's tie in brief, as the workspace-wide figures for leads read it (bot/insight/): the two members, the
answers each way and their first contact. Every summarised pair had a contact or a question, so it is a tie."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class PairSummary(NamedTuple):
    # A tuple rather than a frozen dataclass: a workspace of 5,000 members has about 100,000 of these, and
    # building dataclasses for them costs as much as the query that reads them.
    a: str  # a < b
    b: str
    answered_ab: int  # questions a put to b that b answered
    answered_ba: int
    first_contact: datetime | None  # None: questions only, no contact recorded
