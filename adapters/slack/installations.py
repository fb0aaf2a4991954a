"""Where bot tokens come from: one workspace's SLACK_BOT_TOKEN, or OAuth installs kept in our database.

The OAuth tables are slack_sdk's own (storage/migrations/versions/0002_slack.py creates them), read and written
by its AsyncSQLAlchemy stores. Bolt deletes a workspace's rows on tokens_revoked / app_uninstalled; from then on
bot_token() finds nothing and no call goes out for that workspace.

Token rotation (the app's "token_rotation_enabled"): Slack then issues bot tokens that expire after 12 hours with
a refresh token. Bolt's authorize refreshes them for incoming requests; scheduled sends (rounds, nudges) never go
through a request, so bot_token() refreshes an expiring token itself, with slack_sdk's rotator, and saves it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore, SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from sqlalchemy import and_, desc
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.sealing import Sealer

log = logging.getLogger(__name__)

STATE_TTL = 600  # seconds an install link stays valid
# Seconds a found installation is reused without asking the database: every Slack request is authorised
# through it. Deleting an installation clears this process's copy at once; another process's copy lives
# this long at most, and Slack stops sending events for an uninstalled app anyway.
INSTALLATION_TTL = 30.0
_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
# Minutes before expiry a rotating token is refreshed: Bolt's default for requests, so both paths agree.
ROTATE_BEFORE = 120
_TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")  # Slack team ids; Discord's are numeric, the console's are names


class Tokens(Protocol):
    def owns(self, team_id: str) -> bool: ...
    async def bot_token(self, team_id: str) -> str | None: ...
    def revoke(self, team_id: str) -> None: ...
    def learn(self, team_id: str, enterprise_id: str | None, org_wide: bool) -> None: ...


@dataclass
class SingleWorkspace:
    """SLACK_BOT_TOKEN: the workspace is whatever auth.test says the token belongs to."""

    team_id: str
    token: str
    revoked: bool = False

    def owns(self, team_id: str) -> bool:
        return team_id == self.team_id

    async def bot_token(self, team_id: str) -> str | None:
        return self.token if team_id == self.team_id and not self.revoked else None

    def revoke(self, team_id: str) -> None:
        if team_id == self.team_id:
            self.revoked = True

    def learn(self, team_id: str, enterprise_id: str | None, org_wide: bool) -> None:
        """One token: nothing to look up."""


class CachedInstallations(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy store with lookups kept briefly in memory, so an ack needs no database trip.

    Misses are not kept: a workspace installed through another process is found on its first event.
    """

    def __init__(self, store: AsyncSQLAlchemyInstallationStore, sealer: Sealer,
                 ttl: float = INSTALLATION_TTL) -> None:
        self.store = store
        self.sealer = sealer
        self.ttl = ttl
        self._found: dict[tuple[Any, ...], tuple[float, Any]] = {}

    @property
    def logger(self) -> Any:
        return self.store.logger

    def _forget(self, team_id: str | None) -> None:
        for key in [k for k in self._found if k[2] == team_id]:
            del self._found[key]

    async def _cached(self, key: tuple[Any, ...], find: Any) -> Any:
        hit = self._found.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        found = self._sealed(await find(), seal=False)
        if found is not None:
            self._found[key] = (time.monotonic(), found)
        return found

    def _sealed(self, found: Any, seal: bool) -> Any:
        """A copy with its tokens sealed (to save) or opened (as found): tokens never rest in clear."""
        if found is None:
            return None
        found = copy.copy(found)
        for name in _TOKEN_FIELDS:
            if getattr(found, name, None):
                setattr(found, name, (self.sealer.seal if seal else self.sealer.open)(getattr(found, name)))
        return found

    async def async_save(self, installation: Installation) -> None:
        self._forget(installation.team_id)
        await self.store.async_save(self._sealed(installation, seal=True))

    async def async_save_bot(self, bot: Bot) -> None:
        self._forget(bot.team_id)
        await self.store.async_save_bot(self._sealed(bot, seal=True))

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await self._cached(
            ("bot", enterprise_id, team_id, is_enterprise_install),
            lambda: self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                              is_enterprise_install=is_enterprise_install))

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        return await self._cached(
            ("installation", enterprise_id, team_id, user_id, is_enterprise_install),
            lambda: self.store.async_find_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                                       is_enterprise_install=is_enterprise_install))

    async def find_team_bot(self, team_id: str) -> Bot | None:
        """A workspace's bot, in whichever Enterprise Grid org it is (slack_sdk finds by enterprise and team,
        and the core knows a workspace by its team id alone)."""
        store = self.store
        bots = store.bots.c

        async def find() -> Bot | None:
            query = store.bots.select().where(and_(
                bots.client_id == store.client_id, bots.team_id == team_id, bots.bot_token.is_not(None),
            )).order_by(desc(bots.installed_at)).limit(1)
            async with store.engine.connect() as connection:
                row = (await connection.execute(query)).mappings().first()
            return None if row is None else SQLAlchemyInstallationStore.build_bot_entity(row)

        return await self._cached(("team bot", None, team_id), find)  # type: ignore[no-any-return]

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._forget(team_id)
        await self.store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        self._forget(team_id)
        await self.store.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


@dataclass
class Installed:
    store: CachedInstallations
    # Refreshes rotating tokens (None: the app's tokens never expire, or no client secret to refresh them with).
    rotator: AsyncTokenRotator | None = None
    # team -> (enterprise id, installed org-wide), as Slack's requests say. An org-wide install has no row per
    # workspace, so its workspaces are found through this once one of their requests has come in.
    orgs: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # One refresh per workspace at a time: a refresh token spent twice at once would leave one caller with an
    # answer Slack may already have superseded.
    _refreshing: dict[str, asyncio.Lock] = field(default_factory=dict)

    def owns(self, team_id: str) -> bool:
        return bool(_TEAM_ID.match(team_id))

    def learn(self, team_id: str, enterprise_id: str | None, org_wide: bool) -> None:
        if team_id and enterprise_id:
            self.orgs[team_id] = (enterprise_id, org_wide)

    async def bot_token(self, team_id: str) -> str | None:
        async with self._refreshing.setdefault(team_id, asyncio.Lock()):
            bot = await self._find(team_id)
            if bot is not None and self.rotator is not None and bot.bot_refresh_token:
                try:
                    refreshed = await self.rotator.perform_bot_token_rotation(
                        bot=bot, minutes_before_expiration=ROTATE_BEFORE)
                except SlackTokenRotationError as error:
                    # The token in hand may still have hours to live: use it; if it has expired, the call fails
                    # as any call with a bad token does, and the next send tries the refresh again.
                    log.warning("Slack token refresh for workspace %s failed (%s)", team_id,
                                error.api_error.response.get("error") if error.api_error else "?")
                    refreshed = None
                if refreshed is not None:
                    await self.store.async_save_bot(refreshed)
                    bot = refreshed
        return bot.bot_token if bot else None

    async def _find(self, team_id: str) -> Bot | None:
        bot = None
        if team_id in self.orgs:
            enterprise_id, org_wide = self.orgs[team_id]
            bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                                  is_enterprise_install=org_wide)
        return bot or await self.store.find_team_bot(team_id)

    def revoke(self, team_id: str) -> None:
        """Nothing to do: the rows are gone, and every send looks them up."""


def installation_store(engine: AsyncEngine, client_id: str, sealer: Sealer) -> CachedInstallations:
    return CachedInstallations(AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine), sealer)


def state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_TTL, engine=engine)
