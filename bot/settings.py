"""Application settings, read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import base64
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigError(Exception):
    """A setting has a wrong value; the message is one line naming the setting."""


class TelegramMode(StrEnum):
    polling = "polling"
    webhook = "webhook"


class OcrProvider(StrEnum):
    tesseract = "tesseract"
    upstage = "upstage"


def _check_url(value: str | None, name: str, schemes: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid URL ({exc})") from None
    if parts.scheme not in schemes:
        raise ValueError(f"{name} must start with one of {', '.join(s + '://' for s in schemes)}")
    if not parts.netloc and "host=" not in (parts.query or "") and parts.scheme != "unix":
        raise ValueError(f"{name} has no host")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_mode: TelegramMode = TelegramMode.polling

    database_url: str | None = None
    mongodb_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("data")

    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)
    public_base_url: str | None = None
    webhook_secret: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    spotify_client_id: str | None = None
    spotify_client_secret: str | None = None
    spotify_redirect_uri: str | None = None
    spotify_api_base: str = "https://api.spotify.com/v1"
    spotify_accounts_base: str = "https://accounts.spotify.com"

    lastfm_api_key: str | None = None
    lastfm_api_base: str = "https://ws.audioscrobbler.com/2.0/"
    upstage_api_key: str | None = None
    upstage_api_base: str = "https://api.upstage.ai/v1"
    ocr_provider: OcrProvider = OcrProvider.tesseract

    token_encryption_key: str | None = None
    default_language: str = "en"
    log_level: str = "INFO"
    log_format: str = "text"

    # Weight of the chosen playlist's centroid against the owner's taste when ranking (0..1).
    rec_playlist_blend: float = Field(0.5, ge=0.0, le=1.0)
    # Update de-duplication window: long enough to cover webhook retries and restarts.
    update_dedup_ttl_s: int = Field(24 * 3600, ge=60)
    # Per-owner throttling: updates allowed per window before the bot asks to slow down.
    throttle_rate: int = Field(20, ge=1)
    throttle_window_s: float = Field(2.0, gt=0)

    # Scheduler (scheduler/): crontab schedules in SCHEDULER_TIMEZONE. It runs inside `tys run`
    # unless SCHEDULER_EMBEDDED=false (then only the `tys scheduler` process runs jobs); the
    # PostgreSQL advisory lock keeps replicas from running one job twice either way.
    scheduler_embedded: bool = True
    scheduler_timezone: str = "Asia/Seoul"
    schedule_retrain: str = "0 3 * * *"
    schedule_owner_refresh: str = "*/15 * * * *"
    schedule_backfill: str = "20 * * * *"
    schedule_housekeeping: str = "40 4 * * *"
    # Pushes are due at the start of each owner's dayparts: checked every minute.
    schedule_daypart_pushes: str = "* * * * *"
    # A run missed by up to this long (downtime, a busy loop) still runs, once.
    scheduler_misfire_grace_s: int = Field(6 * 3600, ge=1)
    # Retraining: wall-clock limit of the training child, and the quality gate: the new model
    # is promoted when recall@20 >= old * (1 - tolerance) on the same held-out interactions
    # (a negative tolerance demands an improvement).
    retrain_time_limit_s: float = Field(1800.0, gt=0)
    retrain_gate_tolerance: float = Field(0.02, ge=-10.0, le=1.0)
    # Metadata backfill: tracks looked at per run (rate limits are the clients' own).
    backfill_batch: int = Field(200, ge=1)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            items = [v for v in value.replace(";", ",").replace(" ", ",").split(",") if v]
            try:
                return [int(v) for v in items]
            except ValueError:
                raise ValueError("ADMIN_IDS must be comma-separated Telegram user ids") from None
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        head, sep, tail = value.partition(":")
        if not sep or not head.isdigit() or not tail:
            raise ValueError("TELEGRAM_BOT_TOKEN must look like 123456:ABC-DEF (from @BotFather)")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str | None) -> str | None:
        value = _check_url(value, "DATABASE_URL", ("postgresql", "postgresql+asyncpg", "postgres"))
        if value and value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        return value

    @field_validator("mongodb_url")
    @classmethod
    def _mongo_url(cls, value: str | None) -> str | None:
        return _check_url(value, "MONGODB_URL", ("mongodb", "mongodb+srv"))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return _check_url(value, "REDIS_URL", ("redis", "rediss", "unix"))

    @field_validator(
        "telegram_api_base",
        "spotify_api_base",
        "spotify_accounts_base",
        "lastfm_api_base",
        "upstage_api_base",
        "public_base_url",
        "spotify_redirect_uri",
    )
    @classmethod
    def _http_url(cls, value: str | None, info) -> str | None:
        checked = _check_url(value, info.field_name.upper(), ("http", "https"))
        return checked.rstrip("/") if checked and info.field_name != "lastfm_api_base" else checked

    @field_validator("default_language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if value not in ("ko", "en"):
            raise ValueError("DEFAULT_LANGUAGE must be ko or en")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("log_format")
    @classmethod
    def _fmt(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("LOG_FORMAT must be text or json")
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value.encode())
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError("TOKEN_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes")
        return value

    @model_validator(mode="after")
    def _webhook_needs_public_url(self) -> Settings:
        if self.telegram_mode is TelegramMode.webhook and not self.public_base_url:
            raise ValueError("PUBLIC_BASE_URL must be set (https://...) when TELEGRAM_MODE=webhook")
        return self

    # Derived values: one place for each.
    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://127.0.0.1:{self.web_port}"

    @property
    def redirect_uri(self) -> str:
        return self.spotify_redirect_uri or f"{self.base_url}/callback"

    @property
    def webhook_path(self) -> str:
        return "/telegram/webhook"

    @property
    def uses_embedded(self) -> bool:
        return not (self.database_url and self.mongodb_url and self.redis_url)

    def encryption_key(self) -> str:
        """The token key; generated once and kept under DATA_DIR when not configured."""
        if self.token_encryption_key:
            return self.token_encryption_key
        path = self.data_dir / "secrets" / "token_encryption.key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def state_secret(self) -> bytes:
        """Key used to sign OAuth state and other short-lived tokens."""
        return base64.urlsafe_b64decode(self.encryption_key().encode())


def _first_error_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "settings"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    name = loc.upper()
    if name in msg:
        return f"Configuration error: {msg}"
    return f"Configuration error: {name}: {msg}"


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise ConfigError with one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc)) from None
    settings.data_dir = settings.data_dir.expanduser().resolve()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
