"""Process settings, read from the environment (and an optional `.env`) exactly once.

Nothing else in the code base reads the environment: `Settings` is built by the CLI (or a test) and passed in.
It lives in the chat framework (a leaf) because `Ctx` and the jobs carry it to handlers and services, which
must not import the WeCom edge.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/salesbot.db"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def check_zone(name: str) -> str:
    """`name` if it is an IANA time zone; else a ValueError naming it, in Chinese and English."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if available_timezones():  # with no time zone database at all, trust the name
            raise ValueError(
                f"未知的时区 {name!r}（例如 Asia/Shanghai）/ unknown time zone {name!r} (e.g. Asia/Shanghai)"
            ) from None
    return name


class MissingSecrets(RuntimeError):
    """Raised when the server would have to run without the WeCom secrets it needs (fail closed)."""


class Settings(BaseSettings):
    # env_ignore_empty: `cp .env.example .env` leaves blanks (WECOM_AGENT_ID=, SALESBOT_CONFIG=) that mean "not set".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    wecom_corp_id: str = ""
    wecom_agent_id: int = 0
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    salesbot_config: Path | None = None
    salesbot_media_dir: Path = Path("./data/media")
    # The product's one local zone: local days, "明天下午3点", the digest's dates (docs/architecture.md).
    salesbot_timezone: str = DEFAULT_TIMEZONE
    salesbot_log_level: str = "INFO"
    salesbot_webhook_secret: str = Field(
        default="", repr=False, description="signs the finance webhook (HMAC-SHA256)"
    )

    # Edge limits (reliability.md §0).
    callback_max_body: int = 256 * 1024
    callback_timestamp_window: int = 300
    # Outbound limits.
    wecom_connect_timeout: float = 3.0
    wecom_read_timeout: float = 10.0
    outbox_max_attempts: int = 12
    outbox_per_member_per_minute: int = 30
    # Retention (schedulers/retention.py): handled inbound events and delivered outbox rows older than this
    # are pruned daily; dead letters are kept until re-driven.
    salesbot_retention_days: int = Field(default=30, ge=1)
    # POST /api/leads: source (as in the configuration's leads.sources) -> its token. JSON in the environment:
    # SALESBOT_LEAD_TOKENS='{"官网": "a-long-random-token"}'. No tokens: the endpoint answers 404.
    salesbot_lead_tokens: dict[str, str] = Field(default_factory=dict)
    demo_mode: bool = Field(default=False, description="mounts /sim and the stand-in WeCom API")
    # Optional understanding model (docs/understanding.md): an OpenAI-compatible chat endpoint, asked only
    # when the rules cannot decide. Unset: the embedded rules alone.
    salesbot_llm_base_url: str | None = None
    salesbot_llm_model: str | None = None
    salesbot_llm_api_key: str | None = None
    salesbot_llm_timeout: float = 3.0

    @field_validator("salesbot_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The local zone every turn of an instant into a local date or time uses (passed down as `tz`)."""
        return ZoneInfo(self.salesbot_timezone)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def missing_wecom_secrets(self) -> list[str]:
        """Names of the variables a callback server cannot run without."""
        required = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_TOKEN": self.wecom_token,
            "WECOM_AES_KEY": self.wecom_aes_key,
        }
        missing = [name for name, value in required.items() if not value]
        if self.wecom_aes_key and len(self.wecom_aes_key) != 43:
            missing.append("WECOM_AES_KEY（必须正好 43 个字符）")
        return missing

    def require_wecom_secrets(self) -> None:
        missing = self.missing_wecom_secrets()
        if missing:
            raise MissingSecrets(
                "拒绝启动：缺少 " + "、".join(missing) + "（请在环境变量或 .env 中设置，见 .env.example）"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
