"""`rapport console`: the console workspace on a terminal, or replaying a script.

On a terminal, what arrives while you type (a DM from a coffee round, a log line) is printed above the prompt and
the prompt is drawn again with what you had typed; Slack-style *bold*, _italics_ and `code` are shown with rich's
styles; Ctrl-C leaves at once. A replayed script prints plain text, exactly as the core wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.text import Text

from adapters.bootstrap import bootstrap
from adapters.console.session import ConsoleClock, ConsoleOutbound, ConsoleSession
from adapters.console.workspace import load_workspace
from adapters.settings import load_settings
from bot.outbound import Outbounds
from bot.scheduling import start_ticker

# Slack mrkdwn as the core writes it: *bold*, _italic_, ~strike~, `code`. Markers hug the words they wrap.
_MRKDWN = re.compile(r"`([^`\n]+)`|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"
                     r"|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])|(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_STYLES = ("bold cyan", "bold", "italic", "strike")


def styled(text: str) -> Text:
    """Slack mrkdwn as rich Text: the markers become styles; nothing in the text is read as rich markup."""
    out = Text()
    end = 0
    for match in _MRKDWN.finditer(text):
        out.append(text[end:match.start()])
        group = next(i for i in range(1, 5) if match.group(i) is not None)
        out.append(match.group(group), style=_STYLES[group - 1])
        end = match.end()
    out.append(text[end:])
    return out


class Screen:
    """Prints above a live input prompt: clears the prompt line, prints, then redraws the prompt and the text
    typed so far (from readline), so output arriving from the ticker or a log line never lands inside it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.prompt: str | None = None  # set while input() is waiting
        self._lock = threading.RLock()

    def write(self, text: str, style: bool = True) -> None:
        with self._lock:
            if self.prompt is not None:
                self.console.file.write("\r\x1b[2K")
            self.console.print(styled(text) if style else Text(text), soft_wrap=True)
            if self.prompt is not None:
                self.console.file.write(self.prompt + _typed())
                self.console.file.flush()

    async def ask(self, prompt: str) -> str:
        """input() in a daemon thread: Ctrl-C ends the console at once, without waiting for Enter."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def settle(value: str | None, error: BaseException | None) -> None:
            if answer.done():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(value or "")

        def read() -> None:
            try:
                value = input(prompt)
            except BaseException as error:  # EOFError, KeyboardInterrupt: handed to the loop
                loop.call_soon_threadsafe(settle, None, error)
            else:
                loop.call_soon_threadsafe(settle, value, None)

        with self._lock:
            self.prompt = prompt
        try:
            threading.Thread(target=read, daemon=True, name="console-input").start()
            return await answer
        finally:
            with self._lock:
                self.prompt = None


def _typed() -> str:
    try:
        import readline
    except ImportError:  # pragma: no cover - readline exists wherever the console runs interactively
        return ""
    return readline.get_line_buffer()


class _ScreenHandler(logging.Handler):
    """Log lines through the Screen, so they print above the prompt, not over it."""

    def __init__(self, screen: Screen, like: logging.Handler) -> None:
        super().__init__(like.level)
        self.screen = screen
        self.setFormatter(like.formatter)
        for f in like.filters:
            self.addFilter(f)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.screen.write(self.format(record), style=False)
        except Exception:  # logging must never break the console
            self.handleError(record)


async def run_console(workspace_file: Path | None, script: list[str] | None) -> None:
    """Interactive when `script` is None; else replays its lines and returns."""
    workspace = load_workspace(workspace_file)
    clock = ConsoleClock()
    console = Console(highlight=False)
    screen = Screen(console)

    def write(text: str) -> None:
        if script is None and console.is_terminal:
            screen.write(text)
        else:
            console.print(text, markup=False, soft_wrap=True)

    core = await bootstrap(load_settings(), clock)
    assert isinstance(core.outbound, Outbounds)
    outbound = ConsoleOutbound(workspace, write)
    core.outbound.add(outbound)
    session = ConsoleSession(core, workspace, clock, write, last_reply=outbound.last_reply)
    try:
        await session.start()
        if script is not None:
            for line in script:
                if not await session.handle(line):
                    break
            return
        await _interactive(session, screen)
    finally:
        await core.store.close()


async def _interactive(session: ConsoleSession, screen: Screen) -> None:
    import readline  # noqa: F401  (line editing and history for input())

    root = logging.getLogger()
    replaced = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and h.stream in (sys.stderr,
                                                                                                  sys.stdout)]
    for handler in replaced:
        root.removeHandler(handler)
        root.addHandler(_ScreenHandler(screen, handler))
    scheduler = start_ticker(session.core.ticker)
    try:
        await _chat(session, screen)
    except (KeyboardInterrupt, asyncio.CancelledError):
        screen.console.print()  # off the prompt line; the interrupt goes on to exit with status 130
        raise
    finally:
        scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        for ours in [h for h in root.handlers if isinstance(h, _ScreenHandler)]:
            root.removeHandler(ours)
        for handler in replaced:
            root.addHandler(handler)


async def _chat(session: ConsoleSession, screen: Screen) -> None:
    session.write(f"Rapport console workspace '{session.workspace.workspace_id}'. Type `help` for how to chat, "
                  "`/rapport help` for commands, `quit` to leave (or Ctrl-C).")
    while True:
        try:
            line = await screen.ask(session.prompt)
        except EOFError:
            break
        before = session.last_reply.get(session.user)
        if not await session.handle(line):
            break
        shown = session.last_reply.get(session.user)
        if shown is not before and shown is not None and shown.form is not None:
            await session.ask_form(session.user, session.channel, shown.form, screen.ask)
