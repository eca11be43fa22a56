"""Ports the strategy library needs from the outside world, as small Protocols.

The market calendar (expiries, lot sizes, freeze quantity, trading days), option prices, official
closes and charges are provided by callers (``libs.market`` adapters, or fakes in tests).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from libs.strategy.trade import OptionContract, Side


class ExpiryCalendar(Protocol):
    """Calendar facts for NIFTY options (strategy spec §1.4, §4.5, §4.6)."""

    def next_weekly_expiry(self, d: date, min_trading_days: int) -> date:
        """Nearest weekly expiry on or after ``d`` with at least ``min_trading_days`` trading
        days after ``d`` (up to and including the expiry day)."""
        ...

    def lot_size(self, expiry: date) -> int:
        """Lot size of the contract expiring on ``expiry``."""
        ...

    def is_trading_day(self, d: date) -> bool: ...

    def freeze_qty(self, d: date) -> int:
        """Maximum units per order in force on ``d``."""
        ...


class OptionPriceFn(Protocol):
    """Price of one option contract at a time, or None when unknown."""

    def __call__(self, contract: OptionContract, at: datetime, /) -> Decimal | None: ...


class PriceSource(enum.Enum):
    MARKET = "market"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class PriceQuote:
    price: Decimal
    source: PriceSource


class OptionPricer(Protocol):
    """Option price source for backtests (spec §6.1): market bars first, else a model.

    ``index_level`` is the index at ``at`` (the model's `S`). None means no price available.
    """

    def quote(
        self, contract: OptionContract, at: datetime, index_level: Decimal
    ) -> PriceQuote | None: ...


class DailyCloses(Protocol):
    """Official NIFTY closing value of a trading day (spec §5 item 4)."""

    def __call__(self, d: date, /) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class ChargeableOrder:
    """One order (one freeze slice) to cost, or an exercise of a long leg at expiry (spec §6.4)."""

    trade_date: date
    side: Side
    price: Decimal
    quantity: int
    lot_size: int | None = None
    exercise: bool = False
    """True for a long leg settled in the money: ``price`` is then the intrinsic value."""
    underlying: Decimal | None = None
    """Index settlement level, for an exercise (the STT base before 2019-09-01)."""


class ChargesFn(Protocol):
    """Charges of one order by charge type, each already rounded to ₹0.01 (spec §6.4)."""

    def __call__(self, order: ChargeableOrder, /) -> Mapping[str, Decimal]: ...
