"""Slack settings from the environment and .env. Names follow Slack's own conventions (SLACK_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"

# Exactly the bot scopes manifest.yaml requests; OAuth installs ask for these unless SLACK_SCOPES says otherwise.
BOT_SCOPES = ("channels:history", "channels:read", "chat:write", "commands", "files:write", "im:write", "mpim:write",
              "usergroups:read", "users:read")


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: str = Field(default="", alias="SLACK_BOT_TOKEN")
    signing_secret: str = Field(default="", alias="SLACK_SIGNING_SECRET")
    app_token: str = Field(default="", alias="SLACK_APP_TOKEN")
    client_id: str = Field(default="", alias="SLACK_CLIENT_ID")
    client_secret: str = Field(default="", alias="SLACK_CLIENT_SECRET")
    scopes: str = Field(default="", alias="SLACK_SCOPES")
    host: str = Field(default="0.0.0.0", alias="RAPPORT_HOST")  # 127.0.0.1 behind a proxy on the same machine
    port: int = Field(default=3000, alias="RAPPORT_PORT", ge=0, le=65535)  # 0: any free port
    api_url: str = Field(default=DEFAULT_API_URL, alias="RAPPORT_SLACK_API_URL")

    @property
    def oauth(self) -> bool:
        """Multi-workspace: installs through OAuth, tokens kept in our database."""
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def configured(self) -> bool:
        return bool(self.bot_token) or self.oauth

    @property
    def bot_scopes(self) -> list[str]:
        return [s.strip() for s in self.scopes.split(",") if s.strip()] or list(BOT_SCOPES)
