"""Validation of `BacktestRequest` (the monitor service's backtest API)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from libs.backtest.runner import BacktestRequest, backtest_config, config_deviations
from libs.strategy.signals import SignalId
from libs.strategy.trade import StrikeRule

D0, D1 = date(2024, 1, 1), date(2024, 3, 31)


def make(**kw: object) -> BacktestRequest:
    return BacktestRequest.model_validate({"from_date": D0, "to_date": D1, **kw})


def test_request_when_defaults_used_matches_spec_defaults() -> None:
    req = make()
    assert req.signals_to_test == [s.value for s in SignalId]
    assert (req.lots_to_trade, req.use_hedging, req.hedge_offset) == (1, True, 200)
    assert (req.strike_rule, req.sl_rule) == ("round100", "raw")
    assert config_deviations(req) == {}


def test_request_when_from_after_to_raises_clear_message() -> None:
    with pytest.raises(ValidationError, match="from_date 2024-03-31 is after to_date 2024-01-01"):
        BacktestRequest(from_date=D1, to_date=D0)


def test_request_when_unknown_signal_lists_valid_names() -> None:
    with pytest.raises(ValidationError, match=r"unknown signal\(s\) S9; choose from S1, S2"):
        make(signals_to_test=["S1", "S9"])


def test_request_when_signals_empty_rejected() -> None:
    with pytest.raises(ValidationError, match=r"at least one of S1\.\.S8"):
        make(signals_to_test=[])


def test_request_when_signals_lowercase_and_unordered_normalised() -> None:
    assert make(signals_to_test=["s7", " S1", "s7"]).signals_to_test == ["S1", "S7"]


@pytest.mark.parametrize("lots", [0, -2])
def test_request_when_lots_below_one_rejected(lots: int) -> None:
    with pytest.raises(ValidationError, match="lots_to_trade must be at least 1"):
        make(lots_to_trade=lots)


@pytest.mark.parametrize("offset", [0, -50, 120, 25])
def test_request_when_hedge_offset_not_positive_multiple_of_50_rejected(offset: int) -> None:
    with pytest.raises(ValidationError, match="positive multiple of 50"):
        make(hedge_offset=offset)


def test_request_when_unknown_field_given_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        make(lots=2)


def test_request_when_unknown_strike_rule_rejected() -> None:
    with pytest.raises(ValidationError, match="round100"):
        make(strike_rule="nearest")


def test_request_when_assigned_raises_because_frozen() -> None:
    req = make()
    with pytest.raises(ValidationError, match="frozen"):
        req.lots_to_trade = 3  # type: ignore[misc]


def test_request_when_lock_above_target_rejected() -> None:
    with pytest.raises(ValidationError, match="profit_lock_pct must not exceed"):
        make(profit_lock=True, profit_target_pct=5, profit_lock_pct=8)


def test_backtest_config_when_options_set_maps_to_engine_config() -> None:
    req = make(
        signals_to_test=["S3"],
        lots_to_trade=2,
        use_hedging=False,
        hedge_offset=300,
        strike_rule="atm",
        trailing=True,
    )
    cfg = backtest_config(req)
    assert cfg.signals.enabled == frozenset({SignalId.S3})
    assert cfg.trade.lots == 2
    assert cfg.trade.strike_rule is StrikeRule.ATM
    assert not cfg.trade.hedge.enabled
    assert cfg.trade.hedge.offset_points == 300
    assert cfg.exits.trailing.enabled
    assert (cfg.start, cfg.end) == (D0, D1)
    dev = config_deviations(req)
    assert dev["trade.hedge.enabled"] == {"value": False, "default": True}
    assert dev["trade.strike_rule"] == {"value": "atm", "default": "round100"}
