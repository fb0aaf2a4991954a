"""Platform markup in what members write, turned into the plain text it reads as before the core sees it.

Slack and Discord send a pasted mention as `<@U123|ana>`, a channel as `<#C1|general>`, `<!here>`, a link as
`<https://x|label>` or `[label](https://x)`, a custom emoji as `<:party:123>`. Stored as they came, they would
ping, link or render when shown again; flattened here, the core only ever holds neutral text (and says so, from
FormSubmitted.flattened, when it changed what someone typed)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ANGLE = re.compile(r"<([^<>\n]{1,300})>")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*([^)\s]*)\s*\)")


def _flatten(match: re.Match[str]) -> str:
    """A Slack/Discord markup token as the plain text a reader would see."""
    body = match.group(1)
    target, _, label = body.partition("|")
    if target[:1] == "@" or target[:2] == "#C" or target[:1] == "#":
        return label if label.startswith(("@", "#")) else (target[0] + label if label else target.replace("!", ""))
    if target.startswith("!"):  # <!channel>, <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    if target.startswith(("http://", "https://", "mailto:")):
        return f"{label} ({target})" if label else target
    if re.fullmatch(r"a?:\w+:\d+", target):  # Discord custom emoji
        return ":" + target.split(":")[-2] + ":"
    if re.fullmatch(r"t:\d+(?::\w)?", target):  # Discord timestamp
        return target
    return match.group(0)


def plain_text(value: str) -> str:
    """Mentions, channels, links and custom emoji as what they read as."""
    text = _ANGLE.sub(_flatten, value)
    return _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) else m.group(1), text)


def form_values(values: Iterable[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """A form's values in plain text, and the names of the fields that held markup."""
    given = tuple(values)
    plain = tuple((name, plain_text(value)) for name, value in given)
    changed = frozenset(name for (name, value), (_, text) in zip(given, plain, strict=True) if text != value)
    return plain, changed
