"""Settings from the environment and .env (see .env.example). Only the names documented there are read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
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


def load_settings() -> Settings:
    return Settings()

