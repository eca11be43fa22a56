"""Monitor settings (env prefix ``MONITOR_``)."""

from __future__ import annotations

from decimal import Decimal
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

    def data_dir(self) -> Path:
        """The backtest data folder."""
        return Path(self.backtest_data_dir) if self.backtest_data_dir else default_data_dir()
