"""The live broker: the Broker port on top of a logged-in ``BreezeConnect`` client (breeze.md 6).

Every SDK call runs in one worker thread owned by the adapter (the SDK blocks and is not safe to
share across threads on every path), under an asyncio timeout. Answers are classified once
(:func:`classify`): ``ok``, ``empty`` (Status 500 ``No Data Found``), ``rejected`` (an explicit
business rejection) or ``unknown`` (transport error, timeout, gateway error, session error, an
unrecognised Status 500, anything unparseable). A ``place_order`` is never retried: an unknown
outcome becomes ``UNKNOWN`` and is settled by :meth:`BreezeBroker.lookup` against the order list.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Literal

from libs.common.clock import IST
from libs.common.logging import get_logger
from libs.common.messages import Instrument, OptionRight, Side, SubmitOrder
from libs.market import charges as charges_model
from libs.market.contract import TICK_SIZE, round_to_tick
from services.executor.adapters.call_guard import BreakerState, CallGuard, GuardConfig
from services.executor.adapters.paper import Touch
from services.executor.broker import (
    AmbiguousOrderError,
    BrokerResult,
    BrokerUnavailableError,
    Execution,
    Mark,
    OrderStatus,
)

log = get_logger(__name__)
EXCHANGE = "NFO"
PRODUCT = "options"  # F&O "options" is carry-forward (NRML) at ICICI
STOCK_CODES = {"NIFTY": "NIFTY", "BANKNIFTY": "CNXBAN"}  # ICICI short names (breeze.md 3.2)
NO_DATA = "no data found"
# Status 500 texts that prove the broker refused the request (case-insensitive substrings).
# Any other Status 500 is treated as an unknown outcome: a server fault looks the same on the wire.
REJECTION_MARKERS: tuple[str, ...] = (
    "rms",
    "margin",
    "insufficient",
    "lot size",
    "freeze",
    "tick",
    "circuit",
    "invalid market/limit",
    "cannot be empty",
    "must be",
    "not accepted",
    "market is closed",
    "rejected",
    "wrong side",
)
# Errors about the session or the gateway: never a proof that an order was refused.
SESSION_MARKERS: tuple[str, ...] = (
    "invalid user details",
    "expired",
    "resource not available",
    "checksum",
    "limit exceed",
)
# The subset of those that mean the session itself is no longer good.
SESSION_WORDS: tuple[str, ...] = ("invalid user details", "session", "expired")
# Errors of a call that may still be running at the gateway: our timeout, or no answer at all
# (the SDK returns None on any transport failure, so a read timeout looks like a reset).
TIMED_OUT: tuple[str, ...] = ("no answer", "timed out")
OPEN_STATUSES = frozenset(
    {"requested", "queued", "ordered", "partially executed", "freezed", "modified"}
)
PARTIAL_DONE = frozenset({"partially executed and cancelled", "partially executed and expired"})
DEAD_STATUSES = frozenset({"cancelled", "expired"})


class BreezeLookupError(BrokerUnavailableError):
    """The order list could not be read: the broker may or may not hold the order."""


class BreezeQuoteError(BrokerUnavailableError):
    """No usable quote for a contract."""


class SessionRejectedError(RuntimeError):
    """The broker refused a session value at login."""


@dataclass(frozen=True)
class Reply:
    """One classified SDK answer (``refused``: the call guard kept it from being sent)."""

    kind: Literal["ok", "empty", "rejected", "unknown", "refused"]
    payload: Any = None
    error: str = ""


def classify(raw: object, rejection_markers: tuple[str, ...] = REJECTION_MARKERS) -> Reply:
    """Classify a Breeze answer (breeze.md 3.1, 6.2)."""
    if raw is None:
        return Reply("unknown", error="no answer from the SDK (not logged in?)")
    if not isinstance(raw, dict):
        return Reply("unknown", error=f"unparseable answer: {raw!r:.200}")
    status = raw.get("Status")
    error = str(raw.get("Error") or "")
    if status == 200 and "Success" in raw:
        return Reply("ok", raw["Success"])
    lowered = error.lower()
    if status == 500 and lowered.strip() == NO_DATA:
        return Reply("empty", error=error)
    session_trouble = any(m in lowered for m in SESSION_MARKERS)
    if status == 500 and not session_trouble and any(m in lowered for m in rejection_markers):
        return Reply("rejected", error=error)
    return Reply("unknown", error=f"Status {status}: {error or 'no error text'}")


@dataclass(frozen=True)
class BreezeBrokerConfig:
    """Knobs of the live adapter."""

    call_timeout_s: float = 10.0
    protection_pct: Decimal = Decimal(5)  # how far through the touch an unpriced order may go
    lookup_before: timedelta = timedelta(minutes=1)  # order_datetime window around ts_event
    lookup_after: timedelta = timedelta(minutes=5)
    brokerage: charges_model.Brokerage = field(default_factory=charges_model.Brokerage)
    rejection_markers: tuple[str, ...] = REJECTION_MARKERS
    # How long a place call that timed out may still be booked by the gateway: until then an
    # empty order list proves nothing, and the order stays UNKNOWN.
    in_flight_horizon_s: float = 120.0


def expiry_param(expiry: date) -> str:
    """Expiry as Breeze requests take it (06:00Z keeps the IST date)."""
    return f"{expiry.isoformat()}T06:00:00.000Z"


def historical_time(moment: datetime) -> str:
    """A historical-data bound: IST wall-clock time labelled ``Z`` (breeze.md 3.9, pitfall 9)."""
    return moment.astimezone(IST).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _to_tick(price: Decimal, up: bool) -> Decimal:
    steps = (price / TICK_SIZE).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return max(steps * TICK_SIZE, TICK_SIZE).quantize(TICK_SIZE)


def _parse_datetime(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%d-%b-%Y %H:%M").replace(tzinfo=IST)
    except ValueError:
        return None


def _parse_expiry(value: object) -> date | None:
    try:
        return datetime.strptime(str(value), "%d-%b-%Y").date()  # noqa: DTZ007 - a date only
    except ValueError:
        return None


def _int(value: object) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


def _right(right: OptionRight) -> str:
    return "call" if right is OptionRight.CE else "put"


SYMBOLS = {code: symbol for symbol, code in STOCK_CODES.items()}


def _position_key(row: dict[str, Any]) -> str | None:
    """The contract key (``Instrument.key``) of a ``portfoliopositions`` row."""
    symbol = SYMBOLS.get(str(row.get("stock_code", "")).upper())
    expiry = _parse_expiry(row.get("expiry_date"))
    strike = _decimal(row.get("strike_price"))
    right = str(row.get("right", "")).lower()
    if symbol is None or expiry is None or strike is None or right not in ("call", "put"):
        return None
    instrument = Instrument(
        symbol=symbol,
        expiry=expiry,
        strike=strike,
        right=OptionRight.CE if right == "call" else OptionRight.PE,
    )
    return instrument.key


def _login_error(exc: Exception) -> str:
    """The SDK's login message without anything that could be a credential."""
    text = str(exc)
    for known in ("check session key", "check api key", "session key is expired", "try again"):
        if known in text.lower():
            return f"login refused: {known}"
    return f"login refused: {type(exc).__name__}"


class BreezeBroker:
    """The Broker port against ICICI Breeze (or the local simulator)."""

    def __init__(
        self,
        client: Any,
        config: BreezeBrokerConfig | None = None,
        guard: CallGuard | None = None,
    ) -> None:
        self._client = client
        self._config = config or BreezeBrokerConfig()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="breeze-sdk")
        self._sent_prices: dict[str, Decimal] = {}
        self._timed_out: dict[str, float] = {}  # client order id -> monotonic time of the send
        self.guard = guard or CallGuard(GuardConfig(), lambda: datetime.now(UTC))
        self.session_problem: str | None = None

    @property
    def client(self) -> Any:
        """The SDK client, for the daily login."""
        return self._client

    def close(self) -> None:
        """Stop the worker thread (a call stuck in the SDK is left to finish on its own)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------------------- calls
    async def _call(self, name: str, **kwargs: Any) -> Reply:
        refusal = self.guard.acquire()
        if refusal is not None:
            log.warning("breeze_call_refused", call=name, reason=refusal)
            return Reply("refused", error=f"{name} not sent: {refusal}")
        reply = await self._send(name, **kwargs)
        changed = self.guard.record(failed=reply.kind == "unknown")
        if changed is not None:
            (log.info if changed is BreakerState.CLOSED else log.error)(
                "broker_error_breaker", state=changed, call=name, error=reply.error[:200]
            )
        if reply.kind == "unknown" and any(m in reply.error.lower() for m in SESSION_WORDS):
            self.session_problem = f"{name}: {reply.error}"[:300]
        return reply

    async def _send(self, name: str, **kwargs: Any) -> Reply:
        """Run one SDK call on the adapter's thread, under the call timeout, and classify it."""
        method = getattr(self._client, name)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, functools.partial(method, **kwargs))
        try:
            raw = await asyncio.wait_for(asyncio.shield(future), self._config.call_timeout_s)
        except TimeoutError:
            return Reply("unknown", error=f"{name}: no answer in {self._config.call_timeout_s}s")
        except Exception as exc:  # noqa: BLE001 - every SDK failure is an unknown outcome
            return Reply("unknown", error=f"{name}: {type(exc).__name__}: {exc}")
        return classify(raw, self._config.rejection_markers)

    # ----------------------------------------------------------------------------- session
    async def login(self, api_secret: str, session_value: str, timeout_s: float = 30.0) -> None:
        """Open the day's session with an API session value (``generate_session``).

        Raises :class:`SessionRejectedError` when the broker refuses the value and
        :class:`BrokerUnavailableError` when it does not answer. Values are never logged.
        """
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._pool,
            functools.partial(
                self._client.generate_session, api_secret=api_secret, session_token=session_value
            ),
        )
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            raise BrokerUnavailableError(f"login: no answer in {timeout_s}s") from None
        except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exceptions on login
            raise SessionRejectedError(_login_error(exc)) from None
        self.guard.record(failed=False)
        self.session_problem = None

    async def probe(self) -> Literal["valid", "invalid", "unknown"]:
        """Is the session good? One ``get_funds`` call (breeze.md 6.4); a good answer clears a
        session problem seen earlier."""
        reply = await self._call("get_funds")
        if reply.kind == "ok":
            if self.session_problem is not None:
                log.warning("breeze_session_good_again", was=self.session_problem[:200])
            self.session_problem = None
            return "valid"
        lowered = reply.error.lower()
        if reply.kind == "unknown" and any(m in lowered for m in SESSION_WORDS):
            return "invalid"
        if reply.kind == "unknown" and "checksum" in lowered:
            self.session_problem = f"get_funds: {reply.error}"[:300]
            return "invalid"
        return "unknown"

    async def positions(self) -> dict[str, int]:
        """Net open quantity per contract key at the broker (flat contracts left out)."""
        reply = await self._call("get_portfolio_positions")
        if reply.kind == "empty":
            return {}
        if reply.kind != "ok" or not isinstance(reply.payload, list):
            raise BrokerUnavailableError(f"positions unavailable: {reply.error or reply.kind}")
        held: dict[str, int] = {}
        for row in reply.payload:
            if not isinstance(row, dict) or str(row.get("segment", "fno")).lower() != "fno":
                continue
            key = _position_key(row)
            quantity = _int(row.get("quantity"))
            action = str(row.get("action", "")).lower()
            signed = quantity if action == "buy" else -quantity if action == "sell" else 0
            if key is not None and signed:
                held[key] = held.get(key, 0) + signed
        return {k: v for k, v in held.items() if v}

    async def index_candles(
        self, interval: str, start: datetime, end: datetime, stock_code: str = "NIFTY"
    ) -> list[dict[str, Any]]:
        """Index candles of the cash segment on NSE from ``start`` to ``end`` (historical v2,
        breeze.md 3.9): one guarded call; ``[]`` on ``No Data Found``.

        Raises :class:`BrokerUnavailableError` when the candles cannot be read now.
        """
        reply = await self._call(
            "get_historical_data_v2",
            interval=interval,
            from_date=historical_time(start),
            to_date=historical_time(end),
            stock_code=stock_code,
            exchange_code="NSE",
            product_type="cash",
        )
        if reply.kind == "empty":
            return []
        if reply.kind != "ok" or not isinstance(reply.payload, list):
            raise BrokerUnavailableError(f"index candles unavailable: {reply.error or reply.kind}")
        return [row for row in reply.payload if isinstance(row, dict)]

    async def status(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """The broker's current view of one order; None if it cannot be read now."""
        detail = await self._call(
            "get_order_detail", exchange_code=EXCHANGE, order_id=broker_order_id
        )
        if detail.kind == "ok" and isinstance(detail.payload, list) and detail.payload:
            return self._result(order, detail.payload[0])
        return None

    async def cancel(self, order: SubmitOrder, broker_order_id: str) -> BrokerResult | None:
        """Cancel an open order, then re-read it: the detail, not the answer, is the truth."""
        reply = await self._call("cancel_order", exchange_code=EXCHANGE, order_id=broker_order_id)
        if reply.kind == "rejected":
            log.warning("cancel_refused", order_id=broker_order_id, error=reply.error[:200])
        return await self.status(order, broker_order_id)

    async def modify(
        self, order: SubmitOrder, broker_order_id: str, price: Decimal
    ) -> BrokerResult | None:
        """Move an open order's limit price, then re-read it."""
        price = round_to_tick(price)
        reply = await self._call(
            "modify_order",
            order_id=broker_order_id,
            exchange_code=EXCHANGE,
            order_type="limit",
            stoploss="",
            quantity=str(order.quantity),
            price=f"{price:.2f}",
            validity="day",
            disclosed_quantity="",
            validity_date="",
        )
        if reply.kind == "ok":
            self._sent_prices[order.client_order_id] = price
        return await self.status(order, broker_order_id)

    def _contract(self, instrument: Instrument) -> dict[str, str]:
        stock_code = STOCK_CODES.get(instrument.symbol)
        if stock_code is None:
            raise ValueError(f"no Breeze stock code for {instrument.symbol}")
        return {
            "stock_code": stock_code,
            "exchange_code": EXCHANGE,
            "expiry_date": expiry_param(instrument.expiry),
            "right": _right(instrument.right),
            "strike_price": f"{instrument.strike.normalize():f}",
        }

    async def _quote(self, instrument: Instrument) -> dict[str, Any]:
        reply = await self._call("get_quotes", product_type=PRODUCT, **self._contract(instrument))
        if reply.kind != "ok" or not isinstance(reply.payload, list) or not reply.payload:
            raise BreezeQuoteError(f"no quote for {instrument.key}: {reply.error or reply.kind}")
        row: dict[str, Any] = reply.payload[0]
        return row

    async def _protective_price(self, order: SubmitOrder) -> Decimal:
        """Through the touch by ``protection_pct``, on the tick, inside the circuit band."""
        row = await self._quote(order.instrument)
        ltp = _decimal(row.get("ltp")) or Decimal(0)
        buy = order.side is Side.BUY
        touch = _decimal(row.get("best_offer_price" if buy else "best_bid_price"))
        base = touch if touch is not None and touch > 0 else ltp
        if base <= 0:
            raise BreezeQuoteError(f"no usable price in the quote for {order.instrument.key}")
        factor = Decimal(1) + (1 if buy else -1) * self._config.protection_pct / Decimal(100)
        price = _to_tick(base * factor, up=buy)
        upper = _decimal(row.get("upper_circuit"))
        lower = _decimal(row.get("lower_circuit"))
        if upper is not None and upper > 0:
            price = min(price, _to_tick(upper, up=False))
        if lower is not None and lower > 0:
            price = max(price, _to_tick(lower, up=True))
        return price

    # ----------------------------------------------------------------------------- port
    async def submit(self, order: SubmitOrder) -> BrokerResult:
        """Place one limit order; never retried. Transport trouble gives UNKNOWN."""
        try:
            contract = self._contract(order.instrument)
            if order.limit_price is not None:
                price = round_to_tick(order.limit_price)
            else:
                price = await self._protective_price(order)
        except (ValueError, BreezeQuoteError) as exc:  # nothing was sent
            return BrokerResult(OrderStatus.REJECTED, None, reason=str(exc))
        if price <= 0:
            return BrokerResult(OrderStatus.REJECTED, None, reason=f"limit price {price} <= 0")
        self._sent_prices[order.client_order_id] = price
        sent = time.monotonic()
        reply = await self._call(
            "place_order",
            product=PRODUCT,
            action=order.side.value.lower(),
            order_type="limit",
            quantity=str(order.quantity),
            price=f"{price:.2f}",
            validity="day",
            **contract,
        )
        if reply.kind in ("rejected", "empty", "refused"):
            return BrokerResult(OrderStatus.REJECTED, None, reason=reply.error)
        payload = reply.payload
        order_id = payload.get("order_id") if isinstance(payload, dict) else None
        if reply.kind != "ok" or not order_id:
            if any(m in reply.error.lower() for m in TIMED_OUT):
                self._timed_out[order.client_order_id] = sent
            return BrokerResult(OrderStatus.UNKNOWN, None, reason=reply.error or "no order id")
        order_id = str(order_id)
        detail = await self._call("get_order_detail", exchange_code=EXCHANGE, order_id=order_id)
        if detail.kind != "ok" or not isinstance(detail.payload, list) or not detail.payload:
            return BrokerResult(OrderStatus.ACCEPTED, order_id)
        row: dict[str, Any] = detail.payload[0]
        if str(row.get("status", "")).strip().lower() == "partially executed":
            # A protective limit that crossed the touch only partly found liquidity: keep what
            # filled, cancel the rest, and report the order as the broker now holds it (a
            # cancel's answer is no proof: read the order again).
            await self._call("cancel_order", exchange_code=EXCHANGE, order_id=order_id)
            again = await self._call("get_order_detail", exchange_code=EXCHANGE, order_id=order_id)
            if again.kind == "ok" and isinstance(again.payload, list) and again.payload:
                row = again.payload[0]
        return self._result(order, row)

    async def lookup(
        self, order: SubmitOrder, exclude: Collection[str] = ()
    ) -> BrokerResult | None:
        """The one broker order matching this intent, None if there is none.

        Breeze keeps no client order id, so the day's order list is matched on contract, side,
        quantity, limit price (when known) and ``order_datetime`` near ``ts_event``; ``exclude``
        holds broker order ids already adopted by other intents. Several matches raise
        :class:`AmbiguousOrderError`; an unreadable list raises :class:`BreezeLookupError`.
        """
        start = order.ts_event - self._config.lookup_before
        end = order.ts_event + self._config.lookup_after
        first, last = start.astimezone(IST).date(), end.astimezone(IST).date()
        reply = await self._call(
            "get_order_list",
            exchange_code=EXCHANGE,
            from_date=f"{first.isoformat()}T00:00:00.000Z",
            to_date=f"{last.isoformat()}T23:59:59.000Z",
        )
        if reply.kind == "empty":
            self._check_absent(order)
            return None
        if reply.kind != "ok" or not isinstance(reply.payload, list):
            raise BreezeLookupError(f"order list unavailable: {reply.error or reply.kind}")
        price = order.limit_price
        if price is None:
            price = self._sent_prices.get(order.client_order_id)
        else:
            price = round_to_tick(price)
        matches = [
            row
            for row in reply.payload
            if isinstance(row, dict)
            and str(row.get("order_id")) not in exclude
            and self._matches(order, row, price, start, end)
        ]
        if not matches:
            self._check_absent(order)
            return None
        if len(matches) > 1:
            raise AmbiguousOrderError(
                order.client_order_id, [str(r.get("order_id")) for r in matches]
            )
        return self._result(order, matches[0])

    async def touch(self, instrument: Instrument) -> Touch:
        """The best bid and offer (the last price on a side with none)."""
        row = await self._quote(instrument)
        ltp = _decimal(row.get("ltp")) or Decimal(0)
        bid = _decimal(row.get("best_bid_price")) or Decimal(0)
        ask = _decimal(row.get("best_offer_price")) or Decimal(0)
        if bid <= 0 and ask <= 0 and ltp <= 0:
            raise BreezeQuoteError(f"no usable price in the quote for {instrument.key}")
        return Touch(bid if bid > 0 else ltp, ask if ask > 0 else ltp)

    def _check_absent(self, order: SubmitOrder) -> None:
        """Not in the order list proves absence only once a timed-out send can no longer land."""
        sent = self._timed_out.get(order.client_order_id)
        if sent is not None and time.monotonic() - sent >= self._config.in_flight_horizon_s:
            del self._timed_out[order.client_order_id]  # it can no longer land
        elif sent is not None:
            raise BreezeLookupError(
                "not in the order list, but the place call timed out "
                f"{time.monotonic() - sent:.1f}s ago: the gateway may still book it"
            )

    async def mark(self, instrument: Instrument, underlying: Decimal) -> Mark:
        """Mid of the best bid and offer (else the last price) from a quote, on the tick."""
        del underlying
        row = await self._quote(instrument)
        bid = _decimal(row.get("best_bid_price")) or Decimal(0)
        ask = _decimal(row.get("best_offer_price")) or Decimal(0)
        ltp = _decimal(row.get("ltp")) or Decimal(0)
        price = (bid + ask) / 2 if bid > 0 and ask > 0 else ltp
        if price <= 0:
            raise BreezeQuoteError(f"no usable price in the quote for {instrument.key}")
        return Mark(max(round_to_tick(price), TICK_SIZE), "quote")

    # ----------------------------------------------------------------------------- rows
    def _matches(
        self,
        order: SubmitOrder,
        row: dict[str, Any],
        price: Decimal | None,
        start: datetime,
        end: datetime,
    ) -> bool:
        instrument = order.instrument
        placed = _parse_datetime(row.get("order_datetime"))
        row_price = _decimal(row.get("price"))
        return (
            str(row.get("stock_code", "")).upper() == STOCK_CODES.get(instrument.symbol)
            and str(row.get("exchange_code", EXCHANGE)).upper() == EXCHANGE
            and _parse_expiry(row.get("expiry_date")) == instrument.expiry
            and _decimal(row.get("strike_price")) == instrument.strike
            and str(row.get("right", "")).lower() == _right(instrument.right)
            and str(row.get("action", "")).lower() == order.side.value.lower()
            and _int(row.get("quantity")) == order.quantity
            and (price is None or row_price == price)
            # order_datetime has minute resolution: the whole minute may hold the intent
            and placed is not None
            and placed + timedelta(minutes=1) > start
            and placed <= end
        )

    def _result(self, order: SubmitOrder, row: dict[str, Any]) -> BrokerResult:
        """A BrokerResult from one ``GET order`` row."""
        order_id = str(row.get("order_id"))
        status = str(row.get("status", "")).strip().lower()
        quantity = _int(row.get("quantity"))
        filled = quantity - _int(row.get("pending_quantity")) - _int(row.get("cancelled_quantity"))
        if status == "executed" or (status in PARTIAL_DONE and filled > 0):
            reason = None if status == "executed" else f"{row.get('status')}: {filled} filled"
            return BrokerResult(
                OrderStatus.FILLED,
                order_id,
                (self._execution(order, row, filled),),
                reason=reason,
            )
        if status == "rejected":
            return BrokerResult(OrderStatus.REJECTED, order_id, reason="rejected by the exchange")
        if status in DEAD_STATUSES or status in PARTIAL_DONE:
            return BrokerResult(OrderStatus.REJECTED, order_id, reason=f"{status} unfilled")
        reason = None if status in OPEN_STATUSES else f"unrecognised status {row.get('status')}"
        return BrokerResult(OrderStatus.ACCEPTED, order_id, reason=reason)

    def _execution(self, order: SubmitOrder, row: dict[str, Any], filled: int) -> Execution:
        """The order's whole (final) fill at its average price; stable id per broker order."""
        price = _decimal(row.get("average_price")) or Decimal(0)
        placed = _parse_datetime(row.get("order_datetime"))
        trade_date = placed.date() if placed else order.ts_event.astimezone(IST).date()
        breakdown = charges_model.order_charges(
            charges_model.Side(order.side.value),
            price,
            filled,
            trade_date,
            lot_size=order.lot_size,
            brokerage=self._config.brokerage,
        )
        return Execution(
            execution_id=f"breeze-{row.get('order_id')}",
            quantity=filled,
            price=price,
            charges=breakdown.total,
            price_source="quote",
        )
