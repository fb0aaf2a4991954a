"""Member-written text: tidied on the way in (`tidy`: control characters dropped, spacing evened out; platform
markup was already turned into plain text by the adapter, adapters/markup.py), neutral on the way out (`shown`:
nothing a renderer could turn into a ping, a link or markup that escapes its line)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def tidy(value: str) -> str:
    """What we store: control characters and invisible direction marks dropped, spacing tidied, no empty lines."""
    text = _CONTROL.sub("", value.replace("\r\n", "\n"))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def shown(value: str) -> str:
    """Member-written text made inert for any renderer: no mentions, no links, no markup that escapes its line."""
    text = value.replace("<", "‹").replace(">", "›")  # nothing can form <@U1>, <!channel> or <url|label>
    text = text.replace("@", "@\u200b")  # @everyone, @here, @channel stay text on every platform
    text = text.replace("](", "] (").replace("`", "'")
    return " ".join(text.split())
