"""The insights report in a real browser: `rapport insights --out report.html` opened by headless Chromium, which
must fetch nothing from the network and lay out every chart. Skipped where no chromium binary is installed."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from storage.store import SqlStore
from tests.conftest import database_url
from tests.test_insight_figures import WS, random_workspace

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="no chromium binary on PATH (Debian: apt-get install chromium)")

# The report's bar colour, as matplotlib writes it into the inline SVG and as the screenshot shows it.
BAR = (0x2C, 0x7B, 0xB6)


def _browse(page: Path, out: Path) -> tuple[str, list[str]]:
    """The DOM after layout and the URLs the page asked for, with a screenshot written to out/page.png.

    Names resolve to nothing (nothing leaves the machine), and Chromium's network log records every request
    all the same. The browser's own (update and time checks) start with the initiator "not an origin"; a request
    the page makes carries the page's origin ("null" for a file)."""
    netlog = out / "netlog.json"
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={out / 'profile'}", f"--log-net-log={netlog}",
         "--window-size=1000,2600", f"--screenshot={out / 'page.png'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    text = netlog.read_text().rstrip().rstrip(",")
    log = json.loads(text if text.endswith("}") else text + "]}")  # a log cut short at exit lacks its end
    kinds = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    events = log.get("events", [])
    by_page = {e["source"]["id"] for e in events if kinds[e["type"]] == "URL_REQUEST_START_JOB"
               and e.get("params", {}).get("initiator", "not an origin") != "not an origin"}
    urls = sorted({e["params"]["url"] for e in events
                   if e["source"]["id"] in by_page and "url" in e.get("params", {})})
    return run.stdout, urls


def _share_of_bar_pixels(png: Path) -> float:
    from matplotlib.image import imread

    pixels = (imread(png)[:, :, :3] * 255).round()
    near = (abs(pixels - BAR).max(axis=2) <= 8)
    return float(near.mean())


async def _fill(url: str) -> None:
    store = await SqlStore.open(url)
    try:
        await random_workspace(store, datetime.now(UTC))
    finally:
        await store.close()


def test_the_report_opens_offline_with_its_charts(env: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(_fill(database_url(tmp_path)))
    report = tmp_path / "report.html"
    run = CliRunner().invoke(app, ["insights", "--workspace", WS, "--out", str(report)], env=env)
    assert run.exit_code == 0, run.output

    dom, urls = _browse(report, tmp_path)

    assert urls == []
    charts = report.read_text().count("<svg")
    assert charts >= 2 and dom.count("<svg") == charts  # every chart made it into the laid-out page
    assert "Rapport insights: workspace T1" in dom and "Teams" in dom
    assert _share_of_bar_pixels(tmp_path / "page.png") > 0.001  # the bars are drawn, not just present


def test_the_browser_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """The control: the same check catches a page that loads a picture from the network."""
    page = tmp_path / "fetches.html"
    page.write_text('<!doctype html><html><body><img src="http://example.invalid/chart.png"></body></html>')

    _, urls = _browse(page, tmp_path)

    assert urls == ["http://example.invalid/chart.png"]
