"""Strike selection rules (strategy.md section 4.2), with explicit decimal rounding, ties up."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from libs.market.contract import STRIKE_INTERVAL, Right

_HUNDRED = Decimal(100)
_HALF = Decimal("0.5")


def _floor(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_FLOOR)


def _ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def round100(level: Decimal) -> Decimal:
    """Nearest multiple of 100, ties up: floor(level / 100 + 0.5) * 100."""
    return _floor(level / _HUNDRED + _HALF) * _HUNDRED


def directional50(level: Decimal, right: Right) -> Decimal:
    """PE: floor(level / 50) * 50; CE: ceil(level / 50) * 50."""
    steps = level / STRIKE_INTERVAL
    return (_floor(steps) if right is Right.PE else _ceil(steps)) * STRIKE_INTERVAL


def atm(level: Decimal) -> Decimal:
    """Nearest multiple of 50, ties up."""
    return _floor(level / STRIKE_INTERVAL + _HALF) * STRIKE_INTERVAL


def offset_strike(strike: Decimal, right: Right, points: Decimal) -> Decimal:
    """A strike further out of the money by `points`: PE lower, CE higher."""
    return strike - points if right is Right.PE else strike + points
