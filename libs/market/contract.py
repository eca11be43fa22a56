"""NIFTY option contract specification: tick size, strike interval and the contract value object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

SYMBOL = "NIFTY"
TICK_SIZE = Decimal("0.05")
STRIKE_INTERVAL = Decimal(50)

_ID_PATTERN = re.compile(
    r"^(?P<symbol>[A-Z]+)-(?P<expiry>\d{4}-\d{2}-\d{2})-(?P<strike>\d+(\.\d+)?)-(?P<right>CE|PE)$"
)


class Right(StrEnum):
    """Option type: call (CE) or put (PE)."""

    CE = "CE"
    PE = "PE"


def round_to_tick(price: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a premium to the 0.05 tick (half-up by default; pass ROUND_FLOOR/ROUND_CEILING)."""
    ticks = (price / TICK_SIZE).quantize(Decimal(1), rounding=rounding)
    return (ticks * TICK_SIZE).quantize(TICK_SIZE)


def floor_to_tick(price: Decimal) -> Decimal:
    """Round a premium down to the tick."""
    return round_to_tick(price, ROUND_FLOOR)


def ceil_to_tick(price: Decimal) -> Decimal:
    """Round a premium up to the tick."""
    return round_to_tick(price, ROUND_CEILING)


def _format_strike(strike: Decimal) -> str:
    return format(strike.normalize(), "f")


@dataclass(frozen=True)
class OptionContract:
    """A NIFTY index option identified by expiry date, strike and right."""

    expiry: date
    strike: Decimal
    right: Right
    symbol: str = SYMBOL

    def __post_init__(self) -> None:
        if not isinstance(self.strike, Decimal):
            raise TypeError("strike must be a Decimal")
        if self.strike <= 0 or self.strike % STRIKE_INTERVAL != 0:
            raise ValueError(
                f"strike {self.strike} is not a positive multiple of {STRIKE_INTERVAL}"
            )
        object.__setattr__(self, "right", Right(self.right))

    @property
    def id(self) -> str:
        """Stable string id, e.g. 'NIFTY-2025-10-20-25000-CE'."""
        strike = _format_strike(self.strike)
        return f"{self.symbol}-{self.expiry.isoformat()}-{strike}-{self.right.value}"

    @classmethod
    def from_id(cls, contract_id: str) -> OptionContract:
        """Parse an id produced by `id`."""
        match = _ID_PATTERN.match(contract_id)
        if match is None:
            raise ValueError(f"not an option contract id: {contract_id!r}")
        return cls(
            expiry=date.fromisoformat(match["expiry"]),
            strike=Decimal(match["strike"]),
            right=Right(match["right"]),
            symbol=match["symbol"],
        )

    def intrinsic_value(self, underlying: Decimal) -> Decimal:
        """Intrinsic value per unit at an underlying level."""
        if self.right is Right.CE:
            return max(underlying - self.strike, Decimal(0))
        return max(self.strike - underlying, Decimal(0))

    def __str__(self) -> str:
        return self.id
