"""Load hourly index bars from a CSV file (``timestamp,open,high,low,close[,volume]``).

Timestamps are ISO 8601 with an offset (bar start times); prices are read as exact decimals.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from libs.strategy.bars import Bar


def iter_bars_csv(path: Path, start: date | None = None, end: date | None = None) -> Iterator[Bar]:
    """Yield the bars of ``path`` in file order, optionally limited to ``[start, end]`` dates."""
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ts = datetime.fromisoformat(row["timestamp"])
            if ts.tzinfo is None:
                raise ValueError(f"{path}: timestamp without offset: {row['timestamp']}")
            d = ts.date()
            if (start is not None and d < start) or (end is not None and d > end):
                continue
            yield Bar(
                start=ts,
                open=Decimal(row["open"]),
                high=Decimal(row["high"]),
                low=Decimal(row["low"]),
                close=Decimal(row["close"]),
            )


def load_bars_csv(path: Path, start: date | None = None, end: date | None = None) -> list[Bar]:
    """All bars of ``path`` (see `iter_bars_csv`), checked to be strictly time ordered."""
    bars = list(iter_bars_csv(path, start, end))
    for prev, cur in pairwise(bars):
        if cur.start <= prev.start:
            raise ValueError(f"{path}: bars out of order at {cur.start.isoformat()}")
    return bars


def load_daily_closes(path: Path) -> dict[date, Decimal]:
    """Official daily closes keyed by calendar date from a daily OHLC CSV file."""
    out: dict[date, Decimal] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[datetime.fromisoformat(row["timestamp"]).date()] = Decimal(row["close"])
    return out
