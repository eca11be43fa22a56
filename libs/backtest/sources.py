"""Where backtest market data comes from: a `BarSource` port and its CSV implementation.

A source provides hourly NIFTY bars, official daily closes and India VIX daily closes, and a
fingerprint of every input it read (spec §7: each run records its data). A Breeze-history source
can implement the same Protocol later.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from libs.data.bars_csv import load_bars_csv, load_daily_closes
from libs.strategy.bars import Bar

HOURLY_FILE = "nifty50_1h.csv"
DAILY_FILE = "nifty50_1d.csv"
VIX_FILE = "indiavix_1d.csv"


class BarSource(Protocol):
    """Market data for a backtest run."""

    @property
    def name(self) -> str:
        """A short description of the source for reports (for example a folder)."""
        ...

    def hourly_bars(self, start: date, end: date) -> list[Bar]:
        """Time-ordered hourly NIFTY bars whose IST date lies in ``[start, end]``."""
        ...

    def daily_closes(self) -> Mapping[date, Decimal]:
        """Official NIFTY closing values by trading date."""
        ...

    def vix_closes(self) -> Mapping[date, Decimal]:
        """India VIX closing values by trading date."""
        ...

    def fingerprints(self) -> dict[str, str]:
        """Input name -> content hash of every input the source serves."""
        ...


def default_data_dir() -> Path:
    """``STRIKEFLOW_DATA_DIR``, else the shared data folder beside the repository."""
    configured = os.environ.get("STRIKEFLOW_DATA_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class CsvBarSource:
    """Reads ``nifty50_1h.csv``, ``nifty50_1d.csv`` and ``indiavix_1d.csv`` from ``data_dir``
    in place (the files are never copied). Files are loaded once and kept in memory."""

    def __init__(
        self,
        data_dir: Path,
        *,
        hourly_file: str = HOURLY_FILE,
        daily_file: str = DAILY_FILE,
        vix_file: str = VIX_FILE,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.hourly_file = hourly_file
        self.daily_file = daily_file
        self.vix_file = vix_file
        self._bars: list[Bar] | None = None
        self._closes: dict[date, Decimal] | None = None
        self._vix: dict[date, Decimal] | None = None

    @classmethod
    def from_path(cls, path: Path) -> CsvBarSource:
        """A source from a data folder, or from the hourly CSV file inside one."""
        path = Path(path)
        if path.is_dir():
            return cls(path)
        if path.is_file():
            return cls(path.parent, hourly_file=path.name)
        raise FileNotFoundError(f"market data not found at {path}")

    def __getstate__(self) -> dict[str, Any]:
        """Pickle only the file locations (worker processes load the files themselves)."""
        state = dict(self.__dict__)
        state.update(_bars=None, _closes=None, _vix=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def name(self) -> str:
        return str(self.data_dir / self.hourly_file)

    def _path(self, name: str) -> Path:
        path = self.data_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"market data file not found: {path}")
        return path

    def hourly_bars(self, start: date, end: date) -> list[Bar]:
        if self._bars is None:
            self._bars = load_bars_csv(self._path(self.hourly_file))
        return [b for b in self._bars if start <= b.day <= end]

    def daily_closes(self) -> Mapping[date, Decimal]:
        if self._closes is None:
            self._closes = load_daily_closes(self._path(self.daily_file))
        return self._closes

    def vix_closes(self) -> Mapping[date, Decimal]:
        if self._vix is None:
            self._vix = load_daily_closes(self._path(self.vix_file))
        return self._vix

    def fingerprints(self) -> dict[str, str]:
        names = (self.hourly_file, self.daily_file, self.vix_file)
        return {name: f"sha256:{_sha256(self._path(name))}" for name in names}
