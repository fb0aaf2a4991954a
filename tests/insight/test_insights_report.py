"""`rapport insights` for operators: totals on the terminal, and one self-contained HTML file with inline charts."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from adapters.cli import app
from tests.test_console import SCRIPT


def test_the_report_is_one_file_with_no_names_and_nothing_to_fetch(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["console"], input=SCRIPT, env=env).exit_code == 0
    report = tmp_path / "report.html"

    run = runner.invoke(app, ["insights", "--workspace", "console", "--out", str(report)], env=env)

    assert run.exit_code == 0, run.output
    assert "Members Rapport knows: 5" in run.output and "Pairs at peers: fewer than 5" in run.output
    assert "No coffee is set up." in run.output
    page = report.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "With no tie at all yet:" in page
    # Nothing that a browser would fetch: no scripts, no external links or images.
    assert not re.search(r"<script|<link|<img|src=|href=\"https?:|url\(https?:|@import", page)
    assert not any(name in page for name in ("alice", "bob", "carol", "dave", "erin", "Alice", "Bob", "Carol"))

    nowhere = tmp_path / "no-such-folder" / "report.html"
    unwritable = runner.invoke(app, ["insights", "--workspace", "console", "--out", str(nowhere)], env=env)
    assert unwritable.exit_code == 2
    assert f"error: cannot write {nowhere}: No such file or directory" in unwritable.output


def test_the_team_map_needs_teams_and_a_picture_format(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["console"], input=SCRIPT + "@alice #general /rapport coffee setup weekly monday 10:00\n"
                               "@alice #general /rapport coffee join team Platform\n"
                               "@bob #general /rapport coffee join team Data\n", env=env).exit_code == 0

    assert runner.invoke(app, ["map", "--workspace", "console", "--out", str(tmp_path / "m.gif")],
                         env=env).exit_code == 2
    nowhere = tmp_path / "no-such-folder" / "teams.svg"
    unwritable = runner.invoke(app, ["map", "--workspace", "console", "--out", str(nowhere)], env=env)
    assert unwritable.exit_code == 2 and f"error: cannot write {nowhere}: No such file or directory" in \
        unwritable.output
    drawn = runner.invoke(app, ["map", "--workspace", "console", "--out", str(tmp_path / "teams.svg")], env=env)

    assert drawn.exit_code == 0, drawn.output
    picture = (tmp_path / "teams.svg").read_text()
    # matplotlib draws text as paths and keeps each string as a comment beside it.
    assert "<!-- Platform -->" in picture and "<!-- Data -->" in picture
    assert "<!-- fewer than 5 members -->" in picture
    assert not any(name in picture for name in ("alice", "Alice", "bob", "Bob"))

    gridded = runner.invoke(app, ["map", "--workspace", "console", "--grid", "--out", str(tmp_path / "grid.svg")],
                            env=env)

    assert gridded.exit_code == 0, gridded.output
    grid = (tmp_path / "grid.svg").read_text()
    # A row and a column per team, every cell about teams of fewer than 5 people: 4 cells read <5.
    assert "<!-- Platform (fewer than 5) -->" in grid and "<!-- Data (fewer than 5) -->" in grid
    assert grid.count("<!-- &lt;5 -->") == 4
    assert not any(name in grid for name in ("alice", "Alice", "bob", "Bob"))
