"""Our replies as Block Kit: messages, modals (from bot.replies.Form) and the App Home view.

Slack's limits shape this: 50 blocks a message, 3000 characters a text, 10 fields a section, 25 elements an
actions block, unique action_ids within a block. A button's action_id is ours plus `#n`, so that two buttons
with the same action (different values) can share a block; action_of() strips it again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.replies import Button, Form, Reply, Section

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_FIELDS = 10
SHORT_LINE = 40  # lines this short read well as two-column fields
FORM_CALLBACK = "rapport_form"
_SUFFIX = re.compile(r"#\d+$")

Block = dict[str, Any]


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text or " ")}


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text or " ", limit), "emoji": True}


def section_blocks(section: Section) -> list[Block]:
    """A section as few blocks as hold it, split between lines: cut at 3000 characters, a long list would lose
    its last lines (and maybe a mention cut in half), where Discord shows them in further fields."""
    title = f"*{section.title}*"
    lines = section.lines
    if lines and len(lines) <= MAX_FIELDS and all(len(line) <= SHORT_LINE for line in lines):
        return [{"type": "section", "text": _mrkdwn(title), "fields": [_mrkdwn(line) for line in lines]}]
    texts = [title]
    for line in map(_clip, lines):
        if len(texts[-1]) + 1 + len(line) > MAX_TEXT:
            texts.append(line)
        else:
            texts[-1] += "\n" + line
    return [{"type": "section", "text": _mrkdwn(text)} for text in texts]


def button(b: Button, index: int) -> Block:
    element: Block = {"type": "button", "text": _plain(b.label), "action_id": f"{b.action_id[:240]}#{index}"}
    if b.value:
        element["value"] = b.value[:2000]
    if b.style:
        element["style"] = b.style
    return element


def action_of(action_id: str) -> str:
    return _SUFFIX.sub("", action_id)


def reply_blocks(reply: Reply, limit: int = MAX_BLOCKS) -> list[Block]:
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(reply.text)}]
    for section in reply.sections:
        blocks.extend(section_blocks(section))
    buttons = [button(b, i) for i, b in enumerate(reply.buttons)]
    actions: list[Block] = [{"type": "actions", "elements": buttons[start:start + 25]}
                            for start in range(0, len(buttons), 25)]
    # A long answer is cut, its buttons are not: they are what the member acts on (the map under a long list).
    if len(blocks) + len(actions) > limit:
        blocks = [*blocks[: limit - len(actions) - 1], {"type": "context", "elements": [_mrkdwn("…and more")]}]
    return [*blocks, *actions]


def message(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / chat.postEphemeral / respond(); `text` is the notification fallback."""
    return {"text": _clip(reply.text), "blocks": reply_blocks(reply)}


def modal(form: Form, channel: str) -> dict[str, Any]:
    blocks: list[Block] = []
    for field in form.fields:
        element: Block = {"type": "plain_text_input", "action_id": "value", "multiline": field.multiline,
                          "max_length": field.max_length}
        if field.value:
            element["initial_value"] = field.value
        block: Block = {"type": "input", "block_id": field.name, "optional": True,
                        "label": _plain(field.label, 2000), "element": element}
        if field.hint:
            block["hint"] = _plain(field.hint, 2000)
        blocks.append(block)
    if form.note:
        blocks.append({"type": "context", "elements": [_mrkdwn(form.note)]})
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": json.dumps({"form_id": form.form_id, "channel": channel}),
        "title": _plain(form.title, 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks,
    }


def modal_result(reply: Reply, channel: str) -> dict[str, Any]:
    """What the modal shows after a submission: the core's answer, and a Close button. It remembers the form's
    channel for a button in the answer: a press inside a modal names no channel."""
    return {"type": "modal", "title": _plain("Rapport", 24), "close": _plain("Close", 24),
            "private_metadata": json.dumps({"channel": channel}), "blocks": reply_blocks(reply)}


def view_channel(view: dict[str, Any]) -> str:
    """The channel a modal (a form, or its result) was opened from."""
    return str(json.loads(view.get("private_metadata") or "{}").get("channel", ""))


def form_submission(view: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(form_id, channel, values) from a view_submission's view."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = tuple(
        (name, (state.get("value") or {}).get("value") or "")
        for name, state in ((view.get("state") or {}).get("values") or {}).items()
    )
    return meta.get("form_id", ""), view_channel(view), values


def home(reply: Reply) -> dict[str, Any]:
    header: Block = {"type": "header", "text": _plain("Rapport", 150)}
    footer: Block = {"type": "context", "elements": [_mrkdwn("Type `/rapport help` in any channel for more.")]}
    return {"type": "home", "blocks": [header, *reply_blocks(reply, MAX_BLOCKS - 2), footer]}
