"""Sweep grid, ranking and the worker-process run on a small synthetic market."""

from __future__ import annotations

from datetime import date

import pytest

from libs.backtest.runner import BacktestRequest
from libs.backtest.sweep import exit_rule_fields, grid_points, point_request, rank, run_sweep
from tests.unit.backtest.synthetic import SyntheticSource

BASE = BacktestRequest(from_date=date(2024, 1, 15), to_date=date(2024, 4, 30))


def test_grid_points_when_two_axes_gives_cartesian_product_last_fastest() -> None:
    pts = grid_points({"hedge_offset": [100, 200], "sl_rule": ["raw", "strike"]})
    assert pts == [
        {"hedge_offset": 100, "sl_rule": "raw"},
        {"hedge_offset": 100, "sl_rule": "strike"},
        {"hedge_offset": 200, "sl_rule": "raw"},
        {"hedge_offset": 200, "sl_rule": "strike"},
    ]


def test_grid_points_when_axis_empty_raises() -> None:
    with pytest.raises(ValueError, match="no values"):
        grid_points({"hedge_offset": []})


def test_exit_rule_fields_when_combined_enables_both() -> None:
    assert exit_rule_fields("profit_lock+square_off") == {
        "profit_lock": True,
        "trailing": False,
        "square_off": True,
    }
    with pytest.raises(ValueError, match="unknown exit rule"):
        exit_rule_fields("moon")


def test_point_request_when_value_invalid_raises_validation_message() -> None:
    with pytest.raises(ValueError, match="positive multiple of 50"):
        point_request(BASE, {"hedge_offset": 130})
    with pytest.raises(ValueError, match="unknown sweep axis"):
        point_request(BASE, {"colour": "red"})


def test_point_request_when_exit_rule_given_sets_exit_fields() -> None:
    req = point_request(BASE, {"exit_rule": "trailing", "lots_to_trade": 3})
    assert (req.profit_lock, req.trailing, req.square_off, req.lots_to_trade) == (
        True,
        True,
        False,
        3,
    )


def test_rank_when_higher_better_orders_descending_with_missing_last() -> None:
    rows = [{"sharpe": 1.0}, {"sharpe": None}, {"sharpe": 2.0}, {"sharpe": 1.0}]
    ranked = rank(rows, "sharpe")
    assert [r["sharpe"] for r in ranked] == [2.0, 1.0, 1.0, None]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]


def test_rank_when_lower_better_orders_ascending() -> None:
    ranked = rank([{"max_drawdown": 5.0}, {"max_drawdown": 1.0}], "max_drawdown")
    assert [r["max_drawdown"] for r in ranked] == [1.0, 5.0]


def test_rank_when_objective_unknown_raises() -> None:
    with pytest.raises(ValueError, match="unknown objective"):
        rank([], "luck")


def test_run_sweep_when_two_workers_matches_in_process_and_reports_progress() -> None:
    axes = {
        "hedge_offset": [100, 300],
        "exit_rule": ["expiry", "trailing"],
        "lots_to_trade": [1, 2],
    }
    seen: list[tuple[int, int]] = []
    pooled = run_sweep(
        BASE,
        axes,
        SyntheticSource(),
        objective="net_pnl",
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    local = run_sweep(BASE, axes, SyntheticSource(), objective="net_pnl", workers=1)
    assert pooled.configurations == 8
    assert pooled.workers == 2
    assert pooled.rows == local.rows
    assert seen[0] == (0, 8)
    assert seen[-1] == (8, 8)
    nets = [r["net_pnl"] for r in pooled.rows]
    assert nets == sorted(nets, reverse=True)
    lots2 = {tuple(sorted(r["params"].items())): r for r in pooled.rows}
    one = lots2[(("exit_rule", "expiry"), ("hedge_offset", 100), ("lots_to_trade", 1))]
    two = lots2[(("exit_rule", "expiry"), ("hedge_offset", 100), ("lots_to_trade", 2))]
    assert one["trades"] == two["trades"] > 0


def test_run_sweep_when_limit_given_runs_first_points_only() -> None:
    result = run_sweep(
        BASE, {"hedge_offset": [100, 150, 200]}, SyntheticSource(), workers=1, limit=2
    )
    assert result.configurations == 2
    assert {r["params"]["hedge_offset"] for r in result.rows} == {100, 150}
