"""Risk settings (env prefix ``RISK_``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class RiskSettings(ServiceSettings):
    """Limits and trade construction for the risk gate."""

    model_config = SettingsConfigDict(env_prefix="RISK_", env_file=".env", extra="ignore")

    http_port: int = Field(default=18002, description="Port of the risk HTTP server")
    lots: int = Field(default=1, ge=1, description="Lots per trade")
    max_lots_per_trade: int = Field(default=10, ge=1, description="Largest lots per trade")
    max_open_trades: int = Field(default=8, ge=1, description="Most trades open at once")
    hedge_enabled: bool = Field(default=True, description="Buy a further-OTM hedge leg")
    hedge_offset_points: Decimal = Field(
        default=Decimal(200), description="Hedge distance from the main strike, index points"
    )
    min_trading_days_to_expiry: int = Field(
        default=1, ge=0, description="Skip expiries with fewer trading days left than this"
    )
    outbox_relay_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between sweeps of unpublished outbox rows"
    )
