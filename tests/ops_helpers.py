"""Reading what /metrics serves, as Prometheus would."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

CORE_METRICS = ("rapport_events_received_total", "rapport_events_stored_total", "rapport_events_dropped_total",
                "rapport_intake_queue_depth", "rapport_coffee_rounds_sent_total", "rapport_nudges_sent_total")


def samples(exposition: str) -> dict[str, float]:
    """Sample name -> value; fails on a sample with labels (no label may carry an id or a text)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            assert sample.labels == {}, f"{sample.name} has labels {sample.labels}"
            found[sample.name] = sample.value
    return found
