"""A member's own map: their ties by stage, drawn to PNG, delivered to them alone; never a tie between two others."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Rapport
from bot.events import ButtonPressed, CommandInvoked, Member, MessagePosted
from bot.graph.rapport import Stage
from bot.insight.drawing import own_map_figure
from bot.insight.own_map import RINGS, OwnMap, Tie, own_map
from bot.relationships import MAP_ACTION
from tests.conftest import rapport
from tests.fakes import FakeClock, FakeOutbound, FakeStore
from tests.fonts import NO_CJK_FONT, cjk_font_installed
from tests.test_console import _console, _said

PNG = b"\x89PNG\r\n\x1a\n"
WS = "T1"


async def _talk(core: Rapport, pairs: list[tuple[str, str]], times: int = 1, run: str = "") -> None:
    await core.store.members.upsert([Member(WS, u, u.title()) for pair in pairs for u in pair])
    n = 0
    at = core.clock.now() - timedelta(days=1)
    for _ in range(times):
        for asker, answerer in pairs:
            n += 1
            q = MessagePosted(WS, "C1", f"{run}m{n}", asker, at + timedelta(minutes=n), "how?", mentions=(answerer,))
            n += 1
            a = MessagePosted(WS, "C1", f"{run}m{n}", answerer, at + timedelta(minutes=n), "so", reply_to=q.message_id)
            assert await core.on_message(q) and await core.on_message(a)


async def test_the_map_holds_only_the_members_own_ties_by_stage(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    # ana and bob are peers; carl keeps asking ana (ana advises carl); bob and carl know each other too.
    await _talk(core, [("ana", "bob"), ("bob", "ana"), ("bob", "carl")])
    await _talk(core, [("carl", "ana")], times=5, run="advice")

    picture = await own_map(fake_store, WS, "ana", clock.now())

    assert picture.name == "Ana"
    assert {(t.other, t.stage, t.advises_me) for t in picture.ties} == {
        ("bob", Stage.PEERS, None), ("carl", Stage.TRUSTED_ADVISOR, False)}
    assert not any(t.coffee or t.cooling for t in picture.ties)


async def test_me_offers_the_picture_and_the_button_draws_it(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    await _talk(core, [("ana", "bob"), ("bob", "ana")])
    listing = await core.on_command(CommandInvoked(WS, "C1", "ana", "me"))
    assert [b.action_id for b in listing.buttons] == [MAP_ACTION]

    drawn = await core.on_button(ButtonPressed(WS, "C1", "ana", MAP_ACTION))

    assert drawn is not None and drawn.ephemeral and drawn.attachment is not None
    assert drawn.attachment.content.startswith(PNG)
    assert drawn.attachment.filename == "rapport-map-T1-ana.png"


async def test_no_ties_gets_a_picture_and_how_ties_form(fake_store: FakeStore, clock: FakeClock) -> None:
    core = Rapport(fake_store, clock, FakeOutbound())
    await fake_store.members.upsert([Member(WS, "zoe", "Zoe")])
    drawn = await core.on_command(CommandInvoked(WS, "C1", "zoe", "me map"))
    assert drawn.attachment is not None and drawn.attachment.content.startswith(PNG)
    assert "ask a colleague something about their work" in drawn.text


async def test_console_writes_the_map_under_exports(sql_store: Any, tmp_path: Path) -> None:
    session, out = await _console(sql_store)
    session.exports = tmp_path / "exports"
    await _said(session, out, "@alice #general bob: how do I rotate the staging keys?")
    await _said(session, out, "@bob ^1 there's a script in ops/")

    said = await _said(session, out, "@alice #general /rapport me map")

    (path,) = (tmp_path / "exports").iterdir()
    assert f"file: {path.resolve()}" in said
    assert path.read_bytes().startswith(PNG)


# A name the installed fonts cannot write (李小龙 with DejaVu Sans only) made matplotlib warn, naming each character,
# on stderr past the logging setup: with RAPPORT_LOG_FORMAT=json those were lines a log collector cannot read.
def test_a_name_the_fonts_lack_leaves_the_json_logs_json(env: dict[str, str], tmp_path: Path) -> None:
    workspace = tmp_path / "workspace.json"
    workspace.write_text(json.dumps({"members": [{"id": "li", "name": "李小龙", "admin": True},
                                                 {"id": "bo", "name": "Bo"}], "channels": [{"id": "gen"}]}),
                         encoding="utf-8")
    script = "@bo #gen: @li how do I deploy?\n@li ^1 with the script\n@li /rapport me map\n@bo /rapport me map\n"
    run = rapport(["console", "--workspace-file", str(workspace)],
                  {**env, "RAPPORT_LOG_FORMAT": "json", "RAPPORT_LOG_LEVEL": "INFO"}, script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("*Your map*") == 2
    for line in run.stderr.splitlines():
        assert set(json.loads(line)) <= {"time", "level", "logger", "message", "exc_info"}, line
    assert "CJK" not in run.stderr and "李" not in run.stderr


# Names in Chinese, Japanese and Korean drew as boxes: the map wrote text in DejaVu Sans alone, even where a CJK
# font was installed. Each name's letters share one Unicode block, so drawn as boxes (or as matplotlib's last-resort
# glyph for the block) they would all be one picture; written, each letter is its own.
@pytest.mark.skipif(not cjk_font_installed(), reason=NO_CJK_FONT + ", so these names can only draw as boxes")
def test_names_in_chinese_japanese_and_korean_are_written_not_boxes() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = ("李小龙", "さくらこ", "김민준")
    figure = own_map_figure(OwnMap("me", names[0], tuple(
        Tie(f"u{i}", name, Stage.PEERS, None, False, False) for i, name in enumerate(names[1:]))))
    texts = {text.get_text(): text for text in figure.axes[0].texts}
    for name in names:
        weight = texts[name].get_fontweight()  # the member's own name is bold: a face of its own
        letters = []
        for letter in name:
            alone = Figure(figsize=(0.5, 0.5), dpi=100)
            alone.text(0.5, 0.5, letter, fontproperties=texts[name].get_fontproperties(), ha="center", va="center")
            canvas = FigureCanvasAgg(alone)
            canvas.draw()
            letters.append(bytes(canvas.buffer_rgba()))
        assert len(set(letters)) == len(name), f"{name} ({weight}) draws as one repeated glyph: boxes"
        assert all(set(drawn) != {255} for drawn in letters), name  # something was drawn


def test_without_a_cjk_font_text_is_drawn_in_dejavu_sans_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine with matplotlib's own fonts only (CI's): no family is listed that nothing was found for,
    # which matplotlib would warn about at every picture.
    from matplotlib import font_manager

    from bot.insight import drawing

    own = [e for e in font_manager.fontManager.ttflist if "mpl-data" in e.fname]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", own)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *_: [])
    drawing.font_families.cache_clear()
    try:
        assert drawing.font_families() == ("DejaVu Sans",)
        assert own_map_figure(OwnMap("me", "李小龙", ())).axes[0].texts
    finally:
        drawing.font_families.cache_clear()


# README: names are written while they fit on their ring (7 per ring unit). Neighbours on a ring sit closer than a
# long name is wide, and each ring turns at its own angle: written under every dot, names ran into each other and
# into the member's own name (15 overlaps at full rings, one already with 3, 5, 8 and 10 ties).
@pytest.mark.parametrize("counts", [(7, 14, 21, 28), (3, 5, 8, 10), (6, 13, 20, 27), (0, 14, 0, 0), (7, 0, 0, 0)])
def test_names_on_the_map_cover_no_other_name(counts: tuple[int, ...]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    long_names = ["Bartholomew Christopherson", "Maximiliano Rodríguez", "Kwame Nkrumah-Mensah", "Zoë Ångström"]
    ties = [Tie(f"u{stage.value}{i}", f"{long_names[i % 4]} {i}", stage,
                (i % 2 == 0) if stage is Stage.TRUSTED_ADVISOR else None, i % 3 == 0, i % 4 == 0)
            for stage, count in zip(RINGS, counts, strict=True) for i in range(count)]
    figure = own_map_figure(OwnMap("me", "Maximilian Alexander", tuple(ties)))
    renderer = FigureCanvasAgg(figure).get_renderer()
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in figure.axes[0].texts if text.get_text()]

    assert len(boxes) == 2 + len(ties)  # the member's own name, the legend, and every name
    for i, (name, box) in enumerate(boxes):
        assert figure.bbox.contains(box.x0, box.y0) and figure.bbox.contains(box.x1, box.y1), name
        assert not [other for other, then in boxes[i + 1:] if box.overlaps(then)], name
