"""Monitor settings (env prefix ``MONITOR_``)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from libs.backtest.sources import default_data_dir
from libs.common.settings import ServiceSettings


class MonitorSettings(ServiceSettings):
    """The read side: health, queries, dashboard."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", env_file=".env", extra="ignore")

    http_port: int = Field(default=18000, description="Port of the monitor HTTP server")
    heartbeat_stale_s: float = Field(
        default=10.0, gt=0, description="A service whose last heartbeat is older is down"
    )
    lag_degraded: int = Field(
        default=1000, ge=0, description="Consumer lag above which a service is degraded"
    )
    backtest_data_dir: str = Field(
        default="",
        description="Folder with nifty50_1h.csv, nifty50_1d.csv and indiavix_1d.csv; empty: "
        "STRIKEFLOW_DATA_DIR, else ../shared/data beside the repository",
    )
    backtest_workers: int = Field(default=1, ge=1, le=8, description="Backtest worker processes")
    capital: Decimal = Field(
        default=Decimal(500000),
        gt=0,
        description="Trading capital in rupees: the base of the daily returns (Sharpe) and of "
        "the drawdown percentage in the performance analytics",
    )
    services: str = Field(
        default="ingest,risk,executor,ledger",
        description="Services whose heartbeats the health check expects",
    )

    notify_telegram_bot_token: SecretStr = Field(
        default=SecretStr(""),
        description="Telegram bot token; with a chat id, turns the Telegram channel on",
    )
    notify_telegram_chat_id: SecretStr = Field(
        default=SecretStr(""), description="Telegram chat to notify"
    )
    notify_telegram_api_url: str = Field(
        default="https://api.telegram.org", description="Telegram Bot API base URL"
    )
    notify_telegram_rate: float = Field(
        default=20, gt=0, description="Telegram: at most this many messages per rate period"
    )
    notify_telegram_rate_period_s: float = Field(
        default=60, gt=0, description="Telegram: rate period, seconds"
    )
    notify_webhook_url: SecretStr = Field(
        default=SecretStr(""),
        description="Outgoing webhook URL (may hold a token); set: the webhook channel is on",
    )
    notify_webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Shared secret for the webhook's HMAC-SHA256 signature; empty: unsigned",
    )
    notify_webhook_rate: float = Field(
        default=60, gt=0, description="Webhook: at most this many requests per rate period"
    )
    notify_webhook_rate_period_s: float = Field(
        default=60, gt=0, description="Webhook: rate period, seconds"
    )
    notify_max_attempts: int = Field(
        default=5, ge=1, le=50, description="Delivery attempts before a notification is failed"
    )
    notify_retry_initial_s: float = Field(
        default=1.0, gt=0, description="First retry delay, seconds (doubles, with jitter)"
    )
    notify_retry_max_s: float = Field(default=60.0, gt=0, description="Longest retry delay")
    notify_http_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of one delivery request, seconds"
    )
    notify_trade_loss: Decimal = Field(
        default=Decimal(10000), gt=0, description="A closed trade losing this much is notified"
    )
    notify_daily_loss_limit: Decimal = Field(
        default=Decimal(50000),
        gt=0,
        description="The daily loss limit the loss warning refers to (keep equal to "
        "RISK_MAX_DAILY_LOSS), rupees",
    )
    notify_daily_loss_fraction: Decimal = Field(
        default=Decimal("0.5"),
        gt=0,
        le=1,
        description="Warn once a day when the day's net loss passes this fraction of the limit",
    )
    notify_summary_time: time = Field(
        default=time(15, 45), description="Post-market summary after this time (IST)"
    )
    notify_max_event_age_s: float = Field(
        default=43200,
        gt=0,
        description="Facts older than this are not notified (a new consumer group reads history)",
    )
    notify_poll_s: float = Field(
        default=5.0, gt=0, description="Seconds between checks for pending notifications"
    )

    ingest_url: str = Field(
        default="http://127.0.0.1:18001",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Base URL of ingest, where the dashboard forwards operator commands",
    )
    operator_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Seconds the dashboard waits for ingest's answer"
    )
    dashboard_client_queue: int = Field(
        default=512,
        ge=8,
        le=100_000,
        description="Events queued per dashboard WebSocket client; a client that falls this "
        "far behind is disconnected",
    )

    def operator_url(self) -> str:
        """Base URL of ingest's operator routes, without a trailing slash."""
        return self.ingest_url.rstrip("/")

    def data_dir(self) -> Path:
        """The backtest data folder."""
        return Path(self.backtest_data_dir) if self.backtest_data_dir else default_data_dir()
