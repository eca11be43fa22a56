"""Executor settings (env prefix ``EXECUTOR_``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class ExecutorSettings(ServiceSettings):
    """The broker session and the paper broker's fill model."""

    model_config = SettingsConfigDict(env_prefix="EXECUTOR_", env_file=".env", extra="ignore")

    http_port: int = Field(default=18003, description="Port of the executor HTTP server")
    mode: Literal["paper"] = Field(default="paper", description="Broker: paper (live: Breeze)")
    paper_iv: float = Field(
        default=0.14, gt=0, lt=3, description="Volatility of the paper broker's model quotes"
    )
    paper_spread_pct: Decimal = Field(
        default=Decimal("1.0"), ge=0, description="Bid-ask spread of model quotes, % of mid"
    )
    paper_slippage_pct: Decimal = Field(
        default=Decimal("0.5"), ge=0, description="Slippage beyond the touch, % of price"
    )
    brokerage_per_order: Decimal = Field(
        default=Decimal(20), ge=0, description="Brokerage per order, rupees"
    )
    bars_replay_csv: str = Field(
        default="",
        description="Paper demos: an hourly NIFTY bar CSV to replay onto market.bars; empty: off",
    )
    bars_replay_from: date | None = Field(default=None, description="First date to replay")

    @field_validator("bars_replay_from", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    bars_replay_interval_s: float = Field(
        default=5.0, ge=0, description="Seconds between replayed bars"
    )
    outbox_relay_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between sweeps of unpublished outbox rows"
    )
