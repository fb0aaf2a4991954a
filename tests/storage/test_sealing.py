"""Secrets at rest: sealed with RAPPORT_SECRET_KEY, required in production, a local key in development."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.sealing import PREFIX, ConfigurationError, Sealer, sealer
from tests.conftest import rapport


def test_seal_and_open_round_trip() -> None:
    box = Sealer("k1")
    sealed = box.seal("xoxb-secret")
    assert sealed and sealed.startswith(PREFIX) and "xoxb-secret" not in sealed
    assert box.open(sealed) == "xoxb-secret"
    assert box.seal(sealed) == sealed  # never sealed twice
    assert box.open("xoxb-legacy") == "xoxb-legacy"  # rows written before sealing still work


def test_a_wrong_key_is_a_clear_error() -> None:
    sealed = Sealer("k1").seal("xoxb-secret")
    with pytest.raises(ConfigurationError, match="RAPPORT_SECRET_KEY"):
        Sealer("k2").open(sealed)


def test_production_requires_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="RAPPORT_SECRET_KEY is required"):
        sealer(None, production=True, key_file=tmp_path / "key")


def test_development_makes_a_private_key_once(tmp_path: Path) -> None:
    key = tmp_path / "key"
    first = sealer(None, production=False, key_file=key).seal("t")
    assert key.stat().st_mode & 0o777 == 0o600
    assert sealer(None, production=False, key_file=key).open(first) == "t"


def test_a_development_key_made_meanwhile_by_another_process_is_the_one_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "key"
    theirs = Sealer("their-key").seal("t")

    def another_process_wins(size: int) -> str:  # between our look for the file and our writing it
        key.write_text("their-key")
        return "our-key"

    monkeypatch.setattr("storage.sealing.secrets.token_urlsafe", another_process_wins)
    assert sealer(None, production=False, key_file=key).open(theirs) == "t"
    assert key.read_text() == "their-key" and list(tmp_path.iterdir()) == [key]


def test_a_development_key_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".rapport-secret").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_SECRET_KEY"}
    env.update(RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}")
    run = rapport(["graph"], env, timeout=60, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "the development key in .rapport-secret cannot be made or read (Is a directory): set " \
           "RAPPORT_SECRET_KEY" in run.stderr


def test_rapport_refuses_to_start_in_production_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_SECRET_KEY"}
    env.update(RAPPORT_ENV="production", RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}")
    run = rapport(["graph"], env, timeout=60)
    assert run.returncode == 2
    assert "RAPPORT_SECRET_KEY is required" in run.stderr and "Traceback" not in run.stderr


def test_a_blank_key_is_no_key(tmp_path: Path) -> None:
    # `RAPPORT_SECRET_KEY= ` in an .env: a key of spaces sealed Slack tokens under a key anyone can guess, and
    # production started with it.
    env = {**os.environ, "RAPPORT_ENV": "production", "RAPPORT_SECRET_KEY": "   ",
           "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    run = rapport(["graph"], env, timeout=60)
    assert run.returncode == 2
    assert "RAPPORT_SECRET_KEY is required" in run.stderr and "Traceback" not in run.stderr
    with pytest.raises(ConfigurationError, match="RAPPORT_SECRET_KEY is required"):
        sealer(" \t", production=True, key_file=tmp_path / "key")
