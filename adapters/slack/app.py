"""The Slack adapter's wiring: a Bolt AsyncApp around the core, served over HTTP or Socket Mode.

HTTP: POST /slack/events (Events API, slash commands, interactivity), GET /slack/install and
/slack/oauth_redirect (OAuth v2, multi-workspace), GET /healthz. Socket Mode when SLACK_APP_TOKEN is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import PlatformError, api_calls
from adapters.deferred import Deferred
from adapters.ops import listen, ops_routes
from adapters.settings import load_settings
from adapters.slack import translate
from adapters.slack.installations import (
    ROTATE_BEFORE,
    CachedInstallations,
    Installed,
    SingleWorkspace,
    Tokens,
    installation_store,
    state_store,
)
from adapters.slack.listeners import Listeners
from adapters.slack.outbound import SlackOutbound
from adapters.slack.people import People
from adapters.slack.settings import SlackSettings
from bot.app import Rapport
from bot.outbound import PlatformUnavailable, passing
from storage.sealing import sealer

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Past this many jobs waiting, requests get 503 and Slack redelivers them later, instead of memory growing.
MAX_BACKLOG = 20_000
BUSY = "Rapport is catching up (its database is away or it is behind): try again in a minute."
UNREACHABLE = (aiohttp.ClientError, OSError, TimeoutError)
REORDER = 0.3  # seconds; events sent back to back reach us within milliseconds of each other


def web_client(settings: SlackSettings, token: str | None = None,
               session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """A client that waits out 429s (Retry-After) and retries dropped connections and 500/503 with backoff (about
    0.5, 1, 2 s): slack_sdk by default only retries dropped connections, and a coffee seat given up is a member
    left out."""
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        session=session,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2),
                        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                        AsyncServerErrorRetryHandler(
                            max_retry_count=3, interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5)),
                        api_calls.Observer()],  # last: counts errors and retries for /metrics
    )


@dataclass
class SlackAdapter:
    core: Rapport
    settings: SlackSettings
    app: AsyncApp
    client: AsyncWebClient
    tokens: Tokens
    outbound: SlackOutbound
    deferred: Deferred
    identity: dict[str, Any]  # single workspace: auth.test's answer, asked once at start

    async def verify(self) -> None:
        """Fail fast, in one line, when the token is bad or Slack cannot be reached."""
        if isinstance(self.tokens, SingleWorkspace):
            self.identity.update(await identify(self.client, self.settings, self.tokens))
        else:
            await _asked(self.settings, self.client.api_test())
            log.info("Slack: multi-workspace, install at /slack/install")

    async def _held_back(self, request: web.Request) -> bool:
        """Whether to turn this request away while too much waits. Interactions (button presses, form
        submissions) never are: Slack does not redeliver them, so a 503 lost the member's press or answers without
        a word; they come at the pace people click and add no more than a job each, and the core says what went
        wrong if the database is away."""
        if self.deferred.pending < MAX_BACKLOG and self.core.intake.accepts():
            return False
        return not (request.content_type == "application/x-www-form-urlencoded"
                    and "payload" in parse_qs(await request.text()))

    async def _busy(self, request: web.Request) -> web.Response:
        """Too much waiting (the database away, a burst): Slack redelivers an event answered 503, but never a slash
        command, which would fail with a bare "dispatch_failed"; a signed command is told to try again instead."""
        body = await request.text()
        secret = self.settings.signing_secret
        if (request.content_type == "application/x-www-form-urlencoded" and "command" in parse_qs(body)
                and secret and SignatureVerifier(secret).is_valid_request(body, dict(request.headers))):
            return web.json_response({"response_type": "ephemeral", "text": BUSY})
        return web.Response(status=503, headers={"Retry-After": "60"})

    def web(self) -> web.Application:
        async def events(request: web.Request) -> web.Response:
            # Anyone can post here: what Bolt cannot take (and would answer 500 with a traceback) is refused first.
            stamp = request.headers.get("X-Slack-Request-Timestamp")
            if stamp is not None and not (stamp.isascii() and stamp.isdigit()):  # signature checks int() it
                return web.Response(status=401, text="invalid request signature")
            if await self._held_back(request):
                return await self._busy(request)
            try:
                bolt_request = await to_bolt_request(request)
            # Not JSON (or form) at all; or JSON, but not an object, which Bolt reads as one (AttributeError), or
            # one whose ids Bolt cannot read while it makes the request (KeyError).
            except (ValueError, AttributeError, TypeError, KeyError):
                return web.Response(status=400, text="not a Slack request")
            return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

        routes = [web.post(EVENTS_PATH, events), *ops_routes(self.core, lambda: self.deferred.pending)]
        flow = self.app.oauth_flow
        if flow is not None:
            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

            routes += [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, redirect)]
        application = web.Application()
        application.add_routes(routes)
        return application


def _reason(error: BaseException) -> str:
    return (str(error) or type(error).__name__).splitlines()[0]


async def _asked(settings: SlackSettings, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """A call made before anything else runs (at start, or by a command line), failing in one line: a bad token,
    a rate limit or server error that outlasted the client's retries, no connection."""
    try:
        return await call
    except SlackApiError as error:
        code, status = error.response.get("error"), error.response.status_code
        if passing(status):
            raise PlatformError(f"Slack at {settings.api_url} answered {status} ({code}): try again later") from None
        raise PlatformError(f"Slack rejected SLACK_BOT_TOKEN: {code}") from None
    except UNREACHABLE as error:
        raise PlatformError(f"cannot reach Slack at {settings.api_url}: {_reason(error)}") from None


async def identify(client: AsyncWebClient, settings: SlackSettings, tokens: SingleWorkspace) -> dict[str, Any]:
    """auth.test: SLACK_BOT_TOKEN's workspace becomes the one `tokens` serves; auth.test's answer."""
    auth = await _asked(settings, client.auth_test(token=tokens.token))
    tokens.team_id = auth["team_id"]
    log.info("Slack: single workspace %s (%s)", auth.get("team"), auth["team_id"])
    return auth.data if isinstance(auth.data, dict) else {}


def _installations(engine: AsyncEngine, settings: SlackSettings) -> CachedInstallations:
    """The OAuth installs kept in our database, their tokens sealed with RAPPORT_SECRET_KEY."""
    core_settings = load_settings()
    secret = core_settings.secret_key.get_secret_value() if core_settings.secret_key else None
    return installation_store(engine, settings.client_id, sealer(secret, core_settings.env == "production"))


def _installed(store: CachedInstallations, settings: SlackSettings, client: AsyncWebClient) -> Installed:
    """Tokens from the installs; scheduled sends and command lines refresh rotating ones through this rotator."""
    return Installed(store, AsyncTokenRotator(client_id=settings.client_id, client_secret=settings.client_secret,
                                              client=client))


async def user_groups(core: Rapport, settings: SlackSettings, workspace: str,
                      session: aiohttp.ClientSession) -> dict[str, frozenset[str]]:
    """A workspace's user groups for a command run outside the bot (`rapport insights`, `rapport map`), asked the
    way `/rapport insights` asks them (SlackOutbound.user_groups); {} when Slack lists none Rapport may read (no
    usergroups:read scope). PlatformError, one line, when Slack cannot be asked: not configured, not this
    workspace's token, a bad token, no connection, a 429 or 500 past the client's retries."""
    if not settings.configured:
        raise PlatformError("Slack is not configured (no SLACK_BOT_TOKEN)")
    client = web_client(settings, session=session)
    tokens: Tokens
    if settings.oauth:
        engine = getattr(core.store, "engine", None)
        if engine is None:
            raise PlatformError("OAuth installs need the SQL store (RAPPORT_DATABASE_URL)")
        tokens = _installed(_installations(engine, settings), settings, client)
    else:
        tokens = SingleWorkspace(team_id="", token=settings.bot_token)
        await identify(client, settings, tokens)
        if tokens.team_id != workspace:
            raise PlatformError(f"SLACK_BOT_TOKEN belongs to Slack workspace {tokens.team_id}, not to {workspace!r}")
    if not tokens.owns(workspace) or await tokens.bot_token(workspace) is None:
        raise PlatformError(f"Rapport is not installed in a Slack workspace {workspace!r}")
    try:
        return await SlackOutbound(client, tokens, People(core)).user_groups(workspace)
    except PlatformUnavailable as error:
        raise PlatformError(f"Slack could not be asked for its user groups: {error}") from None


@contextlib.contextmanager
def _bolt_blind_to_env() -> Iterator[None]:
    """Hide SLACK_BOT_TOKEN from AsyncApp while it is built: Bolt reads it from the environment on its own and,
    given our client too, warns on every start that the token will be unused. Our settings already read it."""
    hidden = os.environ.pop("SLACK_BOT_TOKEN", None)
    try:
        yield
    finally:
        if hidden is not None:
            os.environ["SLACK_BOT_TOKEN"] = hidden


class RefuseMalformed(AsyncMiddleware):
    """A signed request not shaped as Slack sends it gets 400, before Bolt's authorize, its matchers or a listener
    read it: they would fail with a 500, which Slack retries for nothing. Bolt runs this right after the signature
    check, so a bad signature is still a 401. A class, not a function: Bolt hands a function its view of the
    payload (event, action, view...), built by reading the very fields that may be malformed."""

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:
        if (field := translate.malformed(req.body)) is None:
            return await next()
        # The field's path, never what it holds (which may be a message's text).
        log.warning("slack request for team=%s refused: malformed payload (%s)", str(req.context.team_id or "")[:32],
                    field)
        return BoltResponse(status=400, body="malformed Slack payload")


def _learning_orgs(tokens: Tokens) -> Callable[..., Awaitable[None]]:
    """Every request says which Enterprise Grid org its workspace is in: what sending there later needs."""
    async def learn(context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        # An org-wide install has no team in Bolt's context; the workspace is the one the request came from.
        team = context.team_id or translate.team_of(body)
        tokens.learn(team, context.enterprise_id, bool(context.is_enterprise_install))
        await next()

    return learn


def build_adapter(core: Rapport, settings: SlackSettings, session: aiohttp.ClientSession | None = None
                  ) -> SlackAdapter:
    if not settings.configured:
        raise PlatformError("Slack is not configured: set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    if not settings.signing_secret and not settings.socket_mode:
        raise PlatformError("SLACK_SIGNING_SECRET is required to receive Slack's HTTP requests")
    engine = getattr(core.store, "engine", None)
    common: dict[str, Any] = {
        # Bolt otherwise names its loggers after our source file and freezes the root's level into them: under
        # "slack_bolt" they follow the level and filters of bot/logs.py.
        "name": "slack_bolt.rapport", "logger": logging.getLogger("slack_bolt.rapport"),
        "signing_secret": settings.signing_secret or None,
        "request_verification_enabled": bool(settings.signing_secret),
        "before_authorize": RefuseMalformed(),
    }
    revocation: AsyncTokenRevocationListeners | None = None
    tokens: Tokens
    identity: dict[str, Any] = {}
    if settings.oauth:
        if engine is None:
            raise PlatformError("OAuth installs need the SQL store (RAPPORT_DATABASE_URL)")
        client = web_client(settings, session=session)
        store = _installations(engine, settings)
        # bot_only: we use no user tokens; cache_enabled skips auth.test for a token already checked. A revoked
        # workspace's rows are gone, so its token is never looked up again and the cache cannot serve it.
        authorize = AsyncInstallationStoreAuthorize(
            logger=logging.getLogger("slack_bolt.authorize"), installation_store=store, client_id=settings.client_id,
            client_secret=settings.client_secret, bot_only=True, cache_enabled=True, client=client)
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id, client_secret=settings.client_secret, scopes=settings.bot_scopes,
            installation_store=store, installation_store_bot_only=True, state_store=state_store(engine),
            token_rotation_expiration_minutes=ROTATE_BEFORE)
        with _bolt_blind_to_env():
            app = AsyncApp(client=client, authorize=authorize, oauth_settings=oauth,  # type: ignore[arg-type]
                           installation_store_bot_only=True, **common)
        tokens = _installed(store, settings, client)  # requests refresh rotating tokens in Bolt's authorize
        revocation = AsyncTokenRevocationListeners(store)
    else:
        # No token on the shared client: every call names its token (Bolt's context, verify, outbound), and a
        # client with a token beside authorize makes Bolt warn that it is unused.
        client = web_client(settings, session=session)

        async def authorize_one(**_: Any) -> AuthorizeResult:
            # Bolt's own single-workspace authorize asks auth.test again on the first request, which Slack then
            # waits on: the answer verify() got at start serves every request instead.
            if not identity:
                identity.update((await client.auth_test(token=settings.bot_token)).data)  # type: ignore[arg-type]
            return AuthorizeResult(enterprise_id=identity.get("enterprise_id"), team_id=identity.get("team_id"),
                                   bot_token=settings.bot_token, bot_id=identity.get("bot_id"),
                                   bot_user_id=identity.get("user_id"))

        with _bolt_blind_to_env():
            app = AsyncApp(client=client, authorize=authorize_one, **common)
        tokens = SingleWorkspace(team_id="", token=settings.bot_token)
    people = People(core)
    app.middleware(_learning_orgs(tokens))
    outbound = SlackOutbound(web_client(settings, session=session), tokens, people)
    # SQLite takes one writer at a time and makes the others sleep-wait: in-process queueing is far cheaper.
    dialect = engine.dialect.name if engine is not None else ""
    # On PostgreSQL a few at a time: more only takes connections and CPU from the acks.
    deferred = Deferred(concurrency=1 if dialect == "sqlite" else 4, reachable=lambda: core.store.reachable())
    # Slack delivers a channel's events over concurrent requests: let the intake wait this long for stragglers.
    core.intake.reorder = REORDER
    Listeners(core, people, deferred, tokens, outbound, revocation).register(app)
    return SlackAdapter(core, settings, app, client, tokens, outbound, deferred, identity)


def build_app(core: Rapport, settings: SlackSettings) -> AsyncApp:
    return build_adapter(core, settings).app


async def run_slack(core: Rapport, settings: SlackSettings) -> None:
    """Serve Slack until cancelled. Raises PlatformError (one line) when Slack cannot be used."""
    async with aiohttp.ClientSession() as session:
        adapter = build_adapter(core, settings, session=session)
        await adapter.verify()
        add = getattr(core.outbound, "add", None)
        if add is not None:
            add(adapter.outbound)
        # On stop, requests already being answered get this long; new connections are refused at once.
        runner = web.AppRunner(adapter.web(), access_log=None, shutdown_timeout=5)
        await runner.setup()
        socket: AsyncSocketModeHandler | None = None
        try:
            await listen(runner, settings.host, settings.port)
            if settings.socket_mode:
                socket = AsyncSocketModeHandler(adapter.app, settings.app_token)
                try:
                    await socket.connect_async()
                except SlackApiError as error:
                    raise PlatformError(f"Slack rejected SLACK_APP_TOKEN: {error.response.get('error')}") from None
                except UNREACHABLE as error:
                    raise PlatformError(f"cannot reach Slack's Socket Mode: {_reason(error)}") from None
                log.info("Slack: Socket Mode connected; health check on %s:%d", settings.host, settings.port)
            else:
                log.info("Slack: listening on %s:%d (%s)", settings.host, settings.port, EVENTS_PATH)
            await asyncio.Event().wait()
        finally:
            # Stop taking requests first, then finish the work of those already acked.
            if socket is not None:
                with contextlib.suppress(Exception):
                    await socket.close_async()
            await runner.cleanup()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await adapter.deferred.drain()
