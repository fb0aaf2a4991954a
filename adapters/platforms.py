"""`rapport run`: Slack and Discord side by side in one process, over one core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.bootstrap import bootstrap
from bot.profiles import matchers
from bot.scheduling import start_ticker
from bot.settings import load_settings

log = logging.getLogger(__name__)


def configured_platforms() -> list[str]:
    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings

    found = []
    if SlackSettings().configured:
        found.append("slack")
    if DiscordSettings().configured:
        found.append("discord")
    return found


async def run_platforms() -> None:
    core = await bootstrap(load_settings())
    runs: list[Coroutine[Any, Any, None]] = []
    platforms = configured_platforms()
    if "slack" in platforms:
        from adapters.slack.app import run_slack
        from adapters.slack.settings import SlackSettings

        runs.append(run_slack(core, SlackSettings()))
    if "discord" in platforms:
        from adapters.discord.bot import run_discord
        from adapters.discord.settings import DiscordSettings

        runs.append(run_discord(core, DiscordSettings()))
    log.info("starting %s", " and ".join(platforms))
    scheduler = start_ticker(core.ticker)  # coffee rounds, nudges, retention: claimed once across processes
    warm = asyncio.create_task(matchers.aget())  # load the model now, not on someone's first /rapport starters
    try:
        await asyncio.gather(*runs)
    finally:
        scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        warm.cancel()
        await core.store.close()
