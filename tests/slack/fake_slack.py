"""A local fake of Slack's Web API (after bolt-python's tests/mock_web_api_server): a threaded stdlib HTTP
server on port 0 that records every call and answers with canned JSON.

It checks what real Slack would refuse (unknown tokens, malformed Block Kit) so that tests catch those, can
answer 429 with Retry-After, and doubles as the target of response_url posts (/response/...).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_USER = "UBOT"
RESPONSE_URL = "response_url"  # the key of server_errors and rate_limited for posts to a response_url


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    refused: int = 0  # the error status the fake answered (500, 429), 0 when it answered the call
    answered: float = 0.0  # when the fake had its answer ready (after any latency), time.monotonic()


def block_problems(blocks: Any) -> list[str]:
    """The Block Kit rules our renderer must respect (a subset of what Slack enforces)."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    problems = []
    if len(blocks) > 50:
        problems.append("more than 50 blocks")
    for block in blocks:
        if block.get("type") not in {"section", "actions", "context", "header", "divider", "input"}:
            problems.append(f"unknown block {block.get('type')}")
        if len((block.get("text") or {}).get("text", "")) > 3000:
            problems.append("text over 3000")
        if len(block.get("fields") or []) > 10:
            problems.append("more than 10 fields")
        ids = [e.get("action_id") for e in block.get("elements", []) if e.get("type") == "button"]
        if len(ids) != len(set(ids)):
            problems.append("duplicate action_id in a block")
        if block.get("type") == "actions" and len(block.get("elements", [])) > 25:
            problems.append("more than 25 elements")
    return problems


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.uploads: list[bytes] = []  # file contents uploaded (files_upload_v2's second step)
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.admins: set[str] = set()
        self.channel_creators: dict[str, str] = {}  # channel -> the member who created it (its manager)
        self.channel_teams: dict[str, str] = {}  # channel -> its workspace, where a test says (else any)
        self.rate_limited: dict[str, int] = {}  # method -> how many 429s to give before answering
        self.server_errors: dict[str, int] = {}  # method -> how many 500s to give before answering
        self.flaky: dict[str, tuple[int, float]] = {}  # method -> (status, share of calls answered with it)
        self.latency: dict[str, float] = {}  # method -> seconds each call takes
        self._random = random.Random(7)
        self.retry_after = 1
        self.oauth_teams: dict[str, tuple[str, str]] = {}  # code -> (team id, bot token)
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team id (token rotation)
        self.expires_in = 43_200  # seconds a refreshed token lives (Slack's 12 hours)
        self.group_dms: dict[str, tuple[str, ...]] = {}  # group DM id -> its members (conversations.open, several)
        self.usergroups: dict[str, dict[str, list[str]]] = {}  # team -> group name -> members (usergroups.list)
        self.refuse_group_open = ""  # the error conversations.open answers for several users ("" : opens them)
        self.disabled_users: set[str] = set()  # members whose DM conversations.open refuses (user_disabled)
        self._lock = threading.Lock()
        self._ts = 1_700_000_000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/{name}"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def install(self, team_id: str, token: str | None = None) -> str:
        token = token or f"xoxb-{team_id}"
        self.tokens[token] = team_id
        return token

    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # --- request handling -----------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if url.path.startswith("/upload/"):  # a file's bytes (a PNG is not UTF-8)
            with self._lock:
                self.uploads.append(body)
            return self._send(request, 200, {"ok": True})
        raw = body.decode()
        if request.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
        params.update(dict(parse_qsl(url.query)))
        if url.path.startswith("/response/"):  # refused as a method named RESPONSE_URL would be
            with self._lock:
                broken, limited = (self.server_errors.get(RESPONSE_URL, 0), self.rate_limited.get(RESPONSE_URL, 0))
                self.server_errors[RESPONSE_URL], self.rate_limited[RESPONSE_URL] = max(broken - 1, 0), max(
                    limited - 1, 0)
                if not broken and not limited:
                    self.responses.append(params)
            if broken:
                return self._send(request, 500, {"ok": False, "error": "internal_error"})
            if limited:
                return self._send(request, 429, {"ok": False, "error": "ratelimited"},
                                  {"Retry-After": str(self.retry_after)})
            return self._send(request, 200, {"ok": True})
        method = url.path.removeprefix("/api/")
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.pop("token", None)
        with self._lock:
            call = Call(method, params, token)
            self.calls.append(call)
            limited = self.rate_limited.get(method, 0)
            if limited:
                self.rate_limited[method] = limited - 1
            broken = self.server_errors.get(method, 0)
            if broken:
                self.server_errors[method] = broken - 1
            status, share = self.flaky.get(method, (0, 0.0))
            flaked = status if share and self._random.random() < share else 0
            call.refused = flaked or (500 if broken else 429 if limited else 0)
        time.sleep(self.latency.get(method, 0.0))
        call.answered = time.monotonic()
        if flaked == 429:
            return self._send(request, 429, {"ok": False, "error": "ratelimited"},
                              {"Retry-After": str(self.retry_after)})
        if flaked:
            return self._send(request, flaked, {"ok": False, "error": "internal_error"})
        if broken:
            return self._send(request, 500, {"ok": False, "error": "internal_error"})
        if limited:
            return self._send(request, 429, {"ok": False, "error": "ratelimited"},
                              {"Retry-After": str(self.retry_after)})
        if method == "oauth.v2.access":
            return self._send(request, 200, self._oauth(params, auth))
        if method == "api.test":
            return self._send(request, 200, {"ok": True})
        team = self.tokens.get(token or "")
        if team is None:
            return self._send(request, 200, {"ok": False, "error": "invalid_auth"})
        return self._send(request, 200, self._answer(method, params, team))

    def rotating(self, team_id: str, generation: int = 0) -> tuple[str, str]:
        """A rotating bot token and its refresh token, as long as Slack's (about 150 characters)."""
        token = f"xoxe.xoxb-1-{team_id}-{generation}-" + "M" * 130
        refresh = f"xoxe-1-{team_id}-{generation}-" + "R" * 130
        self.tokens[token] = team_id
        self.refresh_tokens[refresh] = team_id
        return token, refresh

    def _oauth(self, params: dict[str, Any], auth: str) -> dict[str, Any]:
        client = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth.startswith("Basic ") else ""
        client = client or params.get("client_id", "")
        if params.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(params.get("refresh_token", ""), None)  # a refresh token is spent once
            if not client or team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            generation = len(self.called("oauth.v2.access"))
            token, refresh = self.rotating(team, generation)
            return {"ok": True, "app_id": "A0RAPPORT", "token_type": "bot", "access_token": token,
                    "refresh_token": refresh, "expires_in": self.expires_in, "bot_user_id": BOT_USER,
                    "team": {"id": team, "name": f"Team {team}"}, "enterprise": None, "is_enterprise_install": False}
        if not client or params.get("code") not in self.oauth_teams:
            return {"ok": False, "error": "invalid_code"}
        team, token = self.oauth_teams[params["code"]]
        self.tokens[token] = team
        return {
            "ok": True, "app_id": "A0RAPPORT", "authed_user": {"id": "U0INSTALLER"},
            "scope": "channels:history,channels:read,chat:write,commands,files:write,im:write,mpim:write,users:read",
            "token_type": "bot",
            "access_token": token, "bot_user_id": BOT_USER, "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None, "is_enterprise_install": False,
        }

    def _answer(self, method: str, params: dict[str, Any], team: str) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": team, "team": f"Team {team}", "user_id": BOT_USER, "bot_id": "B0BOT",
                    "url": f"https://{team.lower()}.slack.com/"}
        if method == "users.info":
            user = params["user"]
            return {"ok": True, "user": {
                "id": user, "team_id": team, "name": user.lower(), "real_name": f"Person {user}", "tz": "Europe/Paris",
                "is_admin": user in self.admins, "is_owner": False, "is_bot": False,
                "profile": {"display_name": f"person{user.lower()}", "real_name": f"Person {user}"},
            }}
        if method == "conversations.info":
            channel = params["channel"]
            if self.channel_teams.get(channel, team) != team:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "creator": self.channel_creators.get(channel, "U0NOBODY")}}
        if method == "usergroups.list":
            if team not in self.usergroups:
                return {"ok": False, "error": "missing_scope", "needed": "usergroups:read"}
            return {"ok": True, "usergroups": [
                {"id": f"S{i:08d}", "team_id": team, "name": name, "handle": name.lower(), "date_delete": 0,
                 **({"users": users} if params.get("include_users") in (True, "true", "1", 1) else {})}
                for i, (name, users) in enumerate(self.usergroups[team].items())]}
        if method == "conversations.open":
            users = [u for u in str(params["users"]).split(",") if u]
            if len(users) > 1:  # a group DM (mpim:write)
                if self.refuse_group_open:
                    return {"ok": False, "error": self.refuse_group_open}
                with self._lock:  # as Slack does, the same people resume their group DM
                    conversation = next((g for g, members in self.group_dms.items()
                                         if sorted(members) == sorted(users)), f"G{len(self.group_dms) + 1:08d}")
                    self.group_dms[conversation] = tuple(users)
                return {"ok": True, "channel": {"id": conversation}}
            if users[0] in self.disabled_users:
                return {"ok": False, "error": "user_disabled"}
            return {"ok": True, "channel": {"id": "D" + users[0].removeprefix("U")}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            problems = block_problems(params.get("blocks") or [])
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            with self._lock:
                self._ts += 1
                ts = f"{self._ts}.000100"
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "chat.getPermalink":
            return {"ok": True, "channel": params["channel"],
                    "permalink": f"https://{team.lower()}.slack.com/archives/{params['channel']}/p"
                                 + str(params["message_ts"]).replace(".", "")}
        if method == "files.getUploadURLExternal":
            port = self.server.server_address[1]
            return {"ok": True, "file_id": "F0FILE", "upload_url": f"http://127.0.0.1:{port}/upload/F0FILE"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                          for f in json.loads(params["files"])]}
        if method in ("views.publish", "views.open", "views.update"):
            view = params["view"] if isinstance(params["view"], dict) else json.loads(params["view"])
            problems = block_problems(view.get("blocks", []))
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            return {"ok": True, "view": {**view, "id": "V0VIEW"}}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
