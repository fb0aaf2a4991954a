"""The insights report in a real browser: `rapport insights --out report.html` opened by headless Chromium, which
must fetch nothing from the network and lay out every chart. Skipped where no chromium binary is installed."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from bot.domain.coffee import Membership
from bot.domain.nudges import DONE, SENT, Kind, Nudge
from bot.events import Member
from bot.graph.conversation import Contact, Outcome, SeenMessage
from storage.store import SqlStore
from tests.conftest import database_url
from tests.insight.test_insight_figures import WS, random_workspace

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="no chromium binary on PATH (Debian: apt-get install chromium)")

TEAM_NAMES = ["Platform Engineering", "Data", "Design", "Mobile", "Payments", "Search", "Security", "Support",
              "Growth", "Infrastructure", "Research", "People Operations"]
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


async def _twelve_teams(store: SqlStore, now: datetime) -> None:
    """72 more members in 12 coffee teams of 6, with 300 contacts, most within a team: a lead's usual grid."""
    rng = random.Random(12)
    people = [f"t{i:02d}" for i in range(72)]
    await store.members.upsert([Member(WS, u, u) for u in people])
    for i, u in enumerate(people):
        await store.coffee.save_membership(Membership(WS, "CCOF", u, now - timedelta(days=90),
                                                      team=TEAM_NAMES[i // 6]))
    outcomes = []
    for n in range(300):
        i = rng.randrange(72)
        j = (i - i % 6 + rng.randrange(6)) if rng.random() < 0.7 else rng.randrange(72)
        a, b = people[i], people[j if j != i else (i + 1) % 72]
        at = now - timedelta(days=rng.uniform(0, 150))
        outcomes.append(Outcome(SeenMessage(WS, "C2", f"t{n}", a, at), contacts=(Contact(WS, f"t{n}", a, b, at,
                                                                                         "chat"),)))
    await store.graph.record(outcomes)
    # Nudges over five months, about half marked done.
    await store.nudges.add([
        Nudge(WS, people[n % 72], Kind.COOLING, people[(n + 1) % 72], f"ref{n}", 1, at, at, at,
              status=DONE if rng.random() < 0.5 else SENT, sent_at=at)
        for n in range(120) if (at := now - timedelta(days=rng.uniform(0, 150)))])


async def _fill(url: str) -> None:
    store = await SqlStore.open(url)
    try:
        now = datetime.now(UTC)
        await random_workspace(store, now)
        await _twelve_teams(store, now)
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
    assert charts == 2 and dom.count("<svg") == charts  # every chart made it into the laid-out page
    assert "Rapport insights: workspace T1" in dom
    grid = dom[dom.index('<table class="grid"'):dom.index("</table>")]
    assert grid.count("<tr>") == 1 + 13 and grid.count("<td") == 13 * 13  # 12 teams, and Platform of the first 13
    assert _share_of_bar_pixels(tmp_path / "page.png") > 0.001  # the bars are drawn, not just present


def test_the_browser_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """The control: the same check catches a page that loads a picture from the network."""
    page = tmp_path / "fetches.html"
    page.write_text('<!doctype html><html><body><img src="http://example.invalid/chart.png"></body></html>')

    _, urls = _browse(page, tmp_path)

    assert urls == ["http://example.invalid/chart.png"]
