"""A trade's legs and result from its fills (pure, no I/O).

A trade is one signal-week: the legs risk opened for it (MAIN, and HEDGE when hedged) and every
fill that opened or closed them. Each leg is folded from its fills in time order with the same
average-price arithmetic as the account's positions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from services.ledger.positions import ZERO, Position, apply_fill


@dataclass(frozen=True)
class LegFill:
    """One fill of a leg: side BUY or SELL, purpose entry or exit."""

    side: str
    purpose: str
    quantity: int
    price: Decimal
    charges: Decimal


@dataclass(frozen=True)
class LegBook:
    """A leg's books: what was opened and closed, at what average prices, and its result."""

    net_quantity: int
    entry_quantity: int
    average_entry_price: Decimal | None
    exit_quantity: int
    average_exit_price: Decimal | None
    realized_pnl: Decimal
    charges: Decimal

    @property
    def flat(self) -> bool:
        """True once the leg holds nothing."""
        return self.net_quantity == 0


def _average(value: Decimal, quantity: int) -> Decimal | None:
    return value / quantity if quantity else None


def book_leg(fills: Iterable[LegFill]) -> LegBook:
    """Fold a leg's fills, given in time order, into its books."""
    position = Position()
    entry_qty = exit_qty = 0
    entry_value = exit_value = charges = ZERO
    for fill in fills:
        signed = fill.quantity if fill.side == "BUY" else -fill.quantity
        position = apply_fill(position, signed, fill.price)
        charges += fill.charges
        if fill.purpose == "exit":
            exit_qty += fill.quantity
            exit_value += fill.price * fill.quantity
        else:
            entry_qty += fill.quantity
            entry_value += fill.price * fill.quantity
    return LegBook(
        net_quantity=position.net_quantity,
        entry_quantity=entry_qty,
        average_entry_price=_average(entry_value, entry_qty),
        exit_quantity=exit_qty,
        average_exit_price=_average(exit_value, exit_qty),
        realized_pnl=position.realized_pnl,
        charges=charges,
    )


@dataclass(frozen=True)
class TradeResult:
    """A trade's totals over its legs."""

    closed: bool
    realized_pnl: Decimal
    charges: Decimal

    @property
    def net_pnl(self) -> Decimal:
        """Realised P&L less charges."""
        return self.realized_pnl - self.charges


def trade_result(legs: Iterable[LegBook]) -> TradeResult:
    """Totals of a trade; it is closed once it has legs and every one is flat."""
    books = list(legs)
    return TradeResult(
        closed=bool(books) and all(leg.flat for leg in books),
        realized_pnl=sum((leg.realized_pnl for leg in books), ZERO),
        charges=sum((leg.charges for leg in books), ZERO),
    )


def direction(option_right: str, entry_side: str) -> str:
    """``bullish`` for a sold put or a bought call, ``bearish`` for a sold call or a bought put."""
    sold = entry_side == "SELL"
    return "bullish" if (option_right == "PE") == sold else "bearish"
