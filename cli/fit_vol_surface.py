"""Fit the model-price volatility surface to NIFTY end-of-day option closes and save its parameters.

Usage: uv run python -m cli.fit_vol_surface --data DIR --out libs/market/vol_surface_params.json

Reads `nifty_options_eod_sample.csv`, `indiavix_1d.csv` and `nifty50_1d.csv` from DIR in place
(the files are never copied into the repository) and writes parameters only. One sample day (by
default the latest) is held out of the fit so its error measures the model out of sample.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from libs.market.contract import Right
from libs.market.volsurface import SurfaceObservation, fit_vol_surface

EOD_FILE = "nifty_options_eod_sample.csv"
VIX_FILE = "indiavix_1d.csv"
DAILY_FILE = "nifty50_1d.csv"
HOURLY_FILE = "nifty50_1h.csv"
PREMIUM_FILE = "nifty_option_premium_samples_0916_2017_2024.csv"
MAX_MONEYNESS = 0.05
RATE = 0.065


@dataclass(frozen=True)
class DatedObservation:
    """An end-of-day observation with its trade date."""

    day: date
    observation: SurfaceObservation


@dataclass(frozen=True)
class PremiumSample:
    """An observed 09:16 premium with the model inputs of strategy.md section 10.3."""

    at: datetime
    expiry: date
    strike: float
    right: Right
    spot: float
    prev_vix_close: float
    price: float


def default_data_dir() -> Path:
    """STRIKEFLOW_DATA_DIR, else the shared data folder beside the repository."""
    configured = os.environ.get("STRIKEFLOW_DATA_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _daily_closes(path: Path) -> dict[date, float]:
    with path.open(newline="") as handle:
        return {
            date.fromisoformat(row["timestamp"][:10]): float(row["close"])
            for row in csv.DictReader(handle)
        }


def load_eod_observations(data_dir: Path) -> list[DatedObservation]:
    """Traded EOD rows within 5 % of the index, with the index close and same-day VIX close."""
    vix = _daily_closes(data_dir / VIX_FILE)
    closes = _daily_closes(data_dir / DAILY_FILE)
    rows: list[DatedObservation] = []
    with (data_dir / EOD_FILE).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if int(row["volume"]) <= 0:
                continue
            day = date.fromisoformat(row["date"])
            spot = float(row["underlying"]) if row["underlying"] else closes[day]
            strike = float(row["strike"])
            if abs(strike / spot - 1.0) > MAX_MONEYNESS:
                continue
            days = (date.fromisoformat(row["expiry"]) - day).days
            observation = SurfaceObservation(
                right=Right(row["option_type"]),
                spot=spot,
                strike=strike,
                days=float(days),
                vix_close=vix[day],
                price=float(row["close"]),
            )
            rows.append(DatedObservation(day, observation))
    return rows


def _first_opens(path: Path) -> dict[date, float]:
    opens: dict[date, float] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["timestamp"][11:16] == "09:15":
                opens[date.fromisoformat(row["timestamp"][:10])] = float(row["open"])
    return opens


def load_premium_samples(data_dir: Path, first_year: int = 2019) -> list[PremiumSample]:
    """09:16 premiums from `first_year` on, with the 09:15 open and the previous VIX close."""
    vix = sorted(_daily_closes(data_dir / VIX_FILE).items())
    vix_days = [d for d, _ in vix]
    opens = _first_opens(data_dir / HOURLY_FILE)
    samples: list[PremiumSample] = []
    with (data_dir / PREMIUM_FILE).open(newline="") as handle:
        for row in csv.DictReader(handle):
            at = datetime.fromisoformat(row["timestamp"])
            day = at.date()
            if day.year < first_year or day not in opens:
                continue
            previous = bisect_left(vix_days, day) - 1
            samples.append(
                PremiumSample(
                    at=at,
                    expiry=date.fromisoformat(row["expiry_date"]),
                    strike=float(row["strike"]),
                    right=Right(row["option_type"]),
                    spot=opens[day],
                    prev_vix_close=vix[previous][1],
                    price=float(row["price"]),
                )
            )
    return samples


def split_holdout(
    rows: Sequence[DatedObservation], holdout: date | None
) -> tuple[date, list[SurfaceObservation], list[SurfaceObservation]]:
    """Split rows into (holdout day, fit rows, holdout rows); default holdout = latest day."""
    day = holdout or max(r.day for r in rows)
    fit = [r.observation for r in rows if r.day != day]
    held = [r.observation for r in rows if r.day == day]
    if not held:
        raise ValueError(f"no sample rows on the holdout day {day}")
    return day, fit, held


def main(argv: Sequence[str] | None = None) -> int:
    """Fit the surface and write its parameters as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--holdout", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)

    rows = load_eod_observations(args.data)
    holdout, fit_rows, _ = split_holdout(rows, args.holdout)
    fit_days = sorted({r.day for r in rows if r.day != holdout})
    surface = fit_vol_surface(
        fit_rows,
        rate=RATE,
        fit_info={
            "data": EOD_FILE,
            "filter": "volume > 0 and |K / S - 1| <= 5 %; S = index close, VIX = same-day close",
            "fit_days": [d.isoformat() for d in fit_days],
            "holdout_day": holdout.isoformat(),
            "rows": len(fit_rows),
            "rate": RATE,
            "loss": "soft-L1 (scale 0.1) on log(model / close)",
        },
    )
    args.out.write_text(surface.to_json(), encoding="utf-8")
    sys.stdout.write(f"wrote {args.out} ({len(fit_rows)} rows, holdout {holdout})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
