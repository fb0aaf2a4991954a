"""The JSON files of a chat export (a folder or a .zip), read within limits: a crafted export must not exhaust
memory (a zip bomb inflates only as far as the limits) or the stack (JSON nested 100,000 deep).

A file past a limit is skipped and counted by reason, like any malformed file; an export past the total is
refused as a whole, with one line saying so.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

MAX_FILE_BYTES = 128 * 2**20  # one JSON file, as decompressed (a busy Discord channel's export is tens of MB)
MAX_TOTAL_BYTES = 4 * 2**30  # every file of one export together, as decompressed
# Nesting deeper than the JSON decoder's recursion limit (about 1,000 levels; exports use under 10) is refused.


@dataclass
class Budget:
    """What is left of MAX_TOTAL_BYTES for one export."""

    left: int = MAX_TOTAL_BYTES


def read_json(file: Traversable, skipped: Counter[str], budget: Budget) -> Any | None:
    """The file's JSON, or None (counted in `skipped`) when it is unreadable, too large, too deep or not JSON.
    ValueError when the export as a whole is past MAX_TOTAL_BYTES."""
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # a zip member inflates as it is read: never past this
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError):  # unreadable; in a zip: corrupt, a bad CRC, cut short
        skipped["unreadable file"] += 1
        return None
    if len(data) > MAX_FILE_BYTES:
        skipped[f"file over {MAX_FILE_BYTES // 2**20} MB"] += 1
        return None
    budget.left -= len(data)
    if budget.left < 0:
        raise ValueError(f"the export inflates to more than {MAX_TOTAL_BYTES // 2**30} GB of JSON: "
                         "import it in parts (a folder at a time)")
    try:
        loaded = json.loads(data)
    except RecursionError:
        skipped["file nested too deep"] += 1
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):
        loaded = None
    if loaded is None:  # a JSON `null` too: no export's file is one, and None would read as "no file at all"
        skipped["malformed file"] += 1
    return loaded
