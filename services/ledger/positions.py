"""Position arithmetic: average price and realised P&L from fills (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Position:
    """Net signed quantity (long > 0), average open price, realised P&L in rupees."""

    net_quantity: int = 0
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO


def apply_fill(position: Position, signed_quantity: int, price: Decimal) -> Position:
    """Return the position after a fill of ``signed_quantity`` (buy > 0, sell < 0) at ``price``."""
    if signed_quantity == 0:
        return position
    net, avg, realized = position.net_quantity, position.average_price, position.realized_pnl
    if net == 0 or (net > 0) == (signed_quantity > 0):
        total = abs(net) + abs(signed_quantity)
        new_avg = (abs(net) * avg + abs(signed_quantity) * price) / total
        return Position(net + signed_quantity, new_avg, realized)
    closed = min(abs(net), abs(signed_quantity))
    direction = 1 if net > 0 else -1
    realized += (price - avg) * closed * direction
    new_net = net + signed_quantity
    if new_net == 0:
        return Position(0, ZERO, realized)
    if (new_net > 0) == (net > 0):
        return Position(new_net, avg, realized)
    return Position(new_net, price, realized)
