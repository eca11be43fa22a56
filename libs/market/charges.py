"""Charges on NSE index-option orders with dated rates (strategy.md 6.4, market-rules.md 2.7).

Each order is charged on its own premium turnover (price x quantity); every charge is rounded to
0.01 half-up, and GST is computed on the already rounded brokerage, exchange charge and SEBI fee.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

PAISA = Decimal("0.01")

# (effective from, rate as a fraction of premium turnover)
STT_SELL_RATES: tuple[tuple[date, Decimal], ...] = (
    (date.min, Decimal("0.0005")),
    (date(2023, 4, 1), Decimal("0.000625")),
    (date(2024, 10, 1), Decimal("0.001")),
    (date(2026, 4, 1), Decimal("0.0015")),
)
STT_EXERCISE_RATES: tuple[tuple[date, Decimal], ...] = (
    (date.min, Decimal("0.00125")),
    (date(2026, 4, 1), Decimal("0.0015")),
)
# Exercise STT is levied on intrinsic value from this date; before it, on the settlement value.
STT_EXERCISE_ON_INTRINSIC_FROM = date(2019, 9, 1)
# NSE option transaction charge incl. IPFT; before 1 Oct 2024 it was slab-based by member volume.
EXCHANGE_UNIFORM_FROM = date(2024, 10, 1)
EXCHANGE_RATE_UNIFORM = Decimal("0.0003553")
DEFAULT_SLAB_EXCHANGE_RATE = Decimal("0.0005")
SEBI_FEE_RATE = Decimal("0.000001")
STAMP_DUTY_BUY_RATE = Decimal("0.00003")
GST_RATE = Decimal("0.18")


class Side(StrEnum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True)
class Brokerage:
    """Brokerage plan: a flat amount per order, or an amount per lot."""

    per_order: Decimal | None = Decimal(20)
    per_lot: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.per_order is None) == (self.per_lot is None):
            raise ValueError("set exactly one of per_order and per_lot")

    @classmethod
    def flat_per_order(cls, amount: Decimal) -> Brokerage:
        """A per-order plan (ICICI Neo: 20 per order)."""
        return cls(per_order=amount, per_lot=None)

    @classmethod
    def flat_per_lot(cls, amount: Decimal) -> Brokerage:
        """A per-lot plan."""
        return cls(per_order=None, per_lot=amount)

    def amount(self, quantity: int, lot_size: int | None) -> Decimal:
        """Brokerage for one order of `quantity` units."""
        if self.per_lot is None:
            return self.per_order or Decimal(0)
        if lot_size is None or lot_size <= 0:
            raise ValueError("per-lot brokerage needs the contract's lot size")
        if quantity % lot_size != 0:
            raise ValueError(f"quantity {quantity} is not a multiple of lot size {lot_size}")
        return self.per_lot * (quantity // lot_size)


DEFAULT_BROKERAGE = Brokerage()


@dataclass(frozen=True)
class ChargeRates:
    """Statutory rates in force on one trade date, as fractions of premium turnover."""

    stt_sell: Decimal
    stt_exercise: Decimal
    exchange: Decimal
    sebi: Decimal
    stamp_buy: Decimal
    gst: Decimal


@dataclass(frozen=True)
class ChargeBreakdown:
    """Itemised charges of one order (or a sum of orders), in rupees."""

    brokerage: Decimal = Decimal(0)
    stt: Decimal = Decimal(0)
    exchange: Decimal = Decimal(0)
    sebi: Decimal = Decimal(0)
    stamp: Decimal = Decimal(0)
    gst: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """Sum of every item."""
        return self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst

    @property
    def statutory(self) -> Decimal:
        """Charges other than brokerage and the GST on it."""
        return self.stt + self.exchange + self.sebi + self.stamp

    def __add__(self, other: ChargeBreakdown) -> ChargeBreakdown:
        names = [f.name for f in fields(self)]
        return ChargeBreakdown(**{n: getattr(self, n) + getattr(other, n) for n in names})

    def rounded(self) -> ChargeBreakdown:
        """Every item rounded to the paisa, half-up."""
        names = [f.name for f in fields(self)]
        return ChargeBreakdown(**{n: round_paisa(getattr(self, n)) for n in names})


def round_paisa(amount: Decimal) -> Decimal:
    """Round a rupee amount to 0.01, half-up."""
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def _rate_on(table: tuple[tuple[date, Decimal], ...], on: date) -> Decimal:
    rate = table[0][1]
    for effective, value in table:
        if effective <= on:
            rate = value
    return rate


def rates_on(
    trade_date: date, slab_exchange_rate: Decimal = DEFAULT_SLAB_EXCHANGE_RATE
) -> ChargeRates:
    """Rates in force on a trade date; `slab_exchange_rate` stands in before 2024-10-01."""
    exchange = EXCHANGE_RATE_UNIFORM if trade_date >= EXCHANGE_UNIFORM_FROM else slab_exchange_rate
    return ChargeRates(
        stt_sell=_rate_on(STT_SELL_RATES, trade_date),
        stt_exercise=_rate_on(STT_EXERCISE_RATES, trade_date),
        exchange=exchange,
        sebi=SEBI_FEE_RATE,
        stamp_buy=STAMP_DUTY_BUY_RATE,
        gst=GST_RATE,
    )


def order_charges(
    side: Side,
    price: Decimal,
    quantity: int,
    trade_date: date,
    *,
    lot_size: int | None = None,
    brokerage: Brokerage = DEFAULT_BROKERAGE,
    slab_exchange_rate: Decimal = DEFAULT_SLAB_EXCHANGE_RATE,
    round_each: bool = True,
) -> ChargeBreakdown:
    """Itemised charges of one order (one freeze slice) at `price` for `quantity` units."""
    if quantity <= 0 or price < 0:
        raise ValueError("quantity must be positive and price non-negative")
    rates = rates_on(trade_date, slab_exchange_rate)
    turnover = price * quantity
    finish = round_paisa if round_each else _identity
    broker_fee = finish(brokerage.amount(quantity, lot_size))
    exchange = finish(turnover * rates.exchange)
    sebi = finish(turnover * rates.sebi)
    return ChargeBreakdown(
        brokerage=broker_fee,
        stt=finish(turnover * rates.stt_sell) if side is Side.SELL else Decimal(0),
        exchange=exchange,
        sebi=sebi,
        stamp=finish(turnover * rates.stamp_buy) if side is Side.BUY else Decimal(0),
        gst=finish((broker_fee + exchange + sebi) * rates.gst),
    )


def exercise_charges(
    intrinsic_value: Decimal,
    settlement_price: Decimal,
    quantity: int,
    expiry: date,
) -> ChargeBreakdown:
    """STT on a long option settled in the money (no order, so no other charge).

    The base is intrinsic value x quantity from 2019-09-01, the underlying's settlement value
    (settlement price x quantity) before.
    """
    if intrinsic_value <= 0:
        return ChargeBreakdown()
    per_unit = intrinsic_value if expiry >= STT_EXERCISE_ON_INTRINSIC_FROM else settlement_price
    rate = _rate_on(STT_EXERCISE_RATES, expiry)
    return ChargeBreakdown(stt=round_paisa(per_unit * quantity * rate))


def _identity(amount: Decimal) -> Decimal:
    return amount
