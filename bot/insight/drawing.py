"""Pictures, drawn locally with matplotlib's Agg backend (no display, no network): the own map and charts.

matplotlib is imported inside the functions: it costs half a second, and only members who ask for a picture
should pay it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.graph.rapport import Stage
from bot.insight.own_map import RINGS, OwnMap, Tie
from bot.insight.teams import TeamTies
from bot.replies import plural

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

_COLOURS = {
    Stage.TRUSTED_ADVISOR: "#7b3294",
    Stage.PEERS: "#1a9850",
    Stage.ACQUAINTANCE: "#2c7bb6",
    Stage.TALKING: "#999999",
}
_RING_TITLES = {
    Stage.TRUSTED_ADVISOR: ("trusted advisor", "trusted advisors"),
    Stage.PEERS: ("peer", "peers"),
    Stage.ACQUAINTANCE: ("acquaintance", "acquaintances"),
    Stage.TALKING: ("talking", "talking"),
}
# A name in a script no installed font has (Chinese on a machine without a CJK font) draws as boxes, and matplotlib
# warns once per character, naming it, on stderr: a member's name spelled out outside the logs' format (a JSON line
# each) and their filter. The boxes are what installing a font cures (font_families); the warning adds nothing.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)

# One letter of each script matplotlib's own DejaVu Sans cannot write: Chinese (and Japanese kanji), Japanese kana,
# Korean hangul. A font is added to the fallback list for the scripts it writes that none before it does.
CJK_SAMPLES = ("李", "さ", "한")
# First among several that write them: Debian's fonts-noto-cjk, which the container image installs.
_PREFERRED = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "Noto Sans CJK HK")
# Fonts that have a glyph for every letter but draw a placeholder (matplotlib ships Last Resort as its own last
# fallback): listed, they would stand in for a real font found after them.
_PLACEHOLDERS = ("Last Resort",)

# How many names fit on a ring of radius 1 without overlapping; outer rings hold proportionally more.
_NAMES_PER_UNIT_RADIUS = 7
_LABEL_LENGTH = 14


@functools.cache
def font_families() -> tuple[str, ...]:
    """The font families text is drawn in. matplotlib falls back along the list glyph by glyph, so a name in
    Chinese, Japanese or Korean takes its letters from the first installed font that has them (any font matplotlib
    finds: Noto Sans CJK first, then by name, regular sans before serif and mono) instead of drawing boxes.

    matplotlib keeps a list of the machine's fonts from its first run; a font installed since then is added here,
    or installing one would change nothing until someone found and deleted that cache."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {entry.fname for entry in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            with contextlib.suppress(Exception):  # a file FreeType cannot read is left out, as matplotlib does
                manager.addfont(path)
    families, missing = ["DejaVu Sans"], set(CJK_SAMPLES)
    # Each family is judged by its face nearest upright regular (some CJK fonts come in Medium only).
    ranked = sorted(manager.ttflist, key=lambda e: (
        _PREFERRED.index(e.name) if e.name in _PREFERRED else len(_PREFERRED), "Serif" in e.name or "Mono" in e.name,
        e.name, e.style != "normal", abs(e.weight - 400) if isinstance(e.weight, int) else 0, e.fname, e.index))
    for entry in ranked:
        if not missing:
            break
        if entry.name in families or entry.name.startswith(_PLACEHOLDERS):
            continue
        try:
            font = font_manager.get_font(font_manager.FontPath(entry.fname, entry.index))
        except (OSError, RuntimeError):
            continue
        writes = {letter for letter in missing if font.get_char_index(ord(letter))}
        if writes:
            families.append(entry.name)
            missing -= writes
    return tuple(families)


def _figure(width: float, height: float) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    # Set where every picture starts rather than per text: tick labels are made at draw time, from rcParams.
    matplotlib.rcParams["font.family"] = list(font_families())
    # A bare Figure (not pyplot) keeps no global state between members' pictures.
    return Figure(figsize=(width, height), dpi=100)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def _short(name: str, length: int = _LABEL_LENGTH) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def own_map_png(picture: OwnMap) -> bytes:
    return _png(own_map_figure(picture))


def own_map_figure(picture: OwnMap) -> Figure:
    figure = _figure(8, 8)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_aspect("equal")
    axes.axis("off")
    outer = len(RINGS) + 1
    axes.set_xlim(-outer, outer)
    axes.set_ylim(-outer, outer)
    axes.scatter([0], [0], s=900, color="#fdae61", zorder=3)
    axes.text(0, 0, _short(picture.name), ha="center", va="center", fontsize=10, weight="bold", zorder=4)
    if not picture.ties:
        axes.text(0, -1.6, "No ties yet.\nAsk a colleague a question about their work:\n"
                  "every answer is a thread between you.", ha="center", va="top", fontsize=13, color="#444444")
        return figure
    names: list[_Name] = []
    for radius, stage in enumerate(RINGS, start=1):
        ties = picture.ring(stage)
        axes.add_patch(_circle(radius, _COLOURS[stage]))
        if ties:
            names += _draw_ring(axes, radius, stage, ties)
    _legend(axes, picture)
    _write_names(figure, axes, names)
    return figure


def _circle(radius: float, colour: str) -> Circle:
    from matplotlib.patches import Circle

    return Circle((0, 0), radius, fill=False, linestyle=":", linewidth=0.8, color=colour, alpha=0.5)


@dataclass(frozen=True)
class _Name:
    """A dot's name, to be written beside it once every dot is drawn."""

    x: float
    y: float
    angle: float
    name: str
    size: float  # the dot's, in points squared (scatter's s)


def _draw_ring(axes: Axes, radius: int, stage: Stage, ties: Sequence[Tie]) -> list[_Name]:
    names = []
    labelled = len(ties) <= _NAMES_PER_UNIT_RADIUS * radius
    # Small dots when a ring is crowded: 150 ties stay 150 visible dots rather than one blot.
    size = 160 if labelled else max(12, 160 * _NAMES_PER_UNIT_RADIUS * radius // len(ties))
    offset = radius * 0.7  # rings start at different angles so their labels do not line up
    for i, tie in enumerate(ties):
        angle = offset + 2 * math.pi * i / len(ties)
        x, y = radius * math.cos(angle), radius * math.sin(angle)
        style = "--" if tie.cooling else "-"
        if tie.advises_me is None:
            axes.plot([0, x], [0, y], style, color=_COLOURS[stage], linewidth=0.6, alpha=0.6, zorder=1)
        else:  # the arrow points at whoever gives the advice
            start, end = ((0, 0), (x, y)) if tie.advises_me else ((x, y), (0, 0))
            axes.annotate("", xy=end, xytext=start, zorder=1, arrowprops={
                "arrowstyle": "-|>", "color": _COLOURS[stage], "linestyle": style, "shrinkA": 12, "shrinkB": 12})
        axes.scatter([x], [y], s=size, zorder=2,
                     color="white" if tie.cooling else _COLOURS[stage], edgecolors=_COLOURS[stage],
                     marker="*" if tie.coffee else "o", linewidths=1.5)
        if labelled:
            names.append(_Name(x, y, angle, tie.name, size))
    if not labelled:
        axes.text(radius * math.cos(offset - 0.35), radius * math.sin(offset - 0.35),
                  plural(len(ties), *_RING_TITLES[stage]), fontsize=10, weight="bold", color=_COLOURS[stage],
                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    return names


def _forms(name: str) -> list[str]:
    """The name as written, then shorter: the first name, then initials."""
    words = name.split()
    return list(dict.fromkeys([_short(name), _short(words[0], 10) if words else name,
                               "".join(w[0] for w in words[:3]) or name]))


def _write_names(figure: Figure, axes: Axes, names: Sequence[_Name]) -> None:
    """Each name next to its dot where it covers no other text or dot and stays in the picture: under the dot,
    else above it, outside it or inside it, in a shorter form if need be. Neighbours on a ring are closer than a
    long name is wide, and the rings turn at different angles, so one fixed spot made names run into each other
    and into the member's own name."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    renderer = FigureCanvasAgg(figure).get_renderer()
    frame = figure.bbox
    # The member's own name, the legend, ring counts; not the advisors' arrows (annotations with no text).
    taken = [text.get_window_extent(renderer) for text in axes.texts if text.get_text()]
    for name in names:
        cx, cy = axes.transData.transform((name.x, name.y))
        half = math.sqrt(name.size) / 2 * figure.dpi / 72
        taken.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))
    for name in names:
        c, s = math.cos(name.angle), math.sin(name.angle)
        spots = [(0.0, -0.16, "center", "top"), (0.0, 0.16, "center", "bottom"),
                 (0.16 * c, 0.16 * s, "left" if c > 0.3 else "right" if c < -0.3 else "center",
                  "bottom" if s > 0.3 else "top" if s < -0.3 else "center"),
                 (-0.16 * c, -0.16 * s, "right" if c > 0.3 else "left" if c < -0.3 else "center",
                  "top" if s > 0.3 else "bottom" if s < -0.3 else "center")]
        placed = None
        for form in _forms(name.name):
            for dx, dy, ha, va in spots:
                text = axes.text(name.x + dx, name.y + dy, form, ha=ha, va=va, fontsize=8)
                box = text.get_window_extent(renderer)
                if frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1) and not any(
                        box.overlaps(other) for other in taken):
                    placed = box
                    break
                text.remove()
            if placed is not None:
                break
        if placed is None:  # nowhere free: the initials under the dot, where a reader looks first
            dx, dy, ha, va = spots[0]
            placed = axes.text(name.x + dx, name.y + dy, _forms(name.name)[-1], ha=ha, va=va,
                               fontsize=8).get_window_extent(renderer)
        taken.append(placed)


def _legend(axes: Axes, picture: OwnMap) -> None:
    lines = [plural(len(picture.ring(s)), *_RING_TITLES[s]) for s in RINGS if picture.ring(s)]
    lines.append("arrow: who advises whom")
    lines.append("hollow, dashed: going quiet")
    lines.append("star: coffee in the last 60 days")
    axes.text(-len(RINGS) - 0.9, len(RINGS) + 0.9, "\n".join(lines), va="top", fontsize=9,
              color="#333333")


def bar_chart_svg(title: str, labels: Sequence[str], values: Sequence[float],
                  beside: tuple[str, str, Sequence[float]] | None = None) -> str:
    """A small bar chart for the insights report, inline as SVG so the report needs no other file.

    `beside`: (label of `values`, label of a second series, the second series), drawn as a paler bar beside
    each month's first, with a legend."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure(6, 2.6)
    axes = figure.add_subplot()
    if beside is None:
        axes.bar(range(len(values)), values, color="#2c7bb6")
    else:
        first, second, more = beside
        axes.bar([i - 0.2 for i in range(len(values))], values, width=0.4, color="#2c7bb6", label=first)
        axes.bar([i + 0.2 for i in range(len(more))], more, width=0.4, color="#abd9e9", label=second)
        axes.legend(fontsize=8, frameon=False)
        values = [*values, *more]
    axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0, fontsize=8)
    # Counts of people and pairs: whole-number ticks from zero; months of zeros read as a flat zero
    # rather than as an axis from -0.04 to 0.04.
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([1, *values]) * 1.1)
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return svg(figure)


def team_map(teams: TeamTies, fmt: str) -> bytes:
    """Teams as nodes (sized by members), ties between them as edges (width by pairs); people are not drawn.

    Counts under the small-number threshold draw as a thin dotted edge or a small node, labelled "<5".
    """
    figure = _figure(9, 9)
    axes = figure.add_axes((0.05, 0.05, 0.9, 0.9))
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_xlim(-1.4, 1.4)
    axes.set_ylim(-1.4, 1.4)
    names = [name for name, _ in teams.teams]
    where = {name: (math.cos(2 * math.pi * i / len(names) + math.pi / 2),
                    math.sin(2 * math.pi * i / len(names) + math.pi / 2)) for i, name in enumerate(names)}
    widest = max((c.charted() for a, b, c in teams.ties if a != b), default=1) or 1
    for a, b, count in teams.ties:
        # No edge for a team of fewer than SMALL people, tie or not: a dotted edge would tell that it has one.
        if a == b or count.value == 0 or count.about_few:
            continue
        (x1, y1), (x2, y2) = where[a], where[b]
        if count.hidden:
            axes.plot([x1, x2], [y1, y2], ":", color="#999999", linewidth=0.8, zorder=1)
        else:
            axes.plot([x1, x2], [y1, y2], "-", color="#2c7bb6", alpha=0.6, zorder=1,
                      linewidth=1 + 9 * count.charted() / widest)
        axes.text((x1 + x2) / 2, (y1 + y2) / 2, "<5" if count.hidden else str(count.value), fontsize=8,
                  ha="center", va="center", color="#333333",
                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7})
    largest = max((c.charted() for _, c in teams.teams), default=1) or 1
    for name, members in teams.teams:
        x, y = where[name]
        axes.scatter([x], [y], s=300 + 2500 * members.charted() / largest, color="#fdae61", zorder=2)
        within = teams.between(name, name)
        axes.text(x, y, f"{_short(name)}\n{members.shown()} members\n{within.shown()} ties within", ha="center",
                  va="center", fontsize=9, zorder=3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()


def team_grid(teams: TeamTies, fmt: str) -> bytes:
    """The team x team table as a heat map: a row and a column per team, each cell the pairs with a tie between
    the two (within the team on the outlined diagonal), darker for more; hidden counts hatched and read <5.

    Where nodes and edges tangle (12 teams have 66 pairs of teams), a grid still reads at a glance."""
    from matplotlib.patches import Rectangle

    names = [name for name, _ in teams.teams]
    cells = [[teams.between(a, b) for b in names] for a in names]
    widest = max((c.charted() for row in cells for c in row), default=0) or 1
    side = max(4.0, 0.55 * len(names) + 3)
    figure = _figure(side, side)
    axes = figure.add_subplot()
    axes.imshow([[c.charted() for c in row] for row in cells], cmap="Blues", vmin=0, vmax=widest * 1.15)
    for i, row in enumerate(cells):
        for j, count in enumerate(row):
            if count.hidden:
                axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#eeeeee", hatch="///",
                                         edgecolor="#cccccc", linewidth=0))
            if i == j:
                axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#333333", linewidth=1.5))
            dark = not count.hidden and count.value > widest * 0.55
            axes.text(j, i, "<5" if count.hidden else str(count.value), ha="center", va="center", fontsize=8,
                      color="white" if dark else "#333333")
    labels = [f"{_short(name)} ({members.shown()})" for name, members in teams.teams]
    axes.set_xticks(range(len(names)), [_short(name) for name in names], rotation=90, fontsize=8)
    axes.set_yticks(range(len(names)), labels, fontsize=8)
    axes.tick_params(length=0)
    axes.set_title("Pairs with a tie within and between teams (members in brackets)", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()
