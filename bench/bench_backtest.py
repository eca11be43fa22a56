"""Backtest speed on the real NIFTY data; one JSON object per figure on stdout.

Usage: uv run python bench/bench_backtest.py [--data DIR] [--configs 500] [--workers N]

Figures:
- ``backtest_2019_2025_wall``: the full 2019-2025 S1..S8 engine run (`run_backtest` with the
  plain market adapters, signals included, CSV parsing excluded), median of 3 runs; target 1 s;
- ``backtest_2019_2025_bars_per_s``: hourly bars processed per second in that run;
- ``backtest_2019_2025_request_wall``: `run_request` end to end (CSV read, run, JSON document);
- ``sweep_500_wall``: a 500-configuration sweep (hedge offset x strike rule x stop rule x exit
  rule x lots) over worker processes, worker start-up included; target 60 s on 2 cores.
Every object carries the machine's CPU count. Prints ``{"name": ..., "skipped": reason}`` per
figure when the data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from libs.backtest.runner import WARMUP_DAYS, BacktestRequest, backtest_config, run_request
from libs.backtest.sources import DAILY_FILE, HOURLY_FILE, VIX_FILE, CsvBarSource, default_data_dir
from libs.backtest.sweep import grid_points, run_sweep
from libs.strategy import market_adapter as adapters
from libs.strategy.backtest import run_backtest

FROM, TO = date(2019, 1, 1), date(2025, 12, 31)
FIGURES = (
    "backtest_2019_2025_wall",
    "backtest_2019_2025_bars_per_s",
    "backtest_2019_2025_request_wall",
    "sweep_500_wall",
)
SWEEP_AXES: dict[str, list[Any]] = {
    "hedge_offset": [100, 150, 200, 250, 300, 350, 400, 450, 500],
    "strike_rule": ["round100", "directional50", "atm"],
    "sl_rule": ["raw", "strike"],
    "exit_rule": ["expiry", "profit_lock", "trailing", "square_off", "profit_lock+square_off"],
    "lots_to_trade": [1, 2],
}
"""540 grid points; the sweep runs the first ``--configs`` of them."""


def machine() -> dict[str, object]:
    """CPU count, and the 1-minute load average (other work on the machine slows the runs)."""
    return {
        "cpus": os.cpu_count(),
        "load_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "os": platform.system(),
    }


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra, **machine()}))


def bench_engine(source: CsvBarSource, runs: int) -> None:
    request = BacktestRequest(from_date=FROM, to_date=TO)
    config = backtest_config(request)
    bars = source.hourly_bars(FROM - timedelta(days=WARMUP_DAYS), TO)
    closes = source.daily_closes()
    vix = adapters.PreviousVixClose(source.vix_closes())
    walls, trades = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = run_backtest(
            bars,
            config,
            pricer=adapters.ModelPricer(vix),
            charges=adapters.MarketCharges(),
            calendar=adapters.MarketCalendar(),
            official_close=closes.get,
            muhurat_dates=adapters.muhurat_dates(),
        )
        walls.append(time.perf_counter() - started)
        trades = len(result.trades)
    wall = statistics.median(walls)
    extra = {"runs": runs, "bars": len(bars), "trades": trades, "signals": "S1..S8"}
    emit("backtest_2019_2025_wall", wall, "s", target=1.0, **extra)
    emit("backtest_2019_2025_bars_per_s", len(bars) / wall, "bars/s", **extra)

    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        run_request(request, CsvBarSource(source.data_dir))
        walls.append(time.perf_counter() - started)
    emit("backtest_2019_2025_request_wall", statistics.median(walls), "s", runs=runs)


def bench_sweep(source: CsvBarSource, configs: int, workers: int) -> None:
    base = BacktestRequest(from_date=FROM, to_date=TO)
    total = len(grid_points(SWEEP_AXES))
    started = time.perf_counter()
    result = run_sweep(base, SWEEP_AXES, source, objective="sharpe", workers=workers, limit=configs)
    wall = time.perf_counter() - started
    emit(
        "sweep_500_wall" if configs == 500 else f"sweep_{configs}_wall",
        wall,
        "s",
        configurations=result.configurations,
        grid_points=total,
        workers=result.workers,
        per_config_ms=round(wall / max(result.configurations, 1) * 1000, 1),
        target=60.0,
        best=result.rows[0]["params"] if result.rows else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    missing = [f for f in (HOURLY_FILE, DAILY_FILE, VIX_FILE) if not (args.data / f).is_file()]
    if missing:
        for name in FIGURES:
            reason = f"data absent: {', '.join(missing)} in {args.data}"
            print(json.dumps({"name": name, "skipped": reason, **machine()}))
        return 0
    source = CsvBarSource(args.data)
    bench_engine(source, args.runs)
    bench_sweep(source, args.configs, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
