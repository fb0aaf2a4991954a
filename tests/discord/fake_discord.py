"""A local fake of Discord: the REST API under /api/v10 and a gateway websocket, on one aiohttp server.

discord.py's real HTTPClient and DiscordWebSocket talk to it (Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY
point here), so rate limiting, login, intents and dispatch all run the library's own code. The fake records
every request and can answer 429 (with Retry-After and the Via header Discord's edge sends) or refuse DMs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web

APP_ID = 1300000000000000001
BOT_ID = 1300000000000000002
TOKEN = "fake-bot-token"
PRIVILEGED = discord.Intents(members=True, presences=True, message_content=True).value
EVERYONE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True)


def snowflake(at: datetime, n: int = 0) -> int:
    """An id whose embedded time is `at`, as Discord's are (discord.py reads Message.created_at from it)."""
    return discord.utils.time_snowflake(at) + n


def thread(tid: int, parent: int, guild: int, owner: int) -> dict[str, Any]:
    return {"id": str(tid), "type": 11, "name": f"thread-{tid % 1000}", "parent_id": str(parent),
            "guild_id": str(guild), "owner_id": str(owner), "message_count": 0, "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                "archive_timestamp": "2025-01-01T00:00:00+00:00", "locked": False}}


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "global_name": name.capitalize(), "discriminator": "0",
            "avatar": None, "bot": bot}


def member(uid: int, name: str, permissions: discord.Permissions | None = None, bot: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"user": user(uid, name, bot), "roles": [], "joined_at": "2025-01-01T00:00:00+00:00",
                            "deaf": False, "mute": False, "flags": 0, "nick": None}
    if permissions is not None:
        data["permissions"] = str(permissions.value)
    return data


def message_problems(body: Any) -> list[str]:
    """Discord's limits on a message that our renderer must respect (a subset of what Discord enforces)."""
    if not isinstance(body, dict):
        return []
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content over 2000")
    embeds = body.get("embeds") or []
    total = 0
    for embed in embeds:
        fields = embed.get("fields") or []
        if len(embed.get("description") or "") > 4096:
            problems.append("description over 4096")
        if len(fields) > 25:
            problems.append("more than 25 fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append("empty field name or value")
            if len(f.get("name") or "") > 256 or len(f.get("value") or "") > 1024:
                problems.append("field over its limit")
        total += len(embed.get("title") or "") + len(embed.get("description") or "") + sum(
            len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    if total > 6000:
        problems.append("embeds over 6000 characters in all")
    return problems


@dataclass
class Guild:
    id: int
    name: str
    channels: list[int]
    members: dict[int, str]  # user id -> name
    threads: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel id
    managers: dict[int, tuple[int, ...]] = field(default_factory=dict)  # channel -> members allowed Manage Channels
    system_channel: int | None = None  # where Discord posts joins (and bots their greeting)
    bot_muted: tuple[int, ...] = ()  # channels where the bot is denied Send Messages

    def create_event(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "name": self.name, "unavailable": False, "owner_id": str(next(iter(self.members))),
            "member_count": len(self.members) + 1, "large": False, "features": [], "emojis": [], "stickers": [],
            "premium_tier": 0, "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "joined_at": "2025-01-01T00:00:00+00:00",
            "roles": [{"id": str(self.id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS.value),
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}],
            "channels": [{"id": str(c), "type": 0, "name": f"chat-{c % 1000}", "position": i,
                          "permission_overwrites": [
                              *({"id": str(uid), "type": 1, "deny": "0",
                                 "allow": str(discord.Permissions(manage_channels=True).value)}
                                for uid in self.managers.get(c, ())),
                              *([{"id": str(BOT_ID), "type": 1, "allow": "0",
                                  "deny": str(discord.Permissions(send_messages=True).value)}]
                                if c in self.bot_muted else [])],
                          "guild_id": str(self.id)}
                         for i, c in enumerate(self.channels)],
            "threads": [thread(t, p, self.id, next(iter(self.members))) for t, p in self.threads.items()],
            "members": [member(BOT_ID, "rapport", bot=True)],
            "system_channel_id": str(self.system_channel) if self.system_channel else None,
        }


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # after /api/v10
    body: Any
    status: int


class FakeDiscord:
    def __init__(self) -> None:
        self.guilds: dict[int, Guild] = {}
        self.requests: list[Request] = []
        self.identified: list[dict[str, Any]] = []
        self.closed_dms: set[int] = set()  # users whose privacy settings refuse DMs from the bot
        self.private_threads: dict[int, list[int]] = {}  # private thread the bot made -> members added to it
        self.thread_parents: dict[int, int] = {}  # private thread -> its channel
        self.no_private_threads: set[int] = set()  # channels where the bot lacks Create Private Threads
        self.not_addable: set[int] = set()  # members Discord refuses to add to a thread
        self.gone: set[int] = set()  # channels or threads deleted meanwhile: Discord answers 404 Unknown Channel
        self.rate_limit: dict[tuple[str, str], int] = {}  # (method, path regex) -> how many 429s to answer
        self.unavailable: dict[tuple[str, str], int] = {}  # (method, path regex) -> how many 503s to answer
        self.retry_after = 0.2
        self.refuse_privileged_intents = False
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._dm_channels: dict[int, int] = {}  # dm channel -> user
        self._socket: web.WebSocketResponse | None = None
        self.close_codes: list[int | None] = []  # how each client's gateway connection ended
        self._heartbeat: asyncio.Future[None] | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # Server lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def point_discord_py_here(self, monkeypatch: Any) -> None:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{self.url}/api/v10")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"{self.url}/gateway"))

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_json({"op": 11})
                if self._heartbeat and not self._heartbeat.done():
                    self._heartbeat.set_result(None)
            elif payload["op"] == 2:
                self.identified.append({k: v for k, v in payload["d"].items() if k != "token"})
                if self.refuse_privileged_intents and payload["d"]["intents"] & PRIVILEGED:
                    await socket.close(code=4014, message=b"Disallowed intent(s).")
                    break
                await self._dispatch(socket, "READY", {
                    "v": 10, "user": user(BOT_ID, "rapport", bot=True), "session_id": "session",
                    "resume_gateway_url": f"{self.url.replace('http', 'ws')}/gateway",
                    "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                    "application": {"id": str(APP_ID), "flags": 0},
                    **({"shard": payload["d"]["shard"]} if "shard" in payload["d"] else {}),
                })
                for guild in self.guilds.values():
                    await self._dispatch(socket, "GUILD_CREATE", guild.create_event())
        self.close_codes.append(socket.close_code)
        return socket

    async def _dispatch(self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await socket.send_json({"op": 0, "t": event, "s": next(self._sequence), "d": data})

    async def send(self, event: str, *data: dict[str, Any]) -> None:
        """Dispatch events back to back and wait until the client has read them (its reply to a heartbeat request
        follows)."""
        assert self._socket is not None, "no client connected"
        for each in data:
            await self._dispatch(self._socket, event, each)
        self._heartbeat = asyncio.get_running_loop().create_future()
        await self._socket.send_json({"op": 1, "d": None})
        await asyncio.wait_for(self._heartbeat, 5)

    # REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        status, data = self._answer(request, path, body)
        self.requests.append(Request(request.method, path, body, status))
        if status == 204:
            return web.Response(status=204)
        # discord.py decodes JSON only when the content type is exactly this (no charset)
        headers = {"Content-Type": "application/json"}
        if status == 429:
            headers.update({"Via": "1.1 google", "Retry-After": str(self.retry_after)})
        return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type != "multipart/form-data":
            return await request.json()
        body: dict[str, Any] = {"files": {}}
        async for part in await request.multipart():
            if part.name == "payload_json":
                body.update(json.loads(await part.text()))  # type: ignore[union-attr]
            else:
                body["files"][part.filename] = await part.read()  # type: ignore[union-attr]
        return body

    def _answer(self, request: web.Request, path: str, body: Any) -> tuple[int, Any]:
        for (method, pattern), left in self.unavailable.items():
            if left and method == request.method and re.fullmatch(pattern, path):
                self.unavailable[(method, pattern)] = left - 1
                return 503, {"message": "Service Unavailable", "code": 0}  # discord.py does not retry a 503
        for (method, pattern), left in self.rate_limit.items():
            if left and method == request.method and re.fullmatch(pattern, path):
                self.rate_limit[(method, pattern)] = left - 1
                return 429, {"message": "You are being rate limited.", "retry_after": self.retry_after,
                             "global": False}
        if request.headers.get("Authorization") not in (f"Bot {TOKEN}", None):
            return 401, {"message": "401: Unauthorized", "code": 0}
        route = f"{request.method} {path}"
        sent = (body or {}).get("data") if re.fullmatch(r"POST /interactions/\d+/[^/]+/callback", route) else body
        if request.method in ("POST", "PATCH") and (problems := message_problems(sent)):
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}
        if route == "GET /gateway/bot":  # AutoShardedClient asks how many shards to run
            return 200, {"url": f"{self.url.replace('http', 'ws')}/gateway", "shards": 1,
                         "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                 "max_concurrency": 1}}
        if route == "GET /users/@me":
            return 200, user(BOT_ID, "rapport", bot=True)
        if route == "GET /oauth2/applications/@me":
            return 200, {"id": str(APP_ID), "name": "Rapport", "icon": None, "description": "", "bot_public": False,
                         "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                         "owner": user(1300000000000000003, "owner"), "team": None}
        if match := re.fullmatch(r"PUT /applications/\d+(?:/guilds/(\d+))?/commands", route):
            return 200, [{**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1",
                          **({"guild_id": match[1]} if match[1] else {})} for c in body]
        if match := re.fullmatch(r"GET /guilds/(\d+)/members/(\d+)", route):
            guild, uid = self.guilds.get(int(match[1])), int(match[2])
            if guild is None or uid not in guild.members:
                return 404, {"message": "Unknown Member", "code": 10007}
            return 200, member(uid, guild.members[uid])
        if route == "POST /users/@me/channels":
            channel = 1400000000000000000 + next(self._ids)
            self._dm_channels[channel] = int(body["recipient_id"])
            return 200, {"id": str(channel), "type": 1, "recipients": [user(int(body["recipient_id"]), "someone")]}
        if match := re.fullmatch(r"POST /channels/(\d+)/threads", route):
            parent = int(match[1])
            if parent in self.no_private_threads:
                return 403, {"message": "Missing Permissions", "code": 50013}
            guild = next(g for g in self.guilds.values() if parent in g.channels)
            tid = 1500000000000000000 + next(self._ids)
            self.private_threads[tid] = []
            self.thread_parents[tid] = parent
            data = thread(tid, parent, guild.id, BOT_ID)
            return 201, {**data, "type": 12, "name": body["name"],
                         "thread_metadata": {**data["thread_metadata"], "invitable": body.get("invitable", True),
                                             "auto_archive_duration": body.get("auto_archive_duration", 1440)}}
        if match := re.fullmatch(r"PUT /channels/(\d+)/thread-members/(\d+)", route):
            tid, uid = int(match[1]), int(match[2])
            if tid not in self.private_threads:
                return 404, {"message": "Unknown Channel", "code": 10003}
            if uid in self.not_addable:
                return 403, {"message": "Missing Access", "code": 50001}
            if uid not in self.private_threads[tid]:
                self.private_threads[tid].append(uid)
            return 204, None
        if match := re.fullmatch(r"GET /channels/(\d+)", route):
            tid = int(match[1])
            if tid not in self.private_threads:
                return 404, {"message": "Unknown Channel", "code": 10003}
            parent = self.thread_parents[tid]
            guild = next(g for g in self.guilds.values() if parent in g.channels)
            return 200, {**thread(tid, parent, guild.id, BOT_ID), "type": 12, "name": "Virtual coffee"}
        if match := re.fullmatch(r"DELETE /channels/(\d+)", route):
            self.private_threads.pop(int(match[1]), None)
            return 200, {"id": match[1], "type": 12}
        if match := re.fullmatch(r"POST /channels/(\d+)/messages", route):
            channel = int(match[1])
            if channel in self.gone:
                return 404, {"message": "Unknown Channel", "code": 10003}
            if any(channel in g.bot_muted for g in self.guilds.values()):
                return 403, {"message": "Missing Permissions", "code": 50013}
            if self._dm_channels.get(channel) in self.closed_dms:
                return 403, {"message": "Cannot send messages to this user", "code": 50007}
            return 200, self.bot_message(channel, body)
        if re.fullmatch(r"POST /interactions/(\d+)/[^/]+/callback", route):
            return 200, {"interaction": {"id": path.split("/")[2], "type": 2}}
        if re.fullmatch(r"POST /webhooks/\d+/[^/]+", route):
            return 200, self.bot_message(0, body)
        if re.fullmatch(r"DELETE /webhooks/\d+/[^/]+/messages/@original", route):
            return 204, None
        return 404, {"message": "404: Not Found", "code": 0}

    def bot_message(self, channel: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(snowflake(datetime.now(UTC), next(self._ids))), "channel_id": str(channel),
                "author": user(BOT_ID, "rapport", bot=True), "content": body.get("content", ""),
                "embeds": body.get("embeds", []), "components": body.get("components", []),
                "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "pinned": False, "type": 0, "flags": body.get("flags", 0)}

    def sent(self, pattern: str, method: str = "POST") -> list[Request]:
        """Requests that succeeded on paths matching pattern."""
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path) and r.status < 300]
