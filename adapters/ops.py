"""Operations endpoints in every mode: GET /healthz (the process is up), /readyz (the database answers) and
/metrics (Prometheus text format).

Slack's aiohttp app serves them next to /slack/events; without Slack (Discord only) `serve_ops` listens on
RAPPORT_HOST:RAPPORT_PORT for them alone. prometheus-client stays out of the core: the core keeps plain counts
(`Intake`, `Activity`) and a collector here reads them at each scrape, so there is nothing to keep in step.
Metrics carry no labels: never message text or user ids, and per-workspace series would grow with installs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters import PlatformError, api_calls
from bot.app import Rapport

log = logging.getLogger(__name__)

READY_WITHIN = 5.0  # seconds the database has to answer /readyz; a load balancer probe gives up soon after


class ServerSettings(BaseSettings):
    """Where Rapport's HTTP server listens (Slack's requests, when Slack runs over HTTP, and the endpoints here)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field(default="0.0.0.0", alias="RAPPORT_HOST")
    port: int = Field(default=3000, alias="RAPPORT_PORT", ge=0, le=65535)  # 0: any free port


class CoreCollector(Collector):
    """The core's counts, read when Prometheus scrapes."""

    def __init__(self, core: Rapport, pending: Callable[[], int] = lambda: 0) -> None:
        self.core = core
        self.pending = pending  # work an adapter acked but has not handed to the core yet (Slack's deferred)

    def collect(self) -> Iterator[Metric]:
        intake, activity = self.core.intake, self.core.activity
        yield CounterMetricFamily("rapport_events_received", "Messages the platforms handed over", intake.received)
        yield CounterMetricFamily("rapport_events_stored", "Messages recorded as new (redeliveries are not)",
                                  intake.stored)
        yield CounterMetricFamily("rapport_events_dropped", "Messages given up: malformed, or refused when full",
                                  intake.dropped)
        yield GaugeMetricFamily("rapport_intake_queue_depth", "Messages waiting to be stored", intake.waiting)
        yield GaugeMetricFamily("rapport_adapter_pending", "Platform work acked but not yet done", self.pending())
        yield CounterMetricFamily("rapport_coffee_rounds_sent", "Coffee rounds whose groups were told",
                                  activity.rounds_sent)
        yield CounterMetricFamily("rapport_nudges_sent", "Nudges delivered", activity.nudges_sent)
        for platform, calls in (("slack", api_calls.SLACK), ("discord", api_calls.DISCORD)):
            yield CounterMetricFamily(f"rapport_{platform}_api_errors", f"{platform.capitalize()} Web API calls "
                                      "that ended in an error", calls.errors)
            yield CounterMetricFamily(f"rapport_{platform}_api_retries", f"{platform.capitalize()} Web API "
                                      "calls retried (rate limits, server errors, dropped connections)", calls.retries)


def ops_routes(core: Rapport, pending: Callable[[], int] = lambda: 0) -> list[web.RouteDef]:
    # One registry per core, not the library's global one: several cores (tests, or Slack next to Discord) must not
    # register the same names twice.
    registry = CollectorRegistry()
    registry.register(CoreCollector(core, pending))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "pending": pending() + core.intake.waiting})

    async def readyz(_: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(READY_WITHIN):
                ready = await core.store.reachable()
        except TimeoutError:
            ready = False
        return web.json_response({"ready": ready, "database": "reachable" if ready else "unreachable"},
                                 status=200 if ready else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]


def ops_app(core: Rapport) -> web.Application:
    application = web.Application()
    application.add_routes(ops_routes(core))
    return application


async def listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Start serving `runner` on host:port, or say in one line why not (a busy port, an unknown host)."""
    try:
        await web.TCPSite(runner, host=host, port=port).start()
    except OSError as error:
        raise PlatformError(f"cannot listen on {host}:{port} (RAPPORT_HOST, RAPPORT_PORT): "
                            f"{error.strerror or error}") from None


async def serve_ops(core: Rapport, settings: ServerSettings) -> None:
    """Serve the endpoints alone until cancelled (no Slack HTTP server to carry them)."""
    runner = web.AppRunner(ops_app(core), access_log=None, shutdown_timeout=2)
    await runner.setup()
    try:
        await listen(runner, settings.host, settings.port)
        log.info("health and metrics on %s:%d (/healthz, /readyz, /metrics)", settings.host, settings.port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
