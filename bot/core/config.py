"""Settings, read once from the environment (and `.env`) by pydantic-settings.

Secrets are ``SecretStr`` so they never appear in a log line or a repr by accident.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/dxbot.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:3000"

#: The workers' nice value in the normal class (``DXBOT_WORKER_NICE``'s default; bot/workers.py
#: ``yield_to_acks``): the lowest priority, so the acks get the CPU first.
WORKER_NICE = 19


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    # The program to run; unset, the profile that says ``demo_default: true`` (no id in code).
    program: str | None = Field(default=None, alias="DXBOT_PROGRAM")
    # A folder of profile files beside the shipped ones (next year's program, another
    # prefecture's), validated like them; see docs/profile.md.
    profiles_dir: Path | None = Field(default=None, alias="DXBOT_PROFILES_DIR")
    log_level: str = Field(default="INFO", alias="DXBOT_LOG_LEVEL")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    staff_channel: str = Field(default="staff", alias="DXBOT_STAFF_CHANNEL")
    prefecture_channel: str = Field(default="prefecture", alias="DXBOT_PREFECTURE_CHANNEL")

    logo_base_url: str | None = Field(default=None, alias="LOGO_BASE_URL")
    logo_bot_token: SecretStr | None = Field(default=None, alias="LOGO_BOT_TOKEN")
    logo_webhook_secret: SecretStr | None = Field(default=None, alias="LOGO_WEBHOOK_SECRET")
    # LoGo Chat's message size limit is undocumented; longer texts are cut with a note.
    logo_max_text_chars: int = Field(default=10_000, ge=200, alias="LOGO_MAX_TEXT_CHARS")

    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", alias="DXBOT_LLM_MODEL")
    llm_timeout_seconds: float = Field(default=4.0, alias="DXBOT_LLM_TIMEOUT")

    https_proxy: str | None = Field(default=None, alias="HTTPS_PROXY")

    # The base of the web view's links as people's browsers reach it (on LGWAN the internal
    # address, e.g. https://dxbot.pref.example.lg.jp); unset, the local default below.
    public_url: str | None = Field(default=None, alias="DXBOT_PUBLIC_URL")

    conversation_ttl_minutes: int = Field(default=60 * 24, alias="DXBOT_CONVERSATION_TTL_MINUTES")
    max_message_chars: int = Field(default=4000, alias="DXBOT_MAX_MESSAGE_CHARS")
    # How long a worker's claim on an inbox row or an outbox message holds; a process killed
    # while holding one leaves it to be taken over when it runs out (store/inbox.py).
    lease_seconds: float = Field(default=60.0, gt=0, alias="DXBOT_LEASE_SECONDS")
    # `dxbot serve` only: its clock starts at this instant (ISO 8601) and runs on — for demos
    # and tests of another day; unset, the real time.
    clock_start: dt.datetime | None = Field(default=None, alias="DXBOT_CLOCK_START")
    # The worker processes' CPU priority (bot/workers.py ``yield_to_acks``): by default Linux's
    # idle class, which any other process's wake-up preempts at once; with
    # DXBOT_WORKER_IDLE=false the normal class at DXBOT_WORKER_NICE (0–19; above 0 the acks
    # still get the CPU first, 0 an equal share on a host busy with other work).
    worker_idle: bool = Field(default=True, alias="DXBOT_WORKER_IDLE")
    worker_nice: int = Field(default=WORKER_NICE, ge=0, le=19, alias="DXBOT_WORKER_NICE")

    @field_validator("program", "profiles_dir", "public_url", "clock_start", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``DXBOT_PROGRAM=`` as in .env.example means unset, not a program called ''."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def platform(self) -> str:
        """Which chat platform `dxbot run` should start (contract: Slack, then LoGo, else console)."""
        if self.slack_bot_token:
            return "slack"
        if self.logo_base_url or self.logo_bot_token:
            return "logo"
        return "console"

    @property
    def web_base_url(self) -> str:
        """Where the web view lives, without a trailing slash (``dxbot serve``'s default port)."""
        return (self.public_url or DEFAULT_PUBLIC_URL).strip().rstrip("/")

    @property
    def web_secure(self) -> bool:
        """Behind TLS: the session cookie is then sent over HTTPS only."""
        return self.web_base_url.lower().startswith("https://")

    def web_sign_in_url(self, token: str) -> str:
        """The one-time sign-in link for a token (``store.web_auth``)."""
        return f"{self.web_base_url}/web/signin?t={token}"

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())
