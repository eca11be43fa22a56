"""NIFTY option lot size by contract expiry date (strategy.md section 4.6).

The lot size belongs to the contract: contracts already listed keep their lot size until they
expire, so two lot sizes can trade side by side during a revision. Sources: market-rules.md 2.1.
The table covers weekly and monthly contracts expiring from 2019; quarterly and half-yearly
contracts were converted on other dates and are not modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType


class LotSizeUnknownError(ValueError):
    """No NIFTY weekly or monthly contract with a known lot size expires on the date."""


@dataclass(frozen=True)
class LotSizeRow:
    """Lot size of the contracts expiring in the closed range [first_expiry, last_expiry]."""

    first_expiry: date
    last_expiry: date
    lot_size: int
    note: str


LOT_SIZE_TABLE: tuple[LotSizeRow, ...] = (
    LotSizeRow(date(2019, 1, 1), date(2021, 7, 22), 75, "incl. the weeklies of 1-22 Jul 2021"),
    LotSizeRow(date(2021, 7, 29), date(2024, 4, 25), 50, "from the Jul 2021 monthly"),
    LotSizeRow(date(2024, 5, 2), date(2024, 12, 26), 25, "contracts listed from 26 Apr 2024"),
    LotSizeRow(date(2025, 1, 2), date(2025, 12, 30), 75, "contracts listed from 20 Nov 2024"),
    LotSizeRow(date(2026, 1, 1), date.max, 65, "NSE/FAOP/70616; all expiries from Jan 2026"),
)

# The January 2025 monthly was listed before 20 Nov 2024 and kept lot 25 to its expiry.
LOT_SIZE_EXCEPTIONS = MappingProxyType({date(2025, 1, 30): 25})


def lot_size(expiry: date) -> int:
    """Lot size of the NIFTY weekly or monthly contract expiring on `expiry`."""
    if expiry in LOT_SIZE_EXCEPTIONS:
        return LOT_SIZE_EXCEPTIONS[expiry]
    for row in LOT_SIZE_TABLE:
        if row.first_expiry <= expiry <= row.last_expiry:
            return row.lot_size
    raise LotSizeUnknownError(f"no NIFTY contract lot size is known for expiry {expiry}")
