"""The paper broker: fills against quotes with spread, slippage, latency and Indian charges.

Quotes come from a live quote source (Breeze, when a session exists) or, without one, from the
Black-Scholes model of libs/market; every fill says which (``price_source``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal, Protocol

from libs.common.clock import IST, Clock
from libs.common.messages import Instrument, Side, SubmitOrder
from libs.market import charges as charges_model
from libs.market.contract import TICK_SIZE, Right, round_to_tick
from libs.market.pricing import bs_price, year_fraction
from services.executor.broker import (
    BrokerResult,
    BrokerUnavailableError,
    Execution,
    Mark,
    OrderStatus,
)

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaperFillModel:
    """Parameters of paper fills."""

    iv: float
    spread_pct: Decimal
    slippage_pct: Decimal
    brokerage_per_order: Decimal
    latency_s: float = 0.0


@dataclass(frozen=True)
class Touch:
    """The best bid and offer of a contract now."""

    bid: Decimal
    ask: Decimal


class QuoteSource(Protocol):
    """Live quotes for the paper broker (the Breeze broker is one)."""

    async def touch(self, instrument: Instrument) -> Touch:
        """The best bid and offer now; raises ``BrokerUnavailableError`` without one."""
        ...


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
    return slipped(touch, side, model)


def slipped(touch: Decimal, side: Side, model: PaperFillModel) -> Decimal:
    """Slip beyond the touch, rounded away from the trader to the tick."""
    slip = touch * model.slippage_pct / _HUNDRED
    price = touch + slip if side is Side.BUY else touch - slip
    return _to_tick(price, up=side is Side.BUY)


class PaperBroker:
    """A broker that fills every order whole, after its latency, against a labelled quote."""

    # Its book is the executor's own tables, so an order it has no record of was never placed.
    resend_when_absent = True

    def __init__(
        self, clock: Clock, model: PaperFillModel, quotes: QuoteSource | None = None
    ) -> None:
        self._clock = clock
        self._model = model
        self._quotes = quotes

    @property
    def quotes(self) -> QuoteSource | None:
        """Where live quotes come from, if anywhere."""
        return self._quotes

    async def _price(self, order: SubmitOrder) -> tuple[Decimal, Literal["quote", "model"]]:
        """The fill price: the live touch plus slippage, else the model with spread."""
        if self._quotes is not None:
            try:
                touch = await self._quotes.touch(order.instrument)
            except BrokerUnavailableError:
                pass  # no live quote now: the model price, labelled as such
            else:
                side_touch = touch.ask if order.side is Side.BUY else touch.bid
                if side_touch > 0:
                    return slipped(side_touch, order.side, self._model), "quote"
        mid = model_mid(order, self._clock, self._model.iv)
        return fill_price(mid, order.side, self._model), "model"

    async def submit(self, order: SubmitOrder) -> BrokerResult:
        """Fill the whole order once the configured latency has passed."""
        if self._model.latency_s > 0:
            await asyncio.sleep(self._model.latency_s)  # the simulated round trip
        try:
            price, source = await self._price(order)
        except ValueError as exc:
            return BrokerResult(OrderStatus.REJECTED, None, reason=str(exc))
        if order.limit_price is not None and (
            price > order.limit_price if order.side is Side.BUY else price < order.limit_price
        ):
            return BrokerResult(
                OrderStatus.REJECTED,
                None,
                reason=f"limit {order.limit_price} not marketable at {price}",
            )
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
            price_source=source,
        )
        return BrokerResult(OrderStatus.FILLED, broker_id, (execution,))

    async def lookup(
        self, order: SubmitOrder, exclude: Collection[str] = ()
    ) -> BrokerResult | None:
        """The paper book lives in the executor's own tables: an unrecorded order never filled."""
        return None

    async def mark(self, instrument: Instrument, underlying: Decimal) -> Mark:
        """The live mid when there is one, else the model mid, on the tick."""
        if self._quotes is not None:
            try:
                touch = await self._quotes.touch(instrument)
            except BrokerUnavailableError:
                pass
            else:
                if touch.bid > 0 and touch.ask > 0:
                    return Mark(max(round_to_tick((touch.bid + touch.ask) / 2), TICK_SIZE), "quote")
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
