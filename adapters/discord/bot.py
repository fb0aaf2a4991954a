"""`run_discord`: the Discord adapter's entry point for `rapport run`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import discord

from adapters import PlatformError
from adapters.discord.client import RapportClient
from adapters.discord.settings import DiscordSettings
from bot.app import Rapport

log = logging.getLogger(__name__)

BAD_TOKEN = ("Discord rejected DISCORD_BOT_TOKEN: copy the bot's token from the Developer Portal "
             "(your application > Bot > Reset Token) into .env.")
INTENTS_OFF = ("Discord refused the Message Content intent: enable it in the Developer Portal (your application > "
               "Bot > Privileged Gateway Intents > Message Content Intent), or set RAPPORT_DISCORD_MESSAGE_CONTENT="
               "false to run without message text.")


def attach(core: Rapport, settings: DiscordSettings, **options: Any) -> RapportClient:
    """A client over the core, its outbound registered so the core can reach Discord members and channels."""
    client = RapportClient(core, settings, **options)
    add = getattr(core.outbound, "add", None)
    if add is None:
        log.warning("Discord: the core's outbound takes no platforms: messages it sends on its own won't reach "
                    "Discord")
    else:
        add(client.outbound)
    return client


@contextmanager
def _what_went_wrong(doing: str) -> Iterator[None]:
    """Start-up failures a user can fix, as PlatformError with what to do about them."""
    try:
        yield
    except discord.LoginFailure:
        raise PlatformError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise PlatformError(INTENTS_OFF) from None
    except (aiohttp.ClientError, OSError) as error:
        raise PlatformError(f"Cannot reach Discord ({type(error).__name__}): check the network.") from None
    except discord.HTTPException as error:
        raise PlatformError(f"Discord answered {error.status} {doing}.") from None


async def run(client: RapportClient, token: str) -> None:
    """Connect and serve until cancelled."""
    with _what_went_wrong("while starting: try again later"):
        async with client:
            await client.start(token)


async def sync_commands(core: Rapport, settings: DiscordSettings) -> str:
    """Register the commands with Discord now, changed or not (`rapport discord sync`): logs in over HTTP only,
    no gateway. Says where they were registered."""
    if not settings.configured:
        raise PlatformError("Discord is not configured: set DISCORD_BOT_TOKEN")
    client = RapportClient(core, settings, force_sync=True)
    with _what_went_wrong("while registering the commands"):
        async with client:
            await client.login(settings.bot_token.get_secret_value())  # setup_hook registers them
    servers = ", ".join(str(g) for g in settings.guilds)
    return f"in servers {servers}" if servers else "globally (Discord may take up to an hour to show changes)"


async def run_discord(core: Rapport, settings: DiscordSettings) -> None:
    await run(attach(core, settings), settings.bot_token.get_secret_value())
