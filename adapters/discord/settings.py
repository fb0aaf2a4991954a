"""Discord settings from the environment and .env. Names follow Discord's own conventions (DISCORD_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: SecretStr = Field(default=SecretStr(""), alias="DISCORD_BOT_TOKEN")
    guild_ids: str = Field(default="", alias="DISCORD_GUILD_IDS")  # comma list: sync /rapport to these at once
    message_content: bool = Field(default=True, alias="RAPPORT_DISCORD_MESSAGE_CONTENT")
    # What was last registered with Discord (a hash of the commands): start-up syncs only when it differs.
    commands_state: Path = Field(default=Path(".rapport-discord-commands"), alias="RAPPORT_DISCORD_COMMANDS_STATE")

    @field_validator("guild_ids")
    @classmethod
    def _server_ids(cls, value: str) -> str:
        # A mistyped id would otherwise be dropped without a word, and the commands synced globally (up to an hour).
        if not all(part.strip().isascii() and part.strip().isdigit() for part in value.split(",") if part.strip()):
            raise ValueError("should be server ids (digits) separated by commas")
        return value

    @property
    def configured(self) -> bool:
        return bool(self.bot_token.get_secret_value().strip())

    @property
    def guilds(self) -> list[int]:
        """Servers to sync the command to on start (seconds); without any, a global sync (may take an hour)."""
        return [int(g) for g in (part.strip() for part in self.guild_ids.split(",")) if g]
