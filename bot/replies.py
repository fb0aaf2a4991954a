"""What the core answers. Each adapter renders these: Block Kit, Discord embeds and views, console text.

Text is light markdown (*bold*, _italic_) and refers to people as `<@USER_ID>`, which Slack and Discord render
natively and the console renders as @name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str  # routed back to the core as ButtonPressed.action_id
    value: str = ""
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    max_length: int = 300
    multiline: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A modal form (Slack modal, Discord modal, console prompts); submitting it yields FormSubmitted."""

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    note: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file for the member only (a data export): an upload on Slack and Discord, a file on the console."""

    filename: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class GroupConversation:
    """Where a group's message went: the platform's conversation (kept with the group, so that its check-in goes to
    the same place after a restart) and the members it reached. Nothing reached: the platform has no such
    conversation or refused it, and the core DMs each member."""

    id: str | None = None
    reached: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    form: Form | None = None
    ephemeral: bool = True  # personal replies are seen only by the person who asked
    attachment: Attachment | None = None

    def plain(self) -> str:
        """The whole reply as plain text, for logs of what was shown (never of what members wrote)."""
        parts = [self.text]
        for section in self.sections:
            parts.append(section.title)
            parts.extend(f"  {line}" for line in section.lines)
        return "\n".join(parts)


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 nudge", "3 nudges": a count with its noun in the right number."""
    return f"{count} {word if count == 1 else many or word + 's'}"
