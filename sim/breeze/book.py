"""In-memory order book: matching against the quote, trades, positions and funds (7.6)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sim.breeze.market import Contract, ContractKey, Quote, Universe
from sim.breeze.settings import SimClock, SimSettings
from sim.breeze.validation import (
    OrderSpec,
    check_band,
    check_stop_trigger,
    marketable,
    parse_price,
    parse_quantity,
    triggered,
)
from sim.breeze.wire import SimReject, fmt_datetime, fmt_expiry, fmt_price, title

OPEN = ("Requested", "Ordered", "Partially Executed")
MODIFIABLE = OPEN
ZERO = Decimal(0)


@dataclass
class Order:
    """One order and its lifecycle state."""

    order_id: str
    spec: OrderSpec
    created_at: datetime  # IST
    price: Decimal
    quantity: int
    stoploss: Decimal | None
    validity: str
    status: str = "Ordered"
    filled: int = 0
    filled_value: Decimal = ZERO
    cancelled: int = 0
    modification_number: int = 0

    @property
    def pending(self) -> int:
        """Quantity still working."""
        return self.quantity - self.filled - self.cancelled

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill, be modified or be cancelled."""
        return self.status in OPEN

    @property
    def average_price(self) -> Decimal:
        """Average fill price (0 before any fill)."""
        return self.filled_value / self.filled if self.filled else ZERO


@dataclass
class Trade:
    """One fill."""

    trade_id: str
    order_id: str
    key: ContractKey
    action: str
    quantity: int
    price: Decimal
    at: datetime  # IST


@dataclass
class Position:
    """Net position of one contract; ``net`` is signed (short < 0)."""

    contract: Contract
    net: int = 0
    average: Decimal = ZERO
    realised: Decimal = ZERO


@dataclass
class Book:
    """Orders, trades, positions and cash of the single simulated account."""

    settings: SimSettings
    clock: SimClock
    universe: Universe
    orders: dict[str, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    positions: dict[ContractKey, Position] = field(default_factory=dict)
    cash: Decimal = ZERO
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.cash = self.settings.opening_funds

    # ---------------------------------------------------------------- helpers
    def today(self) -> date:
        """Simulated trading date (IST)."""
        return self.clock.now_ist().date()

    def quote(self, key: ContractKey) -> Quote:
        """Quote of a listed contract (default model until a test sets one)."""
        return self.universe.quote(key, self.today())

    def _next_id(self) -> str:
        return f"{self.today():%Y%m%d}14{next(self._ids):08d}"

    def get(self, order_id: str) -> Order:
        """An order by id, or ``No Data Found``."""
        order = self.orders.get(order_id.strip())
        if order is None:
            raise SimReject("No Data Found")
        return order

    # ----------------------------------------------------------------- margin
    def _short_margin(self, contract: Contract, quantity: int) -> Decimal:
        base = contract.strike if contract.product == "options" else self.settings.spot
        return base * quantity * self.settings.short_margin_pct / 100

    def _order_block(self, order: Order) -> Decimal:
        if order.spec.action == "buy":
            return order.price * order.pending
        long = max(self.positions.get(order.spec.key, Position(order.spec.contract)).net, 0)
        opening = max(order.pending - long, 0)
        return self._short_margin(order.spec.contract, opening)

    def blocked(self) -> Decimal:
        """Funds blocked by open orders and short positions."""
        orders = sum((self._order_block(o) for o in self.orders.values() if o.is_open), ZERO)
        shorts = sum(
            (self._short_margin(p.contract, -p.net) for p in self.positions.values() if p.net < 0),
            ZERO,
        )
        return orders + shorts

    # ----------------------------------------------------------------- orders
    def place(
        self, spec: OrderSpec, *, fill_cap: int | None = None, reject: str | None = None
    ) -> Order:
        """Accept a validated order and match it against the quote."""
        quote = self.quote(spec.key)
        check_band(spec.price, quote)
        check_stop_trigger(spec.action, spec.stoploss, quote)
        order = Order(
            order_id=self._next_id(),
            spec=spec,
            created_at=self.clock.now_ist(),
            price=spec.price,
            quantity=spec.quantity,
            stoploss=spec.stoploss,
            validity=spec.validity,
        )
        if self._order_block(order) > self.cash - self.blocked():
            raise SimReject("SIM: insufficient funds")
        self.orders[order.order_id] = order
        if reject is not None:
            order.status = "Rejected"
            return order
        self._match(order, quote, fill_cap)
        self._apply_ioc(order)
        return order

    def modify(self, order_id: str, body: dict[str, Any], *, applied: bool = True) -> Order:
        """Change price, quantity, trigger or validity of an open order."""
        order = self.get(order_id)
        if order.status not in MODIFIABLE:
            raise SimReject(f"SIM: order cannot be modified in status {order.status}")
        price = parse_price(body["price"]) if str(body.get("price") or "") else order.price
        quantity = order.quantity
        if str(body.get("quantity") or ""):
            quantity = parse_quantity(
                body["quantity"], order.spec.contract.lot_size, self.settings.freeze_quantity
            )
            if quantity <= order.filled:
                raise SimReject("SIM: quantity must exceed the executed quantity")
        stoploss = order.stoploss
        if str(body.get("stoploss") or "") and order.spec.order_type == "stoploss":
            stoploss = parse_price(body["stoploss"], "stoploss")
        validity = str(body.get("validity") or order.validity).lower()
        quote = self.quote(order.spec.key)
        check_band(price, quote)
        if not applied:
            return order
        order.price, order.quantity, order.stoploss = price, quantity, stoploss
        order.validity = validity if validity in ("day", "ioc") else order.validity
        order.modification_number += 1
        self._match(order, quote, None)
        self._apply_ioc(order)
        return order

    def cancel(self, order_id: str, *, applied: bool = True) -> Order:
        """Cancel the working quantity of an open order."""
        order = self.get(order_id)
        if not order.is_open:
            raise SimReject(f"SIM: order cannot be cancelled in status {order.status}")
        if applied:
            self._cancel_rest(order)
        return order

    def _cancel_rest(self, order: Order) -> None:
        order.cancelled += order.pending
        order.status = "Cancelled" if order.filled == 0 else "Partially Executed And Cancelled"

    def _apply_ioc(self, order: Order) -> None:
        if order.validity == "ioc" and order.is_open:
            self._cancel_rest(order)

    def expire_day_orders(self) -> int:
        """At the close: open day orders become Expired."""
        expired = 0
        for order in self.orders.values():
            if order.is_open:
                order.cancelled += order.pending
                order.status = "Expired"
                expired += 1
        return expired

    def on_quote(self, key: ContractKey) -> None:
        """Re-check resting orders of a contract after its quote changed (time priority)."""
        quote = self.quote(key)
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.spec.key == key and order.is_open:
                self._match(order, quote, None)

    def _match(self, order: Order, quote: Quote, fill_cap: int | None) -> None:
        if not order.is_open or not triggered(order.spec.action, order.stoploss, quote):
            return
        if not marketable(order.spec.action, order.price, quote):
            return
        buy = order.spec.action == "buy"
        depth = quote.ask_qty if buy else quote.bid_qty
        quantity = min(order.pending, depth)
        if fill_cap is not None:
            quantity = min(quantity, fill_cap)
        if quantity <= 0:
            return
        price = quote.ask if buy else quote.bid
        if buy:
            quote.ask_qty -= quantity
        else:
            quote.bid_qty -= quantity
        quote.ltp, quote.volume = price, quote.volume + quantity
        order.filled += quantity
        order.filled_value += price * quantity
        order.status = "Executed" if order.pending == 0 else "Partially Executed"
        trade = Trade(
            trade_id=f"{len(self.trades) + 1:08d}",
            order_id=order.order_id,
            key=order.spec.key,
            action=order.spec.action,
            quantity=quantity,
            price=price,
            at=self.clock.now_ist(),
        )
        self.trades.append(trade)
        self._book_fill(order.spec.contract, trade)

    def _book_fill(self, contract: Contract, trade: Trade) -> None:
        position = self.positions.setdefault(trade.key, Position(contract))
        signed = trade.quantity if trade.action == "buy" else -trade.quantity
        if contract.product == "options":
            self.cash -= trade.price * signed
        if position.net == 0 or (position.net > 0) == (signed > 0):
            total = abs(position.net) + abs(signed)
            position.average = (
                position.average * abs(position.net) + trade.price * abs(signed)
            ) / total
            position.net += signed
            return
        closing = min(abs(signed), abs(position.net))
        direction = 1 if position.net > 0 else -1
        pnl = (trade.price - position.average) * closing * direction
        position.realised += pnl
        if contract.product == "futures":
            self.cash += pnl
        position.net += signed
        if position.net == 0:
            position.average = ZERO
        elif (position.net > 0) != (direction > 0):
            position.average = trade.price

    # ------------------------------------------------------------------- rows
    def order_row(self, order: Order) -> dict[str, Any]:
        """A ``GET order`` row (breeze.md 3.5)."""
        spec = order.spec
        quote = self.quote(spec.key)
        return {
            "order_id": order.order_id,
            "exchange_order_id": f"1{order.order_id[-15:]}",
            "exchange_code": spec.exchange_code,
            "stock_code": spec.contract.stock_code,
            "product_type": title(spec.contract.product),
            "action": title(spec.action),
            "order_type": "StopLoss" if spec.order_type == "stoploss" else "Limit",
            "stoploss": fmt_price(order.stoploss or ZERO),
            "quantity": str(order.quantity),
            "price": fmt_price(order.price),
            "validity": "IoC" if order.validity == "ioc" else "Day",
            "disclosed_quantity": "0",
            "expiry_date": fmt_expiry(spec.contract.expiry),
            "right": title(spec.contract.right),
            "strike_price": float(spec.contract.strike),
            "average_price": fmt_price(order.average_price),
            "cancelled_quantity": str(order.cancelled),
            "pending_quantity": str(order.pending),
            "status": order.status,
            "user_remark": "",
            "order_datetime": fmt_datetime(order.created_at),
            "parent_order_id": None,
            "modification_number": str(order.modification_number),
            "exchange_acknowledgement_date": fmt_datetime(order.created_at),
            "SLTP_price": None,
            "exchange_acknowledge_number": f"1{order.order_id[-15:]}",
            "initial_limit": None,
            "intial_sltp": None,
            "LTP": float(quote.ltp),
            "limit_offset": None,
            "mbc_flag": None,
            "cutoff_price": None,
            "validity_date": None,
        }

    def position_row(self, position: Position) -> dict[str, Any]:
        """A ``GET portfoliopositions`` row (breeze.md 3.6)."""
        contract = position.contract
        key = next(k for k, p in self.positions.items() if p is position)
        ltp = self.quote(key).ltp
        unrealised = (ltp - position.average) * position.net
        action = "Buy" if position.net > 0 else "Sell" if position.net < 0 else "NA"
        margin = self._short_margin(contract, -position.net) if position.net < 0 else ZERO
        return {
            "segment": "fno",
            "product_type": title(contract.product),
            "exchange_code": "NFO",
            "stock_code": contract.stock_code,
            "expiry_date": fmt_expiry(contract.expiry),
            "strike_price": f"{contract.strike:.0f}",
            "right": title(contract.right),
            "action": action,
            "quantity": str(abs(position.net)),
            "average_price": fmt_price(position.average),
            "settlement_id": f"{self.today():%Y%j}",
            "margin_amount": fmt_price(margin),
            "ltp": fmt_price(ltp),
            "price": fmt_price(position.average),
            "stock_index_indicator": "Index",
            "cover_quantity": "0",
            "stoploss_trigger": None,
            "stoploss": None,
            "take_profit": None,
            "available_margin": None,
            "squareoff_mode": None,
            "mtf_sell_quantity": None,
            "mtf_net_amount_payable": None,
            "mtf_expiry_date": None,
            "order_id": "",
            "cover_order_flow": None,
            "cover_order_executed_quantity": None,
            "pledge_status": None,
            "pnl": fmt_price(unrealised + position.realised),
            "underlying": contract.stock_code,
            "order_segment_code": "O",
        }

    def funds_row(self) -> dict[str, Any]:
        """A ``GET funds`` row (breeze.md 3.7)."""
        block = self.blocked()
        return {
            "bank_account": "SIM000000000001",
            "total_bank_balance": float(self.cash),
            "allocated_equity": 0.0,
            "allocated_fno": float(self.cash),
            "allocated_commodity": 0.0,
            "allocated_currency": 0.0,
            "block_by_trade_equity": 0.0,
            "block_by_trade_fno": float(block),
            "block_by_trade_commodity": 0.0,
            "block_by_trade_currency": 0.0,
            "block_by_trade_balance": float(block),
            "unallocated_balance": "0",
        }

    def trade_rows(self, order_id: str | None) -> list[dict[str, Any]]:
        """``GET trades``: detail rows for one order, else the trade list."""
        if order_id:
            return [
                {
                    "settlement_id": f"{t.at:%Y%j}",
                    "exchange_trade_id": f"5{t.trade_id}",
                    "executed_quantity": str(t.quantity),
                    "action": t.action[0].upper(),
                    "total_transaction_cost": "0",
                    "brokerage_amount": "0",
                    "taxes": "0",
                    "eq_cost": "0",
                    "execution_price": fmt_price(t.price),
                    "exchange_trade_time": fmt_datetime(t.at) + ":00",
                    "trade_id": t.trade_id,
                }
                for t in self.trades
                if t.order_id == order_id
            ]
        rows = []
        for t in self.trades:
            contract = self.orders[t.order_id].spec.contract
            rows.append(
                {
                    "book_type": "Trade-Book",
                    "trade_date": f"{t.at:%d-%b-%Y}",
                    "stock_code": contract.stock_code,
                    "action": title(t.action),
                    "quantity": str(t.quantity),
                    "average_cost": fmt_price(t.price),
                    "brokerage_amount": "0",
                    "product_type": title(contract.product),
                    "exchange_code": "NFO",
                    "order_id": t.order_id,
                    "segment": "F",
                    "expiry_date": fmt_expiry(contract.expiry),
                    "right": title(contract.right),
                    "strike_price": f"{contract.strike:.0f}",
                }
            )
        return rows
