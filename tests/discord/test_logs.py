"""discord.py logs gateway payloads and HTTP bodies at DEBUG: none of it may reach Rapport's log."""

from __future__ import annotations

from collections.abc import Callable

from tests.discord.conftest import ANA, BOB, Harness
from tests.discord.test_interactions import embed_text

SENTINEL = "zebra-quokka-4417"


async def test_no_message_text_reaches_the_logs(every_log_line: Callable[[], list[str]],
                                                discord_bot: Harness) -> None:
    await discord_bot.post(BOB, 0, "morning all")
    await discord_bot.post(ANA, 1, f"did anyone see {SENTINEL}?")
    share = discord_bot.command("share", ANA, {"someone": BOB})
    share["data"]["options"][0]["options"].append(
        {"name": "details", "type": 3, "value": f"https://example.com/a note {SENTINEL}"})
    await discord_bot.send("INTERACTION_CREATE", share)
    assert "Sent https://example.com/a to" in embed_text(discord_bot.responses()[-1])
    # The note went out through discord.py's HTTP client (whose DEBUG lines quote request bodies).
    assert any(SENTINEL in str(r.body) for r in discord_bot.fake.sent(r"/channels/\d+/messages"))

    lines = every_log_line()
    assert any(line.split()[1].startswith("discord") for line in lines)  # discord.py did log
    assert [line for line in lines if SENTINEL in line] == []
