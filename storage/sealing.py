"""Secrets at rest (Slack installation tokens) sealed with RAPPORT_SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`, keyed by SHA-256 of the secret key. In production mode
the key is required. In development, a random key is made once and kept in `.rapport-secret` (mode 0600) in the
folder Rapport runs from (where the default SQLite database is too), so a local install is sealed too without
configuration.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

PREFIX = "sealed:v1:"
DEV_KEY_FILE = Path(".rapport-secret")


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names it."""


class Sealer:
    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()))

    def seal(self, value: str | None) -> str | None:
        if not value or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        if not value or not value.startswith(PREFIX):
            return value  # written before sealing existed
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be opened with this RAPPORT_SECRET_KEY (was the key changed?)") from None


def sealer(secret_key: str | None, production: bool, key_file: Path = DEV_KEY_FILE) -> Sealer:
    # A key of spaces (`RAPPORT_SECRET_KEY= ` in an .env) is no secret: counted as none. A real key is used as
    # given, surrounding spaces and all, so that what it sealed before still opens.
    if secret_key and secret_key.strip():
        return Sealer(secret_key)
    if production:
        raise ConfigurationError("RAPPORT_SECRET_KEY is required when RAPPORT_ENV=production (see .env.example)")
    try:
        if not key_file.exists() and _made(key_file):
            log.warning("no RAPPORT_SECRET_KEY: made a development key in %s; set one for production", key_file)
        return Sealer(key_file.read_text().strip())
    except OSError as error:  # a read-only working directory, a folder by that name
        raise ConfigurationError(f"no RAPPORT_SECRET_KEY, and the development key in {key_file} cannot be made or "
                                 f"read ({error.strerror}): set RAPPORT_SECRET_KEY, or run Rapport from a folder "
                                 "it may write to") from None


def _made(key_file: Path) -> bool:
    """Make the key file whole and private from the start, unless another process made it first (two processes
    started together must not each keep a key of their own): written under a temporary name with mode 0600, then
    linked in place, which fails if the name is taken."""
    draft = key_file.with_name(f"{key_file.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, key_file)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True
