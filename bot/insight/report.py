"""The insights report as one self-contained HTML file: charts inline as SVG, no script, no link, no network."""

from __future__ import annotations

import html

from bot.insight.drawing import bar_chart_svg
from bot.insight.figures import FEWER, SMALL, Count, Insights, Monthly
from bot.insight.insights import sections
from bot.insight.teams import TeamTies

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 52em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
ul { line-height: 1.6; } .note { color: #555; } .chart svg { max-width: 100%; height: auto; }
table.grid { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
.grid th, .grid td { border: 1px solid #ddd; padding: 0.3em 0.45em; text-align: center; min-width: 2.2em; }
.grid th.row { text-align: right; white-space: nowrap; }
.grid th.col { vertical-align: bottom; height: 9em; }
.grid th.col span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
.grid td.within { outline: 2px solid #555; outline-offset: -2px; }
.grid td.few { background: repeating-linear-gradient(45deg, #f4f4f4, #f4f4f4 4px, #e6e6e6 4px, #e6e6e6 8px);
  color: #777; }
"""


def _inline(svg: str) -> str:
    # matplotlib writes a standalone document; inside HTML only the <svg> element belongs.
    return svg[svg.index("<svg"):]


def _chart(title: str, series: tuple[Monthly, ...], beside: tuple[str, str, tuple[Monthly, ...]] | None = None,
           ) -> str:
    hidden = [m.count.hidden or (beside is not None and beside[2][i].count.hidden) for i, m in enumerate(series)]
    labels = [m.month + (" (<5)" if hide else "") for m, hide in zip(series, hidden, strict=True)]
    second = None if beside is None else (beside[0], beside[1], [m.count.charted() for m in beside[2]])
    svg = bar_chart_svg(title, labels, [m.count.charted() for m in series], second)
    return f'<div class="chart">{_inline(svg)}</div>'


def _cell(count: Count, widest: int, within: bool) -> str:
    classes = ["within"] if within else []
    style = ""
    if count.hidden:
        classes.append("few")
    else:
        share = count.value / widest
        # The report's blue, more opaque the larger the share of the largest cell; white text once it is dark.
        style = f' style="background: rgba(44, 123, 182, {0.06 + 0.9 * share:.2f});' \
                f'{" color: #fff;" if share > 0.5 else ""}"'
    attributes = (f' class="{" ".join(classes)}"' if classes else "") + style
    return f"<td{attributes}>{'&lt;5' if count.hidden else count.value}</td>"


def team_grid(teams: TeamTies) -> str:
    """The team x team table as a heat map: pairs with a tie between each two teams (within a team on the outlined
    diagonal), darker for more; a hidden count reads <5 on a hatched cell. Plain HTML: it reads at 12 teams and
    more, where a graph of edges would tangle."""
    names = [name for name, _ in teams.teams]
    widest = max((count.value for *_, count in teams.ties if not count.hidden), default=0) or 1
    head = "".join(f'<th class="col" scope="col"><span>{html.escape(name)}</span></th>' for name in names)
    rows = [f'<table class="grid"><tr><th></th>{head}</tr>']
    for name, members in teams.teams:
        cells = [_cell(teams.between(name, other), widest, other == name) for other in names]
        rows.append(f'<tr><th class="row" scope="row">{html.escape(name)} ({html.escape(members.shown())})</th>'
                    f'{"".join(cells)}</tr>')
    rows.append("</table>")
    return "\n".join(rows)


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
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.title == "Teams" and teams is not None:
            parts.append(f'<p class="note">Pairs with a tie within each team (outlined) and between each two '
                         f'teams; members in brackets. &lt;5: fewer than {SMALL}, or about a team of fewer than '
                         f'{SMALL} people.</p>')
            parts.append(team_grid(teams))
            continue
        parts.append("<ul>")
        parts.extend(f"<li>{html.escape(line)}</li>" for line in section.lines)
        parts.append("</ul>")
        if section.title == "Ties":
            parts.append(_chart("New ties per month", figures.new_ties))
        if section.title == "Nudges":
            parts.append(_chart("Nudges sent and acted on per month", figures.nudges,
                                ("sent", "acted on", figures.nudges_acted)))
    parts.append("</body></html>")
    return "\n".join(parts)
