"""Rapport's log lines hold ids, counts and reasons, never message text. Its own code sees to that; the platform
libraries do not: slack_bolt logs whole request bodies (at INFO when a signature fails), slack_sdk its HTTP
bodies, discord.py every gateway payload, aiosqlite every statement with its parameters (a profile's words) and
SQLAlchemy every row it reads (when an operator turns it on) at DEBUG. So every handler gets WithoutPayloads,
which drops those libraries' DEBUG output and cuts any body or payload off their other lines.

Names only: the core imports no platform SDK.

RAPPORT_LOG_FORMAT=json writes one JSON object a line (python-json-logger) for log collectors: the same fields as
the text lines, the same filter, and nothing else from the record (libraries' `extra` attributes could hold a
payload, so they are not written).
"""

from __future__ import annotations

import logging
import re
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

LIBRARIES = ("slack_bolt", "slack_sdk", "discord", "aiohttp", "aiosqlite", "sqlalchemy")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Where a library line starts quoting a payload: "body: ...", "payload=...", a dict or JSON dump.
_PAYLOAD = re.compile(r"\b(?:body|payload|params|data|event|message)s?\s*[:=]|request body|\{|\[\{", re.IGNORECASE)
WITHHELD = " (payload withheld)"
FORMATS = ("text", "json")
JSON_FIELDS = {"asctime": "time", "levelname": "level", "name": "logger", "message": "message"}


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


class JsonLines(JsonFormatter):
    """time, level, logger and message (and exc_info, the traceback, when there is one); no other attribute."""

    def __init__(self) -> None:
        super().__init__(" ".join(f"%({field})s" for field in JSON_FIELDS), rename_fields=JSON_FIELDS,
                         json_ensure_ascii=False)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        for field in JSON_FIELDS:  # a dict logged as the message is not merged in: the filter made it text
            log_data[JSON_FIELDS[field]] = record.__dict__.get(field)


def configure(level: str, stream: IO[str] | None = None, format: str = "text") -> None:
    """Logging for a Rapport process: one format (text or JSON lines), and no library payloads on any handler."""
    if format not in FORMATS:
        raise ValueError(f"RAPPORT_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {format!r}")
    logging.basicConfig(level=level.upper(), format=FORMAT, stream=stream)
    # Python's warnings print to stderr on their own, past the format and the filter: a JSON line each, like the rest.
    logging.captureWarnings(True)
    for handler in logging.root.handlers:
        if not any(isinstance(f, WithoutPayloads) for f in handler.filters):
            handler.addFilter(WithoutPayloads())
        if format == "json":
            handler.setFormatter(JsonLines())
    for lib in LIBRARIES:  # their DEBUG records would be dropped anyway: do not even make them
        logger = logging.getLogger(lib)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
