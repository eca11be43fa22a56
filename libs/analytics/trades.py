"""Trades from fills: a trade is every fill sharing a ``trade_id`` (pure).

A trade is **closed** when the net quantity of each of its legs (instruments) is zero; until then
it is **open**. Its gross P&L is the cash it moved (sells minus buys, premium times quantity),
its charges the sum of its fills' charges, and its net P&L gross less charges. The gross P&L of
an open trade is not a result (its open legs still hold premium) and is reported as ``None``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from libs.analytics.performance import ClosedTrade
from libs.common.messages import SignalName

ZERO = Decimal(0)
TradeStatus = Literal["open", "closed"]


@dataclass(frozen=True)
class Fill:
    """One execution as the ledger booked it."""

    fill_id: str
    trade_id: uuid.UUID
    signal: str
    purpose: str
    leg: str
    instrument_key: str
    side: Literal["BUY", "SELL"]
    quantity: int
    price: Decimal
    charges: Decimal
    filled_at: datetime
    signal_id: uuid.UUID | None = None

    @property
    def signed_quantity(self) -> int:
        """Bought quantity is positive, sold negative."""
        return self.quantity if self.side == "BUY" else -self.quantity

    @property
    def cash(self) -> Decimal:
        """Premium received (sell) or paid (buy, negative)."""
        notional = self.price * self.quantity
        return notional if self.side == "SELL" else -notional


@dataclass(frozen=True)
class LegSummary:
    """One instrument of a trade."""

    leg: str
    instrument_key: str
    net_quantity: int
    bought: int
    sold: int
    average_buy: Decimal | None
    average_sell: Decimal | None
    cash: Decimal
    charges: Decimal


@dataclass(frozen=True)
class Trade:
    """A trade assembled from its fills, oldest fill first."""

    trade_id: uuid.UUID
    signal: str
    status: TradeStatus
    opened_at: datetime
    closed_at: datetime | None
    legs: tuple[LegSummary, ...]
    fills: tuple[Fill, ...]
    charges: Decimal
    gross_pnl: Decimal | None
    net_pnl: Decimal | None

    @property
    def entry_signal_id(self) -> uuid.UUID | None:
        """The signal whose entry orders opened the trade."""
        return next((f.signal_id for f in self.fills if f.purpose == "entry"), None)

    @property
    def exit_signal_ids(self) -> tuple[uuid.UUID, ...]:
        """The causes recorded on the exit fills, in order, without repeats."""
        seen: list[uuid.UUID] = []
        for f in self.fills:
            if f.purpose == "exit" and f.signal_id is not None and f.signal_id not in seen:
                seen.append(f.signal_id)
        return tuple(seen)


def _average(total: Decimal, quantity: int) -> Decimal | None:
    return total / quantity if quantity else None


def _leg(fills: Sequence[Fill]) -> LegSummary:
    bought = sum(f.quantity for f in fills if f.side == "BUY")
    sold = sum(f.quantity for f in fills if f.side == "SELL")
    buy_notional = sum((f.price * f.quantity for f in fills if f.side == "BUY"), ZERO)
    sell_notional = sum((f.price * f.quantity for f in fills if f.side == "SELL"), ZERO)
    return LegSummary(
        leg=fills[0].leg,
        instrument_key=fills[0].instrument_key,
        net_quantity=bought - sold,
        bought=bought,
        sold=sold,
        average_buy=_average(buy_notional, bought),
        average_sell=_average(sell_notional, sold),
        cash=sell_notional - buy_notional,
        charges=sum((f.charges for f in fills), ZERO),
    )


def build_trade(fills: Iterable[Fill]) -> Trade:
    """Assemble one trade from its fills (all with the same ``trade_id``)."""
    ordered = sorted(fills, key=lambda f: (f.filled_at, f.fill_id))
    if not ordered:
        raise ValueError("a trade needs at least one fill")
    trade_id = ordered[0].trade_id
    if any(f.trade_id != trade_id for f in ordered):
        raise ValueError("fills of several trades given to build_trade")
    by_instrument: dict[str, list[Fill]] = {}
    for f in ordered:
        by_instrument.setdefault(f.instrument_key, []).append(f)
    legs = tuple(_leg(group) for group in by_instrument.values())
    closed = all(leg.net_quantity == 0 for leg in legs)
    charges = sum((leg.charges for leg in legs), ZERO)
    gross = sum((leg.cash for leg in legs), ZERO) if closed else None
    return Trade(
        trade_id=trade_id,
        signal=ordered[0].signal,
        status="closed" if closed else "open",
        opened_at=ordered[0].filled_at,
        closed_at=ordered[-1].filled_at if closed else None,
        legs=legs,
        fills=tuple(ordered),
        charges=charges,
        gross_pnl=gross,
        net_pnl=gross - charges if gross is not None else None,
    )


def build_trades(fills: Iterable[Fill]) -> list[Trade]:
    """Group fills by trade; trades in order of their first fill."""
    groups: dict[uuid.UUID, list[Fill]] = {}
    for f in fills:
        groups.setdefault(f.trade_id, []).append(f)
    trades = [build_trade(group) for group in groups.values()]
    return sorted(trades, key=lambda t: (t.opened_at, str(t.trade_id)))


@dataclass(frozen=True)
class SignalLevel:
    """The index price a signal carried (``action``: entry or exit)."""

    signal_id: uuid.UUID
    action: str
    price: Decimal | None


def index_move(trade: Trade, levels: Mapping[uuid.UUID, SignalLevel]) -> Decimal | None:
    """Index at exit minus index at entry, from the prices of the entry signal and of the last
    exit signal (a TradingView exit alert); None when either is unknown (an exit by the
    server-side stop, a square-off or an operator carries no index price of its own)."""
    entry = levels.get(trade.entry_signal_id) if trade.entry_signal_id else None
    if entry is None or entry.action != "entry" or entry.price is None:
        return None
    exits = [
        level
        for sid in trade.exit_signal_ids
        if (level := levels.get(sid)) is not None
        and level.action == "exit"
        and level.price is not None
    ]
    if not exits or exits[-1].price is None:
        return None
    return exits[-1].price - entry.price


def bullish(signal: str) -> bool | None:
    """Bullish signals sell puts, bearish sell calls; None for an operator's manual trade."""
    try:
        return SignalName(signal).bullish
    except ValueError:
        return None


def closed_trade(trade: Trade, levels: Mapping[uuid.UUID, SignalLevel]) -> ClosedTrade:
    """The performance input of a closed trade."""
    if trade.net_pnl is None or trade.closed_at is None:
        raise ValueError(f"trade {trade.trade_id} is still open")
    return ClosedTrade(
        signal=trade.signal,
        bullish=bullish(trade.signal),
        net_pnl=trade.net_pnl,
        charges=trade.charges,
        opened_at=trade.opened_at,
        closed_at=trade.closed_at,
        index_move=index_move(trade, levels),
    )
