"""Adapters that satisfy the strategy ports from ``libs.market`` (calendar, lots, charges)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

from libs.market import calendar as mcal
from libs.market import charges as mcharges
from libs.market import expiries as mexp
from libs.market import freeze as mfreeze
from libs.market import lots as mlots
from libs.market import pricing as mpricing
from libs.market.contract import OptionContract as MarketContract
from libs.market.contract import Right
from libs.market.packaged import default_surface
from libs.market.volsurface import VolModel
from libs.strategy.bars import IST
from libs.strategy.ports import ChargeableOrder, PriceQuote, PriceSource
from libs.strategy.signals import OptionType
from libs.strategy.trade import OptionContract, Side


class MarketCalendar:
    """`ExpiryCalendar` backed by the NSE calendar, expiry, lot-size and freeze tables."""

    def next_weekly_expiry(self, d: date, min_trading_days: int) -> date:
        return mexp.next_weekly_expiry(d, min_trading_days)

    def lot_size(self, expiry: date) -> int:
        return mlots.lot_size(expiry)

    def is_trading_day(self, d: date) -> bool:
        return mcal.is_trading_day(d)

    def freeze_qty(self, d: date) -> int:
        return mfreeze.freeze_quantity(d)


def muhurat_dates() -> frozenset[date]:
    """Dates of the symbolic Muhurat sessions, for the ``trading_sessions`` bar filter."""
    return frozenset(s.day for s in mcal.SPECIAL_SESSIONS if s.kind is mcal.SessionKind.MUHURAT)


@dataclass(frozen=True)
class MarketCharges:
    """`ChargesFn` backed by the dated charges model of ``libs.market`` (spec §6.4)."""

    brokerage: mcharges.Brokerage = field(default_factory=mcharges.Brokerage)
    slab_exchange_rate: Decimal = mcharges.DEFAULT_SLAB_EXCHANGE_RATE

    def __call__(self, order: ChargeableOrder) -> Mapping[str, Decimal]:
        if order.exercise:
            underlying = order.underlying if order.underlying is not None else order.price
            out = mcharges.exercise_charges(
                order.price, underlying, order.quantity, order.trade_date
            )
        else:
            side = mcharges.Side.SELL if order.side is Side.SELL else mcharges.Side.BUY
            out = mcharges.order_charges(
                side,
                order.price,
                order.quantity,
                order.trade_date,
                lot_size=order.lot_size,
                brokerage=self.brokerage,
                slab_exchange_rate=self.slab_exchange_rate,
            )
        return {k: Decimal(v) for k, v in asdict(out).items()}


class PreviousVixClose:
    """India VIX close of the last day before a date that has one (spec §6.2)."""

    def __init__(self, closes: Mapping[date, Decimal]) -> None:
        self._days = sorted(closes)
        self._closes = dict(closes)

    def __call__(self, d: date) -> float | None:
        i = bisect_left(self._days, d)
        return float(self._closes[self._days[i - 1]]) if i > 0 else None


@dataclass(frozen=True)
class ModelPricer:
    """`OptionPricer` that always answers with the Black-Scholes model of ``libs.market``
    (``pricing.source = model_only``); every quote is labelled as a model price."""

    prev_vix_close: PreviousVixClose
    vol_model: VolModel = field(default_factory=default_surface)
    rate: float = mpricing.DEFAULT_RATE
    dividend_yield: float = mpricing.DEFAULT_DIVIDEND_YIELD

    def quote(
        self, contract: OptionContract, at: datetime, index_level: Decimal
    ) -> PriceQuote | None:
        vix = self.prev_vix_close(at.astimezone(IST).date())
        if vix is None:
            return None
        right = Right.CE if contract.option_type is OptionType.CE else Right.PE
        mc = MarketContract(contract.expiry, Decimal(contract.strike), right)
        mp = mpricing.model_price(
            mc, index_level, at, vix, self.vol_model, self.rate, self.dividend_yield
        )
        return PriceQuote(mp.price, PriceSource.MODEL)
