"""Member-written text: plain text in (`plain_text`: pasted mentions and links flattened to what they read as),
neutral text out (`shown`: nothing a renderer could turn into a ping, a link or markup that escapes its line)."""

from __future__ import annotations

import re

_ANGLE = re.compile(r"<([^<>\n]{1,300})>")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*([^)\s]*)\s*\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


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
    """What we store: markup flattened to what it reads as, control characters dropped, spacing tidied."""
    text = _CONTROL.sub("", value.replace("\r\n", "\n"))
    text = _ANGLE.sub(_flatten, text)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) else m.group(1), text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def has_markup(value: str) -> bool:
    """Whether plain_text would flatten a mention or a link in it (the profile form then says what it kept)."""
    return bool(_ANGLE.search(value) or _MD_LINK.search(value))


def shown(value: str) -> str:
    """Member-written text made inert for any renderer: no mentions, no links, no markup that escapes its line."""
    text = value.replace("<", "‹").replace(">", "›")  # nothing can form <@U1>, <!channel> or <url|label>
    text = text.replace("@", "@\u200b")  # @everyone, @here, @channel stay text on every platform
    text = text.replace("](", "] (").replace("`", "'")
    return " ".join(text.split())
