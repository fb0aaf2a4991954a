"""Slack over HTTP: /healthz, /readyz and /metrics on the same app as /slack/events."""

from __future__ import annotations

from tests.ops_helpers import samples
from tests.slack.conftest import Slack

T1, ANN, BOB = "T0ALPHA", "U0ANN", "U0BOB"


async def test_health_readiness_and_metrics_beside_the_events(slack: Slack) -> None:
    assert (await slack.http.get("/healthz")).status == 200
    ready = await slack.http.get("/readyz")
    assert ready.status == 200 and (await ready.json())["ready"] is True
    before = samples(await (await slack.http.get("/metrics")).text())
    assert before["rapport_events_received_total"] == 0

    await slack.install(T1)
    words = "how do I rotate the staging keys?"
    assert (await slack.say(T1, ANN, f"<@{BOB}> {words}", slack.ts())).status == 200
    await slack.settle()

    response = await slack.http.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    exposition = await response.text()
    after = samples(exposition)
    assert after["rapport_events_received_total"] == 1
    assert after["rapport_events_stored_total"] == 1
    assert after["rapport_events_dropped_total"] == 0
    assert after["rapport_intake_queue_depth"] == 0
    for private in (ANN, BOB, "staging", T1):
        assert private not in exposition


async def test_web_api_errors_and_retries_are_counted(slack: Slack) -> None:
    """A 500 retried then sent; a call Slack refuses (ok: false) is an error; a request's own client (Bolt's,
    per request) is counted too."""
    from bot.replies import Reply

    await slack.install(T1)

    async def scraped() -> dict[str, float]:
        return samples(await (await slack.http.get("/metrics")).text())

    before = await scraped()
    slack.fake.server_errors["chat.postMessage"] = 1
    assert await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("a nudge"))
    slack.fake.channel_teams["C0ELSEWHERE"] = "T0OTHER"  # conversations.info answers channel_not_found
    await slack.command(T1, ANN, "coffee stop <#C0ELSEWHERE>")
    await slack.settle()
    after = await scraped()
    assert after["rapport_slack_api_retries_total"] - before["rapport_slack_api_retries_total"] == 1
    refused = [c for c in slack.fake.called("conversations.info") if c.params["channel"] == "C0ELSEWHERE"]
    assert refused
    assert after["rapport_slack_api_errors_total"] - before["rapport_slack_api_errors_total"] == len(refused)
    assert after["rapport_discord_api_errors_total"] == before["rapport_discord_api_errors_total"]
