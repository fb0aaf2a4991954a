"""A running Rapport Discord client against the local fake Discord, over the real core and the SQL store."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.bot import attach, run
from adapters.discord.client import RapportClient
from adapters.discord.settings import DiscordSettings
from bot.app import Rapport
from bot.commands import Router
from bot.outbound import Outbounds
from storage.store import SqlStore
from tests.discord.fake_discord import APP_ID, TOKEN, FakeDiscord, Guild, member, snowflake, user
from tests.fakes import FakeClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1100000000000000001, 1100000000000000002
CHAT, OTHER_CHAT = 1110000000000000001, 1110000000000000002
ANA, BOB, CID, DEE = 1200000000000000001, 1200000000000000002, 1200000000000000003, 1200000000000000004
NAMES = {ANA: "ana", BOB: "bob", CID: "cid", DEE: "dee"}


class Harness:
    def __init__(self, fake: FakeDiscord, store: SqlStore, settings: DiscordSettings) -> None:
        self.fake = fake
        self.store = store
        self.settings = settings
        self.clock = FakeClock()
        self.ids = itertools.count(1)
        self.core: Rapport
        self.client: RapportClient
        self._task: asyncio.Task[None] | None = None
        self.features: list[Callable[[Router], None]] = []  # extra core features, registered at every start

    async def start(self) -> None:
        """A new process: a fresh core over the same database, a fresh client."""
        self.core = Rapport(self.store, self.clock, Outbounds())
        for register in self.features:
            register(self.core.router)
        self.client = attach(self.core, self.settings, guild_ready_timeout=0.05)
        self._task = asyncio.create_task(run(self.client, TOKEN))
        ready = asyncio.create_task(self.client.wait_until_ready())
        await asyncio.wait({self._task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            self._task.result()  # the failure to start
        assert ready.done(), "the client did not get ready"

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def send(self, event: str, *data: dict[str, Any]) -> None:
        await self.fake.send(event, *data)
        await self.client.drain()

    def message_payload(self, author: int, minutes: float, text: str, guild: int = GUILD, channel: int = CHAT,
                        reply_to: int | None = None, mentions: tuple[int, ...] = (), **extra: Any) -> dict[str, Any]:
        at = T0 + timedelta(minutes=minutes)
        data: dict[str, Any] = {
            "id": str(snowflake(at, next(self.ids))), "channel_id": str(channel), "guild_id": str(guild),
            # Members as Discord sends them: discord.py drops a member without "flags" (and with it every mention)
            "author": user(author, NAMES.get(author, "someone")),
            "member": {"roles": [], "joined_at": at.isoformat(), "deaf": False, "mute": False, "flags": 0},
            "content": text, "timestamp": at.isoformat(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mention_roles": [], "attachments": [], "embeds": [], "pinned": False,
            "type": 0, "flags": 0, "components": [],
            "mentions": [{**user(u, NAMES.get(u, "someone")), "member": {
                "roles": [], "joined_at": at.isoformat(), "deaf": False, "mute": False, "flags": 0}} for u in mentions],
        }
        if reply_to is not None:
            data["type"] = 19
            data["message_reference"] = {"message_id": str(reply_to), "channel_id": str(channel),
                                         "guild_id": str(guild)}
        return {**data, **extra}

    async def post(self, author: int, minutes: float, text: str, **kw: Any) -> int:
        data = self.message_payload(author, minutes, text, **kw)
        await self.send("MESSAGE_CREATE", data)
        return int(data["id"])

    def interaction(self, kind: int, data: dict[str, Any], by: int, guild: int | None = GUILD, channel: int = CHAT,
                    permissions: Any = None, message: dict[str, Any] | None = None) -> dict[str, Any]:
        from tests.discord.fake_discord import EVERYONE_PERMISSIONS

        payload: dict[str, Any] = {
            "id": str(snowflake(T0, 500000 + next(self.ids))), "application_id": str(APP_ID), "type": kind,
            "token": f"interaction-token-{next(self.ids)}", "version": 1, "data": data, "locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild or 0)}, "attachment_size_limit": 0,
            "app_permissions": "0",
        }
        if guild is None:
            dm = 1400000000000000000 + by % 1000
            payload.update(channel_id=str(dm), channel={"id": str(dm), "type": 1}, context=1,
                           user=user(by, NAMES.get(by, "someone")))
        else:
            payload.update(guild_id=str(guild), channel_id=str(channel), context=0,
                           channel={"id": str(channel), "type": 0, "guild_id": str(guild), "name": "chat",
                                    "position": 0, "permission_overwrites": []},
                           member=member(by, NAMES.get(by, "someone"), permissions or EVERYONE_PERMISSIONS))
        if message is not None:
            payload["message"] = message
        return payload

    def command(self, sub: str, by: int, options: dict[str, int] | None = None, **kw: Any) -> dict[str, Any]:
        opts = [{"name": name, "type": 6, "value": str(uid)} for name, uid in (options or {}).items()]
        resolved = {
            "users": {str(uid): user(uid, NAMES[uid]) for uid in (options or {}).values()},
            "members": {str(uid): {k: v for k, v in member(uid, NAMES[uid]).items() if k != "user"}
                        for uid in (options or {}).values()},
        }
        data = {"id": "1", "name": "rapport", "type": 1, "options": [{"name": sub, "type": 1, "options": opts}],
                "resolved": resolved}
        return self.interaction(2, data, by, **kw)

    def responses(self) -> list[dict[str, Any]]:
        """Bodies of the initial interaction responses so far, in order."""
        return [r.body for r in self.fake.sent(r"/interactions/\d+/[^/]+/callback")]


def ws_settings(**overrides: Any) -> DiscordSettings:
    """Each call its own place for the commands' hash, so every test's first start registers them."""
    state = Path(tempfile.mkdtemp(prefix="rapport-discord-")) / "commands"
    return DiscordSettings(**{"DISCORD_BOT_TOKEN": TOKEN, "RAPPORT_DISCORD_COMMANDS_STATE": state, **overrides})


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    server.point_discord_py_here(monkeypatch)
    server.guilds[GUILD] = Guild(GUILD, "Team", [CHAT], {ANA: "ana", BOB: "bob", CID: "cid"})
    server.guilds[OTHER_GUILD] = Guild(OTHER_GUILD, "Elsewhere", [OTHER_CHAT], {DEE: "dee", ANA: "ana"})
    yield server
    await server.stop()


@pytest.fixture
async def discord_bot(fake: FakeDiscord, sql_store: SqlStore) -> AsyncIterator[Harness]:
    harness = Harness(fake, sql_store, ws_settings())
    await harness.start()
    yield harness
    await harness.stop()
