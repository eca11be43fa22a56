"""Monitor settings (env prefix ``MONITOR_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
    services: str = Field(
        default="ingest,risk,executor,ledger",
        description="Services whose heartbeats the health check expects",
    )
