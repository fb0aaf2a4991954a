"""`rapport console` on a real (pseudo-)terminal, as someone types into it: the prompt, styles and Ctrl-C."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.terminal import Screen, _ScreenHandler

ROOT = Path(__file__).resolve().parent.parent
PROMPT = b"Alice in #general> "


def _own_terminal() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, so Ctrl-C sends SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "console"], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
            env={**env, "TERM": "xterm-256color", "COLUMNS": "200", "RAPPORT_LOG_LEVEL": "INFO"},
            preexec_fn=_own_terminal)
        os.close(slave)
        self.seen = b""

    def read_until(self, wanted: bytes, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {wanted!r} in {self.seen[-2000:]!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    break
        return self.seen

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        os.close(self.master)


@pytest.fixture
def terminal(env: dict[str, str]) -> Terminal:
    term = Terminal(env)
    yield term
    term.close()


def test_log_lines_never_land_on_the_prompt_and_styles_render(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.read_until(b"retention:")  # the ticker's first run logs, around the time the prompt appears
    start = len(terminal.seen)
    terminal.type("/rapport help\r")
    terminal.read_until(b"sees this")
    terminal.read_until(b"retention")
    assert not re.search(rb"#general> (?:\x1b\[[0-9;]*m)*\d{4}-\d\d-\d\d ", terminal.seen), terminal.seen
    help_text = terminal.seen[start:].split(b"sees this", 1)[1]
    assert b"\x1b[1m" in help_text  # *bold* is bold, not asterisks
    assert b"`" not in help_text  # `code` is styled, not back-ticked


def test_output_while_typing_goes_above_the_prompt_which_is_drawn_again() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    screen = Screen(console)
    screen.prompt = "Alice in #general> "  # input() is waiting
    handler = _ScreenHandler(screen, logging.StreamHandler())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.emit(logging.LogRecord("bot.nudges.nudges", logging.INFO, __file__, 1, "nudges: %d planned", (0,), None))
    screen.write("[DM to @Alice] *Virtual coffee*: you are meeting @Bob")
    assert console.file.getvalue() == (  # type: ignore[attr-defined]
        "\r\x1b[2KINFO nudges: 0 planned\nAlice in #general> "
        "\r\x1b[2K[DM to @Alice] Virtual coffee: you are meeting @Bob\nAlice in #general> ")


def test_ctrl_c_leaves_at_once(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.type("half a line")
    terminal.type("\x03")
    assert terminal.process.wait(15) == 130
