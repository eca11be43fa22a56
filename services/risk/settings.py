"""Risk settings (env prefix ``RISK_``)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Literal

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
    market_hours: Literal["enforce", "ignore"] = Field(
        default="enforce",
        description="enforce: no new entries on holidays, outside 09:15-15:30 IST or after "
        "the cut-off; ignore: for demos and tests outside market hours",
    )
    entry_cutoff: time = Field(default=time(15, 0), description="No new entries from (IST)")
    expiry_day_entry_cutoff: time = Field(
        default=time(14, 0), description="On an expiry day, no new entries from (IST)"
    )
    margin_per_lot: Decimal = Field(
        default=Decimal(60000), ge=0, description="Estimated margin of one hedged lot, rupees"
    )
    max_margin: Decimal = Field(
        default=Decimal(600000), ge=0, description="Largest estimated margin in use, rupees"
    )
    max_daily_loss: Decimal = Field(
        default=Decimal(50000), gt=0, description="Daily net loss (MTM) that halts new entries"
    )
    loss_warn_fraction: Decimal = Field(
        default=Decimal("0.8"), gt=0, le=1, description="Warn at this fraction of the daily limit"
    )
    panic_loss: Decimal = Field(
        default=Decimal(75000), gt=0, description="Daily net loss that runs the emergency stop"
    )
    breaker_error_burst: int = Field(
        default=5, ge=1, description="Broker errors within the window that open the breaker"
    )
    breaker_error_window_s: int = Field(default=60, ge=1, description="Error window, seconds")
    breaker_cooldown_s: int = Field(
        default=900, ge=1, description="Seconds open before one trial entry is let through"
    )
    max_consecutive_losses: int = Field(
        default=3, ge=1, description="Losing trades in a row that open the breaker"
    )
    max_single_trade_loss: Decimal = Field(
        default=Decimal(25000), gt=0, description="One trade's loss that opens the breaker"
    )
    square_off_after_days: int = Field(
        default=2,
        ge=0,
        description="Square off at square_off_time on the Nth trading day "
        "after entry (0: only on the expiry day)",
    )
    square_off_time: time = Field(default=time(15, 15), description="Time of square-offs (IST)")
    square_off_check_s: float = Field(
        default=30.0, gt=0, description="Seconds between checks for time-based exits"
    )
    order_rate_per_s: float = Field(
        default=5.0,
        gt=0,
        le=10,
        description="Order commands leaving risk per second (SEBI threshold is 10)",
    )
    approval_ttl_s: int = Field(
        default=900,
        ge=10,
        description="Seconds a signal waits for an operator when automation is off",
    )
    outbox_relay_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between sweeps of unpublished outbox rows"
    )
