"""Trade construction for an entry signal: strike, hedge, expiry, lots and freeze slices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from libs.common.messages import Instrument, Leg, OptionRight, Side, SignalReceived
from libs.market.contract import Right
from libs.market.expiries import next_weekly_expiry
from libs.market.freeze import freeze_quantity, split_by_freeze
from libs.market.lots import lot_size
from libs.market.strikes import atm, offset_strike, round100


@dataclass(frozen=True)
class LegPlan:
    """One leg of a planned position, before it is split into orders."""

    leg: Leg
    instrument: Instrument
    side: Side
    quantity: int
    lot_size: int


@dataclass(frozen=True)
class TradeSettings:
    """Construction parameters (strategy spec §4 defaults)."""

    lots: int = 1
    hedge_enabled: bool = True
    hedge_offset_points: Decimal = Decimal(200)
    min_trading_days_to_expiry: int = 1


def main_strike(signal: SignalReceived) -> Decimal:
    """Strike of the main leg: round100 of sl, else the alert's strike, else ATM of the price."""
    if signal.stop_level is not None:
        return round100(signal.stop_level)
    if signal.strike is not None:
        return signal.strike
    if signal.price is not None:
        return atm(signal.price)
    raise ValueError("signal carries neither sl, strike nor price")


def stop_level(signal: SignalReceived) -> Decimal | None:
    """The index stop of a trade (strategy spec §4.3, rule raw): the alert's sl, else its strike.

    An indicator alert without ``sl`` carries ``strike = round100(SL)``, the nearest level known.
    A brief-style alert with only a price carries no stop: no server-side stop applies.
    """
    if signal.stop_level is not None:
        return signal.stop_level
    return signal.strike


def reference_level(signal: SignalReceived) -> Decimal:
    """Index level the decision is based on, for model pricing."""
    for value in (signal.price, signal.stop_level, signal.strike):
        if value is not None:
            return value
    raise ValueError("signal carries neither price, sl nor strike")


def plan_entry(signal: SignalReceived, entry_date: date, settings: TradeSettings) -> list[LegPlan]:
    """Return the legs of an entry, hedge first (bought before the main leg is sold)."""
    right = OptionRight.PE if signal.signal.bullish else OptionRight.CE
    strike = main_strike(signal)
    expiry = next_weekly_expiry(entry_date, settings.min_trading_days_to_expiry)
    lot = lot_size(expiry)
    quantity = settings.lots * lot
    main = LegPlan(
        Leg.MAIN,
        Instrument(symbol=signal.symbol, expiry=expiry, strike=strike, right=right),
        Side.SELL,
        quantity,
        lot,
    )
    if not settings.hedge_enabled:
        return [main]
    hedge_strike = offset_strike(strike, Right(right.value), settings.hedge_offset_points)
    hedge = LegPlan(
        Leg.HEDGE,
        Instrument(symbol=signal.symbol, expiry=expiry, strike=hedge_strike, right=right),
        Side.BUY,
        quantity,
        lot,
    )
    return [hedge, main]


def plan_exit(entry_legs: list[LegPlan]) -> list[LegPlan]:
    """Return the closing legs: main leg first, then the hedge, each on the opposite side."""
    ordered = sorted(entry_legs, key=lambda leg: 0 if leg.leg is Leg.MAIN else 1)
    return [
        LegPlan(
            leg.leg,
            leg.instrument,
            Side.BUY if leg.side is Side.SELL else Side.SELL,
            leg.quantity,
            leg.lot_size,
        )
        for leg in ordered
    ]


def slices(plan: LegPlan, on: date) -> list[int]:
    """Split a leg's quantity into orders no larger than the freeze quantity."""
    return split_by_freeze(plan.quantity, plan.lot_size, freeze_quantity(on))
