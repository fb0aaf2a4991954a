"""Counts of the platforms' Web API calls that failed, and of the retries made, for /metrics.

One ApiCalls per platform, for the whole process (as every metric of /metrics: counts since the process started).
They count what the platform libraries see, without wrapping our own calls one by one:

- Slack: `Observer`, the last of slack_sdk's retry handlers, is asked about the final attempt of every call (the
  handlers before it have declined to retry): it adds the retries that call took, and an error when the call
  ended in one (a connection error, an HTTP error status, or Slack's `"ok": false`). Bolt's per-request clients
  copy the handler list, so they are counted too.
- Discord: an aiohttp TraceConfig on discord.py's HTTP session sees every answer: a 429 or a 5xx is an answer
  discord.py retries (after Retry-After, or a backoff; the fifth in a row is given up), any other 4xx and a failed
  connection are errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


@dataclass
class ApiCalls:
    errors: int = 0
    retries: int = 0


SLACK = ApiCalls()
DISCORD = ApiCalls()


def _slack_failed(response: HttpResponse | None, error: Exception | None) -> bool:
    if error is not None or response is None:
        return True
    if response.status_code >= 400:
        return True
    body = response.body
    if body is None and response.data:
        try:
            body = json.loads(response.data)
        except (ValueError, TypeError):
            body = None
    return isinstance(body, dict) and body.get("ok") is False


class Observer(AsyncRetryHandler):
    """Never retries; counts. Must come last in the client's retry_handlers."""

    def __init__(self, calls: ApiCalls = SLACK) -> None:
        super().__init__(max_retry_count=0)
        self.calls = calls

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        self.calls.retries += state.current_attempt
        if _slack_failed(response, error):
            self.calls.errors += 1
        return False


def discord_trace(calls: ApiCalls = DISCORD) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def answered(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        status = params.response.status
        if status == 429 or status >= 500:
            calls.retries += 1
        elif status >= 400:
            calls.errors += 1

    async def failed(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        calls.errors += 1

    trace.on_request_end.append(answered)
    trace.on_request_exception.append(failed)
    return trace
