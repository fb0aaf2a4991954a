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
