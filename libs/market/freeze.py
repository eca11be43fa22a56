"""Order quantity freeze limit by date and splitting of large orders into exchange-sized slices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FreezeRow:
    """Freeze quantity (units per order) in force from `effective` on."""

    effective: date
    freeze_qty: int
    source: str


FREEZE_QTY_TABLE: tuple[FreezeRow, ...] = (
    FreezeRow(date.min, 1800, "assumed: values before Jul 2025 were not collected"),
    FreezeRow(date(2025, 7, 1), 1800, "NSE monthly freeze circulars Jul 2025 - Aug 2026"),
    FreezeRow(date(2026, 8, 3), 1800, "NSE/FAOP/75521"),
)


def freeze_quantity(on: date) -> int:
    """NIFTY option freeze quantity (units per order) in force on a date."""
    current = FREEZE_QTY_TABLE[0]
    for row in FREEZE_QTY_TABLE:
        if row.effective <= on:
            current = row
    return current.freeze_qty


def max_order_quantity(lot_size: int, freeze_qty: int) -> int:
    """Largest quantity one order may carry: floor(freeze / lot) * lot."""
    if lot_size <= 0 or freeze_qty <= 0:
        raise ValueError("lot size and freeze quantity must be positive")
    largest = freeze_qty // lot_size * lot_size
    if largest == 0:
        raise ValueError(f"lot size {lot_size} exceeds the freeze quantity {freeze_qty}")
    return largest


def split_by_freeze(quantity: int, lot_size: int, freeze_qty: int) -> list[int]:
    """Split a quantity into order slices of at most floor(freeze / lot) * lot units each."""
    largest = max_order_quantity(lot_size, freeze_qty)
    if quantity <= 0 or quantity % lot_size != 0:
        raise ValueError(f"quantity {quantity} is not a positive multiple of lot size {lot_size}")
    full, rest = divmod(quantity, largest)
    return [largest] * full + ([rest] if rest else [])
