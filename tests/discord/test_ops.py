"""Discord only: no Slack server, so Rapport serves /healthz, /readyz and /metrics on its own port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.ops import ServerSettings, serve_ops
from tests.discord.conftest import ANA, BOB, GUILD, Harness
from tests.ops_helpers import samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def ops(discord_bot: Harness) -> AsyncIterator[str]:
    port = free_port()
    settings = ServerSettings(_env_file=None, RAPPORT_HOST="127.0.0.1", RAPPORT_PORT=port)  # type: ignore[call-arg]
    server = asyncio.create_task(serve_ops(discord_bot.core, settings))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # until it listens; no fixed sleep
            try:
                async with session.get(f"{base}/healthz"):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        else:
            server.cancel()
            pytest.fail("the ops server did not come up")
    yield base
    server.cancel()
    await asyncio.gather(server, return_exceptions=True)


async def test_discord_only_serves_health_readiness_and_metrics(discord_bot: Harness, ops: str) -> None:
    words = "how do I rotate the staging keys?"
    await discord_bot.post(ANA, 0, f"<@{BOB}> {words}", mentions=(BOB,))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{ops}/healthz") as health:
            assert health.status == 200 and (await health.json())["ok"] is True
        async with session.get(f"{ops}/readyz") as ready:
            assert ready.status == 200
        async with session.get(f"{ops}/metrics") as metrics:
            assert metrics.status == 200
            exposition = await metrics.text()
    found = samples(exposition)
    assert found["rapport_events_received_total"] == 1
    assert found["rapport_events_stored_total"] == 1
    for private in (str(ANA), str(BOB), str(GUILD), "staging"):
        assert private not in exposition


async def test_a_taken_port_is_one_clear_line(discord_bot: Harness) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = ServerSettings(_env_file=None, RAPPORT_HOST="127.0.0.1", RAPPORT_PORT=port)  # type: ignore[call-arg]
        from adapters import PlatformError

        with pytest.raises(PlatformError, match=f"cannot listen on 127.0.0.1:{port} \\(RAPPORT_HOST, RAPPORT_PORT\\)"):
            await serve_ops(discord_bot.core, settings)


async def test_web_api_errors_and_retries_are_counted(discord_bot: Harness, ops: str) -> None:
    """A 429 waited out (a retry), and a DM Discord refuses (403, an error), in the REST calls discord.py makes."""
    from bot.replies import Reply

    async def scraped() -> dict[str, float]:
        async with aiohttp.ClientSession() as session, session.get(f"{ops}/metrics") as metrics:
            return samples(await metrics.text())

    before = await scraped()
    discord_bot.fake.rate_limit[("POST", r"/channels/\d+/messages")] = 1
    assert await discord_bot.core.outbound.send_direct(str(GUILD), str(BOB), Reply("your coffee group"))
    discord_bot.fake.closed_dms.add(ANA)
    assert not await discord_bot.core.outbound.send_direct(str(GUILD), str(ANA), Reply("your coffee group"))
    after = await scraped()
    assert after["rapport_discord_api_retries_total"] - before["rapport_discord_api_retries_total"] == 1
    refused = [r for r in discord_bot.fake.requests if 400 <= r.status < 500 and r.status != 429]
    assert refused
    assert after["rapport_discord_api_errors_total"] - before["rapport_discord_api_errors_total"] == len(refused)
