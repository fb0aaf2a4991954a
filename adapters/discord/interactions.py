"""Answering an interaction with the core's Reply: at once when the core is quick, else deferred and followed up.

Discord drops an interaction that gets no initial response within 3 seconds; follow-ups may come for 15 minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import discord

from adapters.discord.render import message
from adapters.discord.views import form_modal
from bot.replies import Reply

log = logging.getLogger(__name__)

QUICK = 2.0  # seconds to wait for the core before deferring; leaves a margin under Discord's 3
FAILED = Reply("Something went wrong on Rapport's side. Please try again in a moment.")
TOO_SLOW_FOR_FORM = Reply("That took too long to open the form. Please try again.")


async def _core(work: Awaitable[Reply | None], what: str) -> Reply | None:
    try:
        return await work
    except Exception:
        # The core's exceptions carry ids only (event text is excluded from repr), so the traceback is safe to log.
        log.exception("core failed on %s", what)
        return FAILED


async def answer(interaction: discord.Interaction, workspace: str, work: Awaitable[Reply | None], what: str) -> None:
    """Run the core's work and show its reply; None means nothing to show (the press is just acknowledged)."""
    task = asyncio.ensure_future(_core(work, what))
    try:
        reply = await asyncio.wait_for(asyncio.shield(task), QUICK)
    except TimeoutError:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await follow_up(interaction, workspace, await task)
        return
    if reply is None:
        await interaction.response.defer()
    elif reply.form is not None:
        await interaction.response.send_modal(form_modal(workspace, reply.form))
    else:
        await interaction.response.send_message(**message(reply, workspace), ephemeral=reply.ephemeral)


async def follow_up(interaction: discord.Interaction, workspace: str, reply: Reply | None) -> None:
    """After a deferral. The deferral was ephemeral, so the follow-up is too."""
    if reply is None:
        await interaction.delete_original_response()
        return
    if reply.form is not None:
        log.warning("form %s came after the interaction was deferred: cannot open it", reply.form.form_id)
        reply = TOO_SLOW_FOR_FORM
    await interaction.followup.send(**message(reply, workspace), ephemeral=True)
