"""Settings from the environment and .env (see .env.example). Only the names documented there are read."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///rapport.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="RAPPORT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    env: Literal["development", "production"] = "development"
    secret_key: SecretStr | None = None  # seals Slack tokens at rest; required in production
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log collectors
    console_workspace: str = Field(default="", description="a JSON file describing the console workspace")

    @field_validator("log_level")
    @classmethod
    def _a_level(cls, level: str) -> str:
        if level.upper() not in logging.getLevelNamesMapping():
            raise ValueError("should be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level


def load_settings() -> Settings:
    return Settings()


def wrong_settings(error: ValidationError) -> str:
    """Each wrong setting by the name it is set under, in one line. The values are left out: one may be a secret."""
    def name(field: object) -> str:  # aliased fields are named by their variable already
        return str(field) if str(field).isupper() else f"RAPPORT_{str(field).upper()}"

    return "; ".join(f"{name(e['loc'][0]) if e['loc'] else 'settings'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in error.errors())
