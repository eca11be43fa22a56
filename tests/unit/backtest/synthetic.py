"""A small deterministic market (random-walk hourly bars, daily closes, VIX) for backtest tests."""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from libs.market.calendar import is_trading_day
from libs.strategy.bars import REGULAR_BAR_STARTS, Bar, ist_datetime

START = date(2024, 1, 1)
END = date(2024, 4, 30)


def _q(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def make_bars(start: date = START, end: date = END, seed: int = 7) -> list[Bar]:
    """Seven regular bars per NSE trading day, a random walk around 21,500."""
    rng = random.Random(seed)
    level = 21_500.0
    out: list[Bar] = []
    d = start
    while d <= end:
        if is_trading_day(d):
            for slot in REGULAR_BAR_STARTS:
                o = level
                c = o + rng.gauss(0, 45)
                h = max(o, c) + abs(rng.gauss(0, 15))
                lo = min(o, c) - abs(rng.gauss(0, 15))
                out.append(Bar(ist_datetime(d, slot), _q(o), _q(h), _q(lo), _q(c)))
                level = float(_q(c))
        d += timedelta(days=1)
    return out


class SyntheticSource:
    """`BarSource` over `make_bars`; picklable, so sweep workers can rebuild it."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed

    @property
    def name(self) -> str:
        return f"synthetic(seed={self.seed})"

    def _all(self) -> list[Bar]:
        return make_bars(seed=self.seed)

    def hourly_bars(self, start: date, end: date) -> list[Bar]:
        return [b for b in self._all() if start <= b.day <= end]

    def daily_closes(self) -> Mapping[date, Decimal]:
        return {b.day: b.close for b in self._all()}

    def vix_closes(self) -> Mapping[date, Decimal]:
        d, out = START - timedelta(days=10), {}
        while d <= END:
            out[d] = Decimal("14.5")
            d += timedelta(days=1)
        return out

    def fingerprints(self) -> dict[str, str]:
        return {"synthetic": f"seed:{self.seed}"}


def write_csv_dir(folder: Path, seed: int = 7) -> Path:
    """Write the synthetic market as the three CSV files `CsvBarSource` reads."""
    src = SyntheticSource(seed)
    header = ["timestamp", "open", "high", "low", "close", "volume"]
    with (folder / "nifty50_1h.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for b in src._all():
            w.writerow([b.start.isoformat(), b.open, b.high, b.low, b.close, 0])
    for name, closes in (
        ("nifty50_1d.csv", src.daily_closes()),
        ("indiavix_1d.csv", src.vix_closes()),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for d, c in sorted(closes.items()):
                w.writerow([f"{d.isoformat()}T00:00:00+05:30", c, c, c, c, 0])
    return folder
