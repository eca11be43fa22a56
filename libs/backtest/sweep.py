"""Parameter sweep: a grid of backtest requests run over worker processes, ranked by an objective.

Each worker process opens its own `BacktestSession` on the source, so the data is read, and the
signal tape recorded, once per worker; trade and exit options do not change the signals.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from libs.backtest.runner import BacktestRequest, BacktestSession, summary_figures
from libs.backtest.sources import BarSource

EXIT_RULES: Mapping[str, Mapping[str, bool]] = {
    "expiry": {},
    "profit_lock": {"profit_lock": True},
    "trailing": {"profit_lock": True, "trailing": True},
    "square_off": {"square_off": True},
}
"""Named exit rules for the ``exit_rule`` axis; the stop is always on. Join names with ``+``
to combine them (``profit_lock+square_off``)."""

OBJECTIVES: Mapping[str, bool] = {
    "net_pnl": True,
    "sharpe": True,
    "sortino": True,
    "expectancy": True,
    "profit_factor": True,
    "pnl_win_rate": True,
    "index_win_rate": True,
    "return_pct": True,
    "net_pnl_over_drawdown": True,
    "max_drawdown": False,
    "max_drawdown_pct": False,
}
"""Objective name -> True when higher is better."""

ProgressFn = Callable[[int, int], None]
"""Called with (configurations done, total) as results arrive."""


def exit_rule_fields(name: str) -> dict[str, bool]:
    """Request fields of an exit rule name (see `EXIT_RULES`)."""
    out = {"profit_lock": False, "trailing": False, "square_off": False}
    for part in name.split("+"):
        rule = EXIT_RULES.get(part.strip())
        if rule is None:
            raise ValueError(f"unknown exit rule {part!r}; choose from {', '.join(EXIT_RULES)}")
        out.update(rule)
    return out


def grid_points(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, in axis order (the last axis varies fastest)."""
    for name, values in axes.items():
        if not values:
            raise ValueError(f"sweep axis {name!r} has no values")
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def point_request(base: BacktestRequest, point: Mapping[str, Any]) -> BacktestRequest:
    """``base`` with the point's values (validated; ``exit_rule`` expands to exit fields)."""
    update = dict(point)
    rule = update.pop("exit_rule", None)
    if rule is not None:
        update.update(exit_rule_fields(str(rule)))
    unknown = sorted(set(update) - set(BacktestRequest.model_fields))
    if unknown:
        raise ValueError(f"unknown sweep axis {', '.join(unknown)}")
    return BacktestRequest.model_validate({**base.model_dump(), **update})


def grid_requests(
    base: BacktestRequest, axes: Mapping[str, Sequence[Any]]
) -> list[tuple[dict[str, Any], BacktestRequest]]:
    """Every grid point with its request."""
    return [(p, point_request(base, p)) for p in grid_points(axes)]


def rank(rows: Sequence[dict[str, Any]], objective: str) -> list[dict[str, Any]]:
    """Rows sorted best first by ``objective`` (missing values last, grid order on ties), with a
    1-based ``rank``."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    higher = OBJECTIVES[objective]

    def key(item: tuple[int, dict[str, Any]]) -> tuple[bool, float, int]:
        index, row = item
        value = row.get(objective)
        if value is None:
            return True, 0.0, index
        v = float(value)
        return False, -v if higher else v, index

    ordered = sorted(enumerate(rows), key=key)
    return [{"rank": i + 1, **row} for i, (_, row) in enumerate(ordered)]


@dataclass(frozen=True)
class SweepResult:
    objective: str
    rows: list[dict[str, Any]]
    """Ranked rows: ``rank``, ``params`` (the grid point) and the run's summary figures."""
    configurations: int
    workers: int
    wall_seconds: float


# --- worker side ------------------------------------------------------------------------------

_SESSION: BacktestSession | None = None


def _init_worker(source: BarSource) -> None:
    global _SESSION  # one session per worker process
    _SESSION = BacktestSession(source)


def _run_chunk(chunk: list[tuple[int, BacktestRequest]]) -> list[tuple[int, dict[str, Any]]]:
    session = _SESSION
    if session is None:
        raise RuntimeError("sweep worker was not initialised")
    return [(i, summary_figures(session.run(req), req.from_date)) for i, req in chunk]


def _chunks(
    items: Sequence[tuple[int, BacktestRequest]], size: int
) -> Iterator[list[tuple[int, BacktestRequest]]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def run_sweep(
    base: BacktestRequest,
    axes: Mapping[str, Sequence[Any]],
    source: BarSource,
    *,
    objective: str = "net_pnl",
    workers: int | None = None,
    progress: ProgressFn | None = None,
    limit: int | None = None,
) -> SweepResult:
    """Run every grid point of ``axes`` over ``base`` and rank the results by ``objective``.

    ``workers`` defaults to the CPU count; 1 runs in this process. ``limit`` keeps only the first
    points of the grid. ``source`` must be picklable when ``workers > 1``.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    points = grid_requests(base, axes)
    if limit is not None:
        points = points[:limit]
    n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    indexed = [(i, req) for i, (_, req) in enumerate(points)]
    figures: dict[int, dict[str, Any]] = {}
    started = time.perf_counter()
    if progress is not None:
        progress(0, len(points))
    if n_workers == 1 or len(points) <= 1:
        session = BacktestSession(source)
        for i, req in indexed:
            figures[i] = summary_figures(session.run(req), req.from_date)
            if progress is not None:
                progress(len(figures), len(points))
    else:
        size = max(1, min(16, len(points) // (n_workers * 4)))
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            n_workers, mp_context=ctx, initializer=_init_worker, initargs=(source,)
        ) as pool:
            futures: list[Future[list[tuple[int, dict[str, Any]]]]] = [
                pool.submit(_run_chunk, chunk) for chunk in _chunks(indexed, size)
            ]
            for fut in as_completed(futures):
                for i, fig in fut.result():
                    figures[i] = fig
                if progress is not None:
                    progress(len(figures), len(points))
    wall = time.perf_counter() - started
    rows = [{"params": points[i][0], **figures[i]} for i in range(len(points))]
    return SweepResult(objective, rank(rows, objective), len(points), n_workers, wall)
