"""Every setting Rapport reads is in .env.example, and .env.example lists nothing Rapport does not read."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import re
from pathlib import Path

from pydantic_settings import BaseSettings

from tests.conftest import ROOT, rapport

SETTINGS_CLASS = re.compile(r"^class (\w+)\(BaseSettings\):", re.MULTILINE)
EXAMPLE_NAME = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def settings_classes() -> list[type[BaseSettings]]:
    """Every BaseSettings class in the code, found from the source so that a new one cannot be forgotten here."""
    found: list[type[BaseSettings]] = []
    for package in ("bot", "adapters", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            names = SETTINGS_CLASS.findall(path.read_text())
            if names:
                module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
                found.extend(getattr(module, name) for name in names)
    return found


def variable_names(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    return {(field.alias or f"{prefix}{name}").upper() for name, field in cls.model_fields.items()}


def test_env_example_lists_exactly_the_settings_that_are_read() -> None:
    classes = settings_classes()
    assert {c.__name__ for c in classes} >= {"Settings", "SlackSettings", "DiscordSettings"}
    read = set().union(*(variable_names(c) for c in classes))
    documented = set(EXAMPLE_NAME.findall((ROOT / ".env.example").read_text()))
    assert read - documented == set(), "read but not in .env.example"
    assert documented - read == set(), "in .env.example but never read"


def test_version(env: dict[str, str]) -> None:
    run = rapport(["--version"], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"rapport {importlib.metadata.version('rapport')}"


def test_console_workspace_setting_is_used(env: dict[str, str], tmp_path: Path) -> None:
    workspace = tmp_path / "workspace.json"
    workspace.write_text(json.dumps({"members": [{"id": "zed", "name": "Zed"}], "channels": [{"id": "ops"}]}))
    run = rapport(["console"], {**env, "RAPPORT_CONSOLE_WORKSPACE": str(workspace)}, "members\nchannels\n")
    assert run.returncode == 0, run.stderr
    assert "Zed" in run.stdout and "ops" in run.stdout
    assert "Alice" not in run.stdout


def test_env_example_gives_the_default_slack_scopes() -> None:
    """.env.example says SLACK_SCOPES defaults to exactly the manifest's: the list it shows must be that one."""
    from adapters.slack.settings import BOT_SCOPES

    shown = re.search(r"^# SLACK_SCOPES=(\S+)$", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert shown is not None
    assert tuple(shown.group(1).split(",")) == BOT_SCOPES
