"""The insights report as one self-contained HTML file: charts inline as SVG, no script, no link, no network."""

from __future__ import annotations

import html

from bot.insight.drawing import bar_chart_svg
from bot.insight.figures import FEWER, SMALL, Insights, Monthly
from bot.insight.insights import sections
from bot.insight.teams import TeamTies

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 52em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
ul { line-height: 1.6; } .note { color: #555; } .chart svg { max-width: 100%; height: auto; }
"""


def _inline(svg: str) -> str:
    # matplotlib writes a standalone document; inside HTML only the <svg> element belongs.
    return svg[svg.index("<svg"):]


def _chart(title: str, series: tuple[Monthly, ...]) -> str:
    labels = [m.month + (" (<5)" if m.count.hidden else "") for m in series]
    return f'<div class="chart">{_inline(bar_chart_svg(title, labels, [m.count.charted() for m in series]))}</div>'


def report_html(figures: Insights, teams: TeamTies | None = None) -> str:
    where = f"channel {figures.channel}" if figures.channel else f"workspace {figures.workspace}"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Rapport insights: {html.escape(where)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Rapport insights: {html.escape(where)}</h1>",
        f'<p class="note">Totals only, never a name. A figure that would point at fewer than {SMALL} people '
        f'reads "{FEWER}"; in the charts such a month draws no bar and is marked (&lt;5).</p>',
    ]
    for section in sections(figures, teams):
        parts.append(f"<h2>{html.escape(section.title)}</h2><ul>")
        parts.extend(f"<li>{html.escape(line)}</li>" for line in section.lines)
        parts.append("</ul>")
        if section.title == "Ties":
            parts.append(_chart("New ties per month", figures.new_ties))
        if section.title == "Nudges":
            parts.append(_chart("Nudges sent per month", figures.nudges))
    parts.append("</body></html>")
    return "\n".join(parts)
