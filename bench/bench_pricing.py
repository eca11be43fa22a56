"""Model-price accuracy against real NIFTY option prices; one JSON object per figure on stdout.

Usage: uv run python bench/bench_pricing.py [--data DIR]

Figures: median absolute % error of the fitted surface (and of the flat VIX multiplier, for
comparison) on the end-of-day sample, calls and puts separately, on the held-out day, on the fit
days, on all days, by leave-one-day-out refits, and by moneyness x days-to-expiry bucket; and the
median model/observed ratio on the 09:16 premium samples (2019-2024). Prints a single object with
"skipped" when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from cli.fit_vol_surface import (
    EOD_FILE,
    PREMIUM_FILE,
    RATE,
    DatedObservation,
    PremiumSample,
    default_data_dir,
    load_eod_observations,
    load_premium_samples,
)
from libs.market.contract import Right
from libs.market.packaged import default_surface
from libs.market.pricing import model_value, year_fraction
from libs.market.volsurface import (
    FlatVolModel,
    SurfaceObservation,
    VolModel,
    fit_flat_model,
    fit_vol_surface,
)

DAY_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0-2d", 0, 2),
    ("3-7d", 3, 7),
    ("8-15d", 8, 15),
    ("16-45d", 16, 45),
)
# Out-of-the-money distance in % of the index (negative = in the money).
MONEYNESS_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("itm>0.5%", -100.0, -0.5),
    ("atm+-0.5%", -0.5, 0.5),
    ("otm0.5-1.5%", 0.5, 1.5),
    ("otm1.5-3%", 1.5, 3.0),
    ("otm3-5%", 3.0, 100.0),
)


def emit(name: str, value: float | None, unit: str, **extra: object) -> None:
    """Print one figure as a JSON object."""
    rounded = None if value is None else round(value, 3)
    print(json.dumps({"name": name, "value": rounded, "unit": unit, **extra}))


def model(obs: SurfaceObservation, vol: VolModel) -> float:
    """Tick-rounded model price of an end-of-day observation (T = days / 365)."""
    priced = model_value(obs.spot, obs.strike, obs.right, obs.days / 365.0, obs.vix_close, vol)
    return float(priced.price)


def abs_errors(rows: Iterable[SurfaceObservation], vol: VolModel) -> list[float]:
    """Absolute % errors of the model against observed closes."""
    return [abs(model(o, vol) / o.price - 1.0) * 100.0 for o in rows]


def median_or_none(values: Sequence[float]) -> float | None:
    """Median, or None for an empty list."""
    return statistics.median(values) if values else None


def otm_percent(obs: SurfaceObservation) -> float:
    """Distance out of the money in % of the index (negative in the money)."""
    distance = (obs.strike / obs.spot - 1.0) * 100.0
    return distance if obs.right is Right.CE else -distance


def bucket_of(obs: SurfaceObservation) -> tuple[str, str]:
    """(moneyness bucket, days bucket) of an observation."""
    otm = otm_percent(obs)
    money = next(n for n, lo, hi in MONEYNESS_BUCKETS if lo <= otm < hi)
    days = next(n for n, lo, hi in DAY_BUCKETS if lo <= obs.days <= hi)
    return money, days


def of_type(rows: Iterable[SurfaceObservation], right: Right) -> list[SurfaceObservation]:
    """Rows of one option type."""
    return [o for o in rows if o.right is right]


def report_eod(rows: list[DatedObservation], vol: VolModel, label: str, holdout: date) -> None:
    """Median errors on the held-out day, the fit days and all days, per type."""
    for right, kind in ((Right.CE, "calls"), (Right.PE, "puts")):
        groups = {
            "holdout": [r.observation for r in rows if r.day == holdout],
            "fitdays": [r.observation for r in rows if r.day != holdout],
            "all": [r.observation for r in rows],
        }
        for group, observations in groups.items():
            errors = abs_errors(of_type(observations, right), vol)
            emit(
                f"pricing_mape_{kind}_{group}{label}",
                median_or_none(errors),
                "%",
                n=len(errors),
                data=EOD_FILE,
                holdout_day=holdout.isoformat(),
            )


def report_buckets(rows: list[DatedObservation], surface: VolModel, flat: VolModel) -> None:
    """Median errors of the surface and of a fitted flat multiplier by moneyness x days bucket."""
    grouped: dict[tuple[str, str, str], list[SurfaceObservation]] = defaultdict(list)
    for r in rows:
        money, days = bucket_of(r.observation)
        grouped[(r.observation.right.value, money, days)].append(r.observation)
    for (right, money, days), observations in sorted(grouped.items()):
        emit(
            f"pricing_mape_bucket_{right}_{money}_{days}",
            median_or_none(abs_errors(observations, surface)),
            "%",
            flat_fitted=round(statistics.median(abs_errors(observations, flat)), 3),
            n=len(observations),
        )


def report_leave_one_day_out(rows: list[DatedObservation]) -> None:
    """Refit without each day in turn; median over days of that day's median error."""
    days = sorted({r.day for r in rows})
    per_type: dict[Right, list[float]] = {Right.CE: [], Right.PE: []}
    for day in days:
        surface = fit_vol_surface([r.observation for r in rows if r.day != day], rate=RATE)
        held = [r.observation for r in rows if r.day == day]
        for right, values in per_type.items():
            values.append(statistics.median(abs_errors(of_type(held, right), surface)))
    for right, kind in ((Right.CE, "calls"), (Right.PE, "puts")):
        values = per_type[right]
        emit(
            f"pricing_mape_{kind}_leave_one_day_out",
            statistics.median(values),
            "%",
            worst=round(max(values), 3),
            days=len(values),
        )


def premium_ratio(sample: PremiumSample, vol: VolModel) -> float:
    """Model / observed for a 09:16 sample (T to 15:30 IST on the expiry day)."""
    t = year_fraction(sample.at, sample.expiry)
    priced = model_value(sample.spot, sample.strike, sample.right, t, sample.prev_vix_close, vol)
    return float(priced.price) / sample.price


def report_premiums(samples: list[PremiumSample], models: dict[str, VolModel]) -> None:
    """Median model/observed ratio and median absolute % error on the 09:16 samples."""
    for label, vol in models.items():
        for right, kind in ((Right.CE, "calls"), (Right.PE, "puts")):
            ratios = [premium_ratio(s, vol) for s in samples if s.right is right]
            emit(
                f"premium_samples_median_ratio_{kind}{label}",
                statistics.median(ratios),
                "ratio",
                n=len(ratios),
                data=PREMIUM_FILE,
            )
            emit(
                f"premium_samples_mape_{kind}{label}",
                statistics.median([abs(r - 1.0) * 100.0 for r in ratios]),
                "%",
                n=len(ratios),
                data=PREMIUM_FILE,
            )


def run(data_dir: Path) -> None:
    """Compute and print every figure."""
    surface = default_surface()
    flat = FlatVolModel()
    holdout = date.fromisoformat(str(surface.fit_info["holdout_day"]))
    rows = load_eod_observations(data_dir)
    report_eod(rows, surface, "", holdout)
    report_eod(rows, flat, "_flat", holdout)
    fitted_flat = fit_flat_model([r.observation for r in rows if r.day != holdout], rate=RATE)
    emit("flat_fitted_multiplier_calls", fitted_flat.ce, "x")
    emit("flat_fitted_multiplier_puts", fitted_flat.pe, "x")
    report_eod(rows, fitted_flat, "_flat_fitted", holdout)
    report_leave_one_day_out(rows)
    report_buckets(rows, surface, fitted_flat)
    report_premiums(load_premium_samples(data_dir), {"": surface, "_flat": flat})


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="model-price accuracy benchmark")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    args = parser.parse_args()
    needed = [EOD_FILE, PREMIUM_FILE, "indiavix_1d.csv", "nifty50_1d.csv", "nifty50_1h.csv"]
    missing = [name for name in needed if not (args.data / name).is_file()]
    if missing:
        print(json.dumps({"name": "bench_pricing", "skipped": f"data absent: {missing}"}))
        return 0
    run(args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
