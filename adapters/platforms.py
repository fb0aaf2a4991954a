"""`rapport run`: Slack and Discord side by side in one process, over one core."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from adapters.bootstrap import bootstrap
from adapters.settings import load_settings
from bot.scheduling import start_ticker

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_WITHIN = 20.0  # seconds from a stop signal to exit for storing what was taken (Docker waits 10 s by default,
# then kills: set `stop_grace_period: 30s`; systemd waits 90 s)


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
    """Serve until a platform fails to start (PlatformError) or SIGTERM / SIGINT: then stop taking requests, store
    what was already taken (at most STOP_WITHIN seconds) and return, so the process exits 0."""
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
    if "slack" not in platforms:  # Slack's HTTP server carries them otherwise, in Socket Mode too
        from adapters.ops import ServerSettings, serve_ops

        runs.append(serve_ops(core, ServerSettings()))
    log.info("starting %s", " and ".join(platforms))
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    serving = [asyncio.ensure_future(run) for run in runs]
    stopping = asyncio.ensure_future(stop.wait())
    scheduler = start_ticker(core.ticker)  # coffee rounds, nudges, retention: claimed once across processes
    warm = asyncio.create_task(core.matchers.aget())  # load the model now, not on someone's first /rapport starters
    try:
        done, _ = await asyncio.wait([*serving, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopping}:
            task.result()  # a platform that could not start: its one-line error
        log.info("stopping: no new requests; storing what was taken")
    finally:
        deadline = loop.time() + STOP_WITHIN
        await core.ticker.stop()  # first: the scheduler's shutdown would cancel a tick halfway (a traceback)
        scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        for running in (*serving, stopping, warm):
            running.cancel()
        # Each platform closes itself: Slack stops listening, then finishes its requests; Discord closes normally.
        await asyncio.gather(*serving, return_exceptions=True)
        if await core.intake.drain(max(0.0, deadline - loop.time())):
            await core.intake.stop()  # logged by their ids
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        await core.store.close()
