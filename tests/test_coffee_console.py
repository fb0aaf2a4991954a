"""Issue 15, as a member hits it in the console workspace: coffee DMs, introductions and their wording."""

from __future__ import annotations

import re
from typing import Any

from tests.test_console import _console, _said


async def test_pairing_dm_starters_are_questions_you_would_ask(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob /rapport profile")
    await _said(session, out, '@bob form behaviour="sourdough baking, chess" capability=Kubernetes')
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for who in ("alice", "bob", "dave"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    dms = await _said(session, out, "+1d")
    asks = re.findall(r"  Ask @(\w+)\n((?:    - .*\n?)+)", dms)
    assert asks, dms
    for _, block in asks:
        for line in block.strip().splitlines():
            ask = line.strip().removeprefix("- ").split(" _(")[0]
            assert ask.endswith("?") and re.search(r"\byou\b|\byour\b", ask), line
            assert not re.search(r"\b(they|them|their)\b", ask), line
    about_bob = [block for name, block in asks if name == "Bob"]
    assert about_bob and all(re.search(r"sourdough|chess|Kubernetes", b) for b in about_bob), dms
    # Varied: the questions for different people are not one fixed list.
    assert len({block for _, block in asks}) > 1
