"""Buttons and forms. The custom_id carries the core's neutral ids, so presses survive restarts and the core
sees ButtonPressed / FormSubmitted, never a View.

Buttons are DynamicItems ("rapport:<workspace>:<action_id>|<value>") registered in setup_hook on every start;
the core's action ids contain colons ("privacy:export"), so "|" separates the value.
Forms are modals whose submissions are read from the interaction itself (custom_id
"rapport-form:<workspace>:<form_id>"), so a form opened before a restart can still be submitted after it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.replies import Button, Form

log = logging.getLogger(__name__)

BUTTON_PREFIX = "rapport:"
FORM_PREFIX = "rapport-form:"
CUSTOM_ID_MAX = 100
BUTTONS_MAX = 25  # five rows of five
MODAL_ITEMS_MAX = 5  # Discord's limit of components in a modal, text included
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


def button_id(workspace: str, action_id: str, value: str) -> str:
    # The workspace rides along because a press in a direct message arrives without a guild.
    return f"{BUTTON_PREFIX}{workspace}:{action_id}|{value}"


class RapportButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rapport:(?P<workspace>[0-9]+):(?P<action>[^|]+)\|(?P<value>.*)",
):
    """A button of any Reply; pressing it is routed by the client to the core (see client.RapportClient)."""

    def __init__(self, workspace: str, action_id: str, value: str, label: str = "", style: str | None = None) -> None:
        self.workspace = workspace
        self.action_id = action_id
        self.value = value
        super().__init__(discord.ui.Button(
            label=label[:80] or None, style=_STYLES.get(style or "", discord.ButtonStyle.secondary),
            custom_id=button_id(workspace, action_id, value),
        ))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RapportButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["workspace"], match["action"], match["value"], label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        await client.on_button(interaction, self.workspace, self.action_id, self.value)  # type: ignore[attr-defined]


def buttons_view(workspace: str, buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """A persistent view (timeout=None, every item a DynamicItem: nothing kept in memory per message)."""
    view = discord.ui.View(timeout=None)
    for button in buttons:
        if len(view.children) == BUTTONS_MAX:
            log.warning("reply has more than %d buttons: the rest are not shown", BUTTONS_MAX)
            break
        if len(button_id(workspace, button.action_id, button.value)) > CUSTOM_ID_MAX or "|" in button.action_id:
            log.warning("button %s does not fit a Discord custom_id: not shown", button.action_id)
            continue
        view.add_item(RapportButton(workspace, button.action_id, button.value, button.label, button.style))
    return view if view.children else None


def form_modal(workspace: str, form: Form) -> discord.ui.Modal:
    custom_id = f"{FORM_PREFIX}{workspace}:{form.form_id}"[:CUSTOM_ID_MAX]
    modal = discord.ui.Modal(title=form.title[:45], custom_id=custom_id)
    fields = form.fields[:MODAL_ITEMS_MAX]
    # The note (who can see the answers) takes one of Discord's five places when there is room; otherwise its
    # first sentence becomes the first field's description, so the form still says it.
    lead = ""
    if form.note and len(fields) < MODAL_ITEMS_MAX:
        modal.add_item(discord.ui.TextDisplay(form.note[:4000]))
    elif form.note:
        lead = form.note.split(". ")[0].rstrip(".") + "."
    for n, field in enumerate(fields):
        hint = lead if n == 0 and lead else field.hint
        modal.add_item(discord.ui.Label(
            text=field.label[:45],
            description=hint[:100] or None,
            component=discord.ui.TextInput(
                custom_id=field.name,
                style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
                default=field.value[:4000] or None,
                max_length=min(field.max_length, 4000),
                required=False,
            ),
        ))
    # Submissions are handled from the raw interaction (see module docstring): keep the modal out of
    # discord.py's view store, where same-named modals of different members would replace each other.
    modal.stop()
    return modal


def submitted_form(data: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """(workspace, form_id, values) of a modal submission of ours, else None."""
    custom_id = str(data.get("custom_id", ""))
    workspace, _, form_id = custom_id.removeprefix(FORM_PREFIX).partition(":")
    if not custom_id.startswith(FORM_PREFIX) or not workspace.isdigit() or not form_id:
        return None
    values: list[tuple[str, str]] = []

    def walk(components: list[Any]) -> None:
        for component in components:
            if "value" in component and "custom_id" in component:
                values.append((str(component["custom_id"]), str(component["value"])))
            walk(component.get("components", []))
            if isinstance(component.get("component"), dict):
                walk([component["component"]])

    walk(data.get("components", []))
    return workspace, form_id, tuple(values)
