"""Rapport's log lines hold ids, counts and reasons, never message text. Its own code sees to that; the platform
libraries do not: slack_bolt logs whole request bodies (at INFO when a signature fails), slack_sdk its HTTP
bodies and discord.py every gateway payload at DEBUG. So every handler gets WithoutPayloads, which drops those
libraries' DEBUG output and cuts any body or payload off their other lines.

Names only: the core imports no platform SDK.
"""

from __future__ import annotations

import logging
import re
from typing import IO

LIBRARIES = ("slack_bolt", "slack_sdk", "discord", "aiohttp")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Where a library line starts quoting a payload: "body: ...", "payload=...", a dict or JSON dump.
_PAYLOAD = re.compile(r"\b(?:body|payload|params|data|event|message)s?\s*[:=]|request body|\{|\[\{", re.IGNORECASE)
WITHHELD = " (payload withheld)"


def _from_library(name: str) -> bool:
    return any(name == lib or name.startswith(f"{lib}.") for lib in LIBRARIES)


class WithoutPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _from_library(record.name):
            return True
        if record.levelno < logging.INFO:
            return False  # these libraries' DEBUG lines are payload dumps
        text = record.getMessage()
        cut = _PAYLOAD.search(text)
        if cut is not None:
            record.msg, record.args = text[:cut.start()].rstrip(" ,:(") + WITHHELD, ()
        return True


def configure(level: str, stream: IO[str] | None = None) -> None:
    """Logging for a Rapport process: one format, and no library payloads on any handler."""
    logging.basicConfig(level=level.upper(), format=FORMAT, stream=stream)
    for handler in logging.root.handlers:
        if not any(isinstance(f, WithoutPayloads) for f in handler.filters):
            handler.addFilter(WithoutPayloads())
    for lib in LIBRARIES:  # their DEBUG records would be dropped anyway: do not even make them
        logger = logging.getLogger(lib)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
