"""`rapport console`: the console workspace on a terminal, or replaying a script."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from adapters.console.session import ConsoleClock, ConsoleOutbound, ConsoleSession
from adapters.console.workspace import load_workspace
from bot.bootstrap import bootstrap
from bot.outbound import Outbounds
from bot.scheduling import start_ticker
from bot.settings import load_settings


async def run_console(workspace_file: Path | None, script: list[str] | None) -> None:
    """Interactive when `script` is None; else replays its lines and returns."""
    workspace = load_workspace(workspace_file)
    clock = ConsoleClock()
    console = Console(highlight=False)

    def write(text: str) -> None:
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
        await _interactive(session)
    finally:
        await core.store.close()


async def _ask(prompt: str) -> str:
    return await asyncio.to_thread(input, prompt)


async def _interactive(session: ConsoleSession) -> None:
    import readline  # noqa: F401  (line editing and history for input())

    scheduler = start_ticker(session.core.ticker)
    try:
        await _chat(session)
    finally:
        scheduler.shutdown(wait=False)  # type: ignore[attr-defined]


async def _chat(session: ConsoleSession) -> None:
    session.write(f"Rapport console workspace '{session.workspace.workspace_id}'. Type `help` for how to chat, "
                  "`/rapport help` for commands, `quit` to leave.")
    while True:
        try:
            line = await _ask(session.prompt)
        except EOFError:
            break
        before = session.last_reply.get(session.user)
        if not await session.handle(line):
            break
        shown = session.last_reply.get(session.user)
        if shown is not before and shown is not None and shown.form is not None:
            await session.ask_form(session.user, session.channel, shown.form, _ask)
