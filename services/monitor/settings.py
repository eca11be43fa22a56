"""Monitor settings (env prefix ``MONITOR_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    services: str = Field(
        default="ingest,risk,executor,ledger",
        description="Services whose heartbeats the health check expects",
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
