"""The paper broker: fills at model quotes with spread, slippage and Indian charges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from libs.common.clock import IST, Clock
from libs.common.messages import Instrument, Side, SubmitOrder
from libs.market import charges as charges_model
from libs.market.contract import TICK_SIZE, Right, round_to_tick
from libs.market.pricing import bs_price, year_fraction
from services.executor.broker import BrokerResult, Execution, Mark, OrderStatus

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaperFillModel:
    """Parameters of paper fills."""

    iv: float
    spread_pct: Decimal
    slippage_pct: Decimal
    brokerage_per_order: Decimal


def _to_tick(price: Decimal, up: bool) -> Decimal:
    steps = (price / TICK_SIZE).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return max(steps * TICK_SIZE, TICK_SIZE)


def model_mid(order: SubmitOrder, clock: Clock, iv: float) -> Decimal:
    """Black-Scholes mid of the order's contract at the decision's index level."""
    if order.underlying_price is None:
        raise ValueError("a model quote needs the underlying price")
    return model_value(order.instrument, order.underlying_price, clock, iv)


def model_value(instrument: Instrument, underlying: Decimal, clock: Clock, iv: float) -> Decimal:
    """Black-Scholes value of a contract at an index level, now."""
    t = year_fraction(clock.now(), instrument.expiry)
    value = bs_price(
        float(underlying), float(instrument.strike), t, iv, Right(instrument.right.value)
    )
    return Decimal(repr(value))


def fill_price(mid: Decimal, side: Side, model: PaperFillModel) -> Decimal:
    """Cross half the spread, then slip further, rounded away from the trader to the tick."""
    half = mid * model.spread_pct / _HUNDRED / 2
    touch = mid + half if side is Side.BUY else mid - half
    slip = touch * model.slippage_pct / _HUNDRED
    price = touch + slip if side is Side.BUY else touch - slip
    return _to_tick(price, up=side is Side.BUY)


class PaperBroker:
    """A broker that fills every order at once against a labelled model quote."""

    # Its book is the executor's own tables, so an order it has no record of was never placed.
    resend_when_absent = True

    def __init__(self, clock: Clock, model: PaperFillModel) -> None:
        self._clock = clock
        self._model = model

    async def submit(self, order: SubmitOrder) -> BrokerResult:
        """Fill the whole order immediately."""
        try:
            mid = model_mid(order, self._clock, self._model.iv)
        except ValueError as exc:
            return BrokerResult(OrderStatus.REJECTED, None, reason=str(exc))
        price = fill_price(mid, order.side, self._model)
        trade_date: date = self._clock.now().astimezone(IST).date()
        breakdown = charges_model.order_charges(
            charges_model.Side(order.side.value),
            price,
            order.quantity,
            trade_date,
            lot_size=order.lot_size,
            brokerage=charges_model.Brokerage.flat_per_order(self._model.brokerage_per_order),
        )
        broker_id = f"paper-{order.client_order_id}"
        execution = Execution(
            execution_id=f"{broker_id}-1",
            quantity=order.quantity,
            price=price,
            charges=breakdown.total,
            price_source="model",
        )
        return BrokerResult(OrderStatus.FILLED, broker_id, (execution,))

    async def lookup(self, order: SubmitOrder) -> BrokerResult | None:
        """The paper book lives in the executor's own tables: an unrecorded order never filled."""
        return None

    async def mark(self, instrument: Instrument, underlying: Decimal) -> Mark:
        """The model mid on the tick: what the paper book is marked at."""
        mid = model_value(instrument, underlying, self._clock, self._model.iv)
        return Mark(max(round_to_tick(mid), TICK_SIZE), "model")

    # Paper orders are final the moment they are placed: nothing stays open to read or change.
    async def status(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """Nothing stays open at the paper broker."""
        return None

    async def cancel(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """Nothing stays open at the paper broker."""
        return None

    async def modify(
        self, order: SubmitOrder, broker_order_id: str, price: Decimal
    ) -> BrokerResult | None:
        """Nothing stays open at the paper broker."""
        return None

    async def positions(self) -> dict[str, int] | None:
        """The executor's own book is the paper broker's book."""
        return None

    async def probe(self) -> Literal["valid", "invalid", "unknown"]:
        """The paper session never expires."""
        return "valid"

    @property
    def session_problem(self) -> str | None:
        """The paper session never expires."""
        return None
