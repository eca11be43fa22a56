"""Run one backtest request over a `BarSource` and return a JSON-serialisable document.

`run_request` is the entry point other services call. `BacktestSession` keeps loaded inputs,
recorded signal tapes and cached calendar/price/charge lookups for repeated runs over one source
(the parameter sweep); every cache holds pure-function results, so cached and uncached runs give
identical figures.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.backtest.sources import BarSource
from libs.market.charges import Brokerage
from libs.market.volsurface import FlatVolModel, VolModel
from libs.strategy import market_adapter as adapters
from libs.strategy.backtest import (
    MODEL_PRICE_BANNER,
    AfterCloseFill,
    BacktestConfig,
    BacktestResult,
    FillSource,
    LegResult,
    SignalTape,
    SlippageConfig,
    Stats,
    TradeResult,
    max_drawdown,
    record_signals,
    replay_backtest,
    sharpe_sortino,
)
from libs.strategy.bars import Bar, week_start
from libs.strategy.exits import (
    ExitConfig,
    ProfitLockConfig,
    SquareOffConfig,
    TrailingConfig,
)
from libs.strategy.ports import ChargeableOrder, ExpiryCalendar, OptionPricer, PriceQuote
from libs.strategy.signals import SIGNAL_ORDER, SignalConfig, SignalId
from libs.strategy.trade import (
    HedgeConfig,
    OptionContract,
    StopRule,
    StrikeRule,
    TradeConfig,
)

ALL_SIGNAL_NAMES: tuple[str, ...] = tuple(s.value for s in SIGNAL_ORDER)
WARMUP_DAYS = 14
"""Bars loaded before ``from_date`` so the first week has a previous week (spec §1.3)."""
MODEL_PRICING_NOTE = (
    "Option prices are model prices: Black–Scholes on the previous day's India VIX close with "
    "the fitted volatility surface (pricing.source = model_only; no market option data is used). "
    "Every P&L, charge, slippage, equity and ratio figure derived from them is model-based."
)
DOCUMENT_VERSION = 1
PAISA = Decimal("0.01")


class BacktestRequest(BaseModel):
    """The inputs of one backtest run (product brief; spec §9 names in the field docs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_date: date
    to_date: date
    signals_to_test: list[str] = Field(default_factory=lambda: list(ALL_SIGNAL_NAMES))
    """``signals.enabled``."""
    lots_to_trade: int = 1
    """``trade.lots``."""
    use_hedging: bool = True
    """``trade.hedge.enabled``."""
    hedge_offset: int = 200
    """``trade.hedge.offset_points``."""
    strike_rule: Literal["round100", "directional50", "atm"] = "round100"
    sl_rule: Literal["raw", "strike"] = "raw"
    profit_lock: bool = False
    """``exit.profit_lock.enabled``."""
    profit_target_pct: Decimal = Decimal(10)
    profit_lock_pct: Decimal = Decimal(5)
    trailing: bool = False
    """``exit.trailing.enabled``."""
    trailing_step_pct: Decimal = Decimal(1)
    square_off: bool = False
    """``exit.square_off.enabled`` (at 15:15 on the N-th trading day after entry)."""
    square_off_days: int = 2
    expiry_min_trading_days: int = 1
    slippage_pct: Decimal = Decimal("1.0")
    slippage_min_ticks: int = 1
    after_close_fill: Literal["bar_close", "next_open"] = "bar_close"
    max_open_trades: int | None = None
    initial_capital: Decimal = Decimal(500_000)
    iv_model: Literal["surface", "flat"] = "surface"
    """``pricing.iv_model``; ``flat`` uses CE 1.00 / PE 1.25 times VIX."""
    brokerage_per_order: Decimal = Decimal(20)

    @field_validator("signals_to_test")
    @classmethod
    def _known_signals(cls, value: list[str]) -> list[str]:
        names = [v.strip().upper() for v in value]
        unknown = sorted({n for n in names if n not in ALL_SIGNAL_NAMES})
        if unknown:
            raise ValueError(
                f"unknown signal(s) {', '.join(unknown)}; choose from {', '.join(ALL_SIGNAL_NAMES)}"
            )
        if not names:
            raise ValueError("signals_to_test must name at least one of S1..S8")
        return [n for n in ALL_SIGNAL_NAMES if n in names]

    @field_validator("lots_to_trade")
    @classmethod
    def _positive_lots(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"lots_to_trade must be at least 1, got {value}")
        return value

    @field_validator("hedge_offset")
    @classmethod
    def _hedge_offset(cls, value: int) -> int:
        if value <= 0 or value % 50:
            raise ValueError(f"hedge_offset must be a positive multiple of 50, got {value}")
        return value

    @field_validator("profit_target_pct", "profit_lock_pct", "slippage_pct")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"must be >= 0, got {value}")
        return value

    @field_validator("trailing_step_pct", "initial_capital")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator("square_off_days", "expiry_min_trading_days", "slippage_min_ticks")
    @classmethod
    def _non_negative_int(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"must be >= 0, got {value}")
        return value

    @field_validator("max_open_trades")
    @classmethod
    def _max_open(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"max_open_trades must be at least 1 when set, got {value}")
        return value

    @model_validator(mode="after")
    def _dates_and_locks(self) -> BacktestRequest:
        if self.from_date > self.to_date:
            raise ValueError(
                f"from_date {self.from_date.isoformat()} is after to_date "
                f"{self.to_date.isoformat()}"
            )
        if self.profit_lock_pct > self.profit_target_pct:
            raise ValueError("profit_lock_pct must not exceed profit_target_pct")
        return self


def backtest_config(request: BacktestRequest) -> BacktestConfig:
    """The engine configuration of a request."""
    return BacktestConfig(
        signals=SignalConfig(enabled=frozenset(SignalId(s) for s in request.signals_to_test)),
        trade=TradeConfig(
            strike_rule=StrikeRule(request.strike_rule),
            sl_rule=StopRule(request.sl_rule),
            expiry_min_trading_days=request.expiry_min_trading_days,
            hedge=HedgeConfig(enabled=request.use_hedging, offset_points=request.hedge_offset),
            lots=request.lots_to_trade,
        ),
        exits=ExitConfig(
            profit_lock=ProfitLockConfig(
                enabled=request.profit_lock,
                target_pct=request.profit_target_pct,
                lock_pct=request.profit_lock_pct,
            ),
            trailing=TrailingConfig(enabled=request.trailing, step_pct=request.trailing_step_pct),
            square_off=SquareOffConfig(
                enabled=request.square_off, trading_days_after_entry=request.square_off_days
            ),
        ),
        slippage=SlippageConfig(pct=request.slippage_pct, min_ticks=request.slippage_min_ticks),
        after_close_fill=AfterCloseFill(request.after_close_fill),
        max_open_trades=request.max_open_trades,
        initial_capital=request.initial_capital,
        start=request.from_date,
        end=request.to_date,
    )


def effective_config(request: BacktestRequest) -> dict[str, Any]:
    """The run's options under their spec §9 names (the pricing and bar options this layer does
    not expose are listed at their fixed values)."""
    hedge = request.use_hedging
    return {
        "signals.enabled": list(request.signals_to_test),
        "trade.strike_rule": request.strike_rule,
        "trade.sl_rule": request.sl_rule,
        "trade.expiry.min_trading_days": request.expiry_min_trading_days,
        "trade.hedge.enabled": hedge,
        "trade.hedge.method": "offset",
        "trade.hedge.offset_points": request.hedge_offset,
        "trade.lots": request.lots_to_trade,
        "exit.profit_lock": {
            "enabled": request.profit_lock,
            "target_pct": _num(request.profit_target_pct),
            "lock_pct": _num(request.profit_lock_pct),
        },
        "exit.trailing": {
            "enabled": request.trailing,
            "step_pct": _num(request.trailing_step_pct),
        },
        "exit.square_off": {
            "enabled": request.square_off,
            "trading_days_after_entry": request.square_off_days,
            "at": "15:15",
        },
        "exit.settlement_price": "last_price_when_available",
        "pricing.source": "model_only",
        "pricing.iv_model": request.iv_model,
        "pricing.rate": 0.065,
        "pricing.dividend_yield": 0.0,
        "costs.brokerage": {"per_order": _num(request.brokerage_per_order)},
        "costs.slippage": {
            "pct": _num(request.slippage_pct),
            "min_ticks": request.slippage_min_ticks,
        },
        "backtest.after_close_fill": request.after_close_fill,
        "backtest.max_open_trades": request.max_open_trades,
        "backtest.initial_capital": _num(request.initial_capital),
        "bars.session_filter": "trading_sessions",
    }


def config_deviations(request: BacktestRequest) -> dict[str, dict[str, Any]]:
    """Every option whose value differs from the spec default, with both values."""
    default = BacktestRequest(from_date=request.from_date, to_date=request.to_date)
    mine, base = effective_config(request), effective_config(default)
    return {k: {"value": v, "default": base[k]} for k, v in mine.items() if v != base[k]}


# --- cached adapters ------------------------------------------------------------------------


class CachedCalendar:
    """`ExpiryCalendar` that memoises another calendar's answers (they are pure functions)."""

    def __init__(self, inner: ExpiryCalendar) -> None:
        self._inner = inner
        self._expiry: dict[tuple[date, int], date] = {}
        self._lot: dict[date, int] = {}
        self._trading: dict[date, bool] = {}
        self._freeze: dict[date, int] = {}

    def next_weekly_expiry(self, d: date, min_trading_days: int) -> date:
        key = (d, min_trading_days)
        hit = self._expiry.get(key)
        if hit is None:
            hit = self._expiry[key] = self._inner.next_weekly_expiry(d, min_trading_days)
        return hit

    def lot_size(self, expiry: date) -> int:
        hit = self._lot.get(expiry)
        if hit is None:
            hit = self._lot[expiry] = self._inner.lot_size(expiry)
        return hit

    def is_trading_day(self, d: date) -> bool:
        hit = self._trading.get(d)
        if hit is None:
            hit = self._trading[d] = self._inner.is_trading_day(d)
        return hit

    def freeze_qty(self, d: date) -> int:
        hit = self._freeze.get(d)
        if hit is None:
            hit = self._freeze[d] = self._inner.freeze_qty(d)
        return hit


class CachedPricer:
    """`OptionPricer` that memoises quotes by (contract, time, index level)."""

    def __init__(self, inner: OptionPricer) -> None:
        self._inner = inner
        self._quotes: dict[tuple[OptionContract, datetime, Decimal], PriceQuote | None] = {}

    def quote(
        self, contract: OptionContract, at: datetime, index_level: Decimal
    ) -> PriceQuote | None:
        key = (contract, at, index_level)
        try:
            return self._quotes[key]
        except KeyError:
            q = self._quotes[key] = self._inner.quote(contract, at, index_level)
            return q


class CachedCharges:
    """`ChargesFn` that memoises the charges of identical orders."""

    def __init__(self, inner: adapters.MarketCharges) -> None:
        self._inner = inner
        self._cache: dict[ChargeableOrder, Mapping[str, Decimal]] = {}

    def __call__(self, order: ChargeableOrder) -> Mapping[str, Decimal]:
        hit = self._cache.get(order)
        if hit is None:
            hit = self._cache[order] = self._inner(order)
        return hit


# --- session ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInputs:
    """Market data of one date range, read once from a source."""

    bars: tuple[Bar, ...]
    closes: Mapping[date, Decimal]
    vix: Mapping[date, Decimal]


class NoDataError(ValueError):
    """The source has no hourly bars in the requested range."""


class BacktestSession:
    """Loaded inputs and cached lookups for one or many runs over one `BarSource`."""

    def __init__(self, source: BarSource) -> None:
        self.source = source
        self.calendar = CachedCalendar(adapters.MarketCalendar())
        self.muhurat = adapters.muhurat_dates()
        self._inputs: dict[tuple[date, date], RunInputs] = {}
        self._tapes: dict[tuple[date, date, SignalConfig], SignalTape] = {}
        self._pricers: dict[str, CachedPricer] = {}
        self._charges: dict[Decimal, CachedCharges] = {}

    def inputs(self, from_date: date, to_date: date) -> RunInputs:
        key = (from_date, to_date)
        hit = self._inputs.get(key)
        if hit is None:
            bars = tuple(self.source.hourly_bars(from_date - timedelta(days=WARMUP_DAYS), to_date))
            if not any(b.day >= from_date for b in bars):
                raise NoDataError(
                    f"no hourly bars between {from_date.isoformat()} and {to_date.isoformat()} "
                    f"in {self.source.name}"
                )
            hit = RunInputs(bars, self.source.daily_closes(), self.source.vix_closes())
            self._inputs[key] = hit
        return hit

    def tape(self, request: BacktestRequest, config: BacktestConfig) -> SignalTape:
        key = (request.from_date, request.to_date, config.signals)
        hit = self._tapes.get(key)
        if hit is None:
            inputs = self.inputs(request.from_date, request.to_date)
            hit = record_signals(
                inputs.bars,
                config.signals,
                official_close=inputs.closes.get,
                muhurat_dates=self.muhurat,
            )
            self._tapes[key] = hit
        return hit

    def pricer(self, request: BacktestRequest) -> CachedPricer:
        hit = self._pricers.get(request.iv_model)
        if hit is None:
            vix = adapters.PreviousVixClose(self.inputs(request.from_date, request.to_date).vix)
            model: VolModel | None = FlatVolModel() if request.iv_model == "flat" else None
            inner = (
                adapters.ModelPricer(vix, vol_model=model)
                if model is not None
                else adapters.ModelPricer(vix)
            )
            hit = self._pricers[request.iv_model] = CachedPricer(inner)
        return hit

    def charges(self, request: BacktestRequest) -> CachedCharges:
        hit = self._charges.get(request.brokerage_per_order)
        if hit is None:
            inner = adapters.MarketCharges(Brokerage.flat_per_order(request.brokerage_per_order))
            hit = self._charges[request.brokerage_per_order] = CachedCharges(inner)
        return hit

    def run(self, request: BacktestRequest) -> BacktestResult:
        """Run the engine for ``request``."""
        config = backtest_config(request)
        inputs = self.inputs(request.from_date, request.to_date)
        return replay_backtest(
            self.tape(request, config),
            config,
            pricer=self.pricer(request),
            charges=self.charges(request),
            calendar=self.calendar,
            official_close=inputs.closes.get,
        )

    def document(self, request: BacktestRequest) -> dict[str, Any]:
        """Run ``request`` and build its JSON document."""
        result = self.run(request)
        return build_document(request, result, self.source)

    def bars_by_week(
        self, request: BacktestRequest, weeks: Sequence[date] | None = None
    ) -> dict[date, list[Bar]]:
        """The session-filtered bars of the run grouped by week start (for report charts)."""
        tape = self.tape(request, backtest_config(request))
        wanted = set(weeks) if weeks is not None else None
        out: dict[date, list[Bar]] = {}
        for bar in tape.bars:
            key = week_start(bar.day)
            if wanted is None or key in wanted:
                out.setdefault(key, []).append(bar)
        return out


def run_request(request: BacktestRequest, source: BarSource) -> dict[str, Any]:
    """Run one backtest and return its JSON-serialisable document.

    Keys: ``summary``, ``per_signal``, ``trades``, ``equity_curve``, ``config``,
    ``model_price_flag``, ``rejected``, ``skipped_weeks``, ``run``. Decimals are strings, times
    are ISO 8601 UTC.
    """
    return BacktestSession(source).document(request)


# --- document ---------------------------------------------------------------------------------


def _dec(x: Decimal) -> str:
    return format(x, "f")


def _paisa(x: Decimal | None) -> str | None:
    """An average, rounded half-up to the paisa."""
    return None if x is None else _dec(x.quantize(PAISA, rounding=ROUND_HALF_UP))


def _num(x: Decimal) -> int | float:
    return int(x) if x == x.to_integral_value() else float(x)


def iso_utc(t: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix."""
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ratio(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def stats_document(stats: Stats) -> dict[str, Any]:
    """Per-signal or overall figures (spec §5.1, §7)."""
    return {
        "trades": stats.trades,
        "index_win_rate": _ratio(stats.index_win_rate),
        "pnl_win_rate": _ratio(stats.pnl_win_rate),
        "total_pnl": _dec(stats.net_pnl),
        "average_pnl": _paisa(stats.expectancy),
        "gross_pnl": _dec(stats.gross_pnl),
        "charges": _dec(stats.charges),
        "slippage": _dec(stats.slippage),
        "expectancy": _paisa(stats.expectancy),
        "profit_factor": _ratio(stats.profit_factor),
        "uses_model_prices": stats.used_model_prices,
    }


def _empty_stats() -> Stats:
    zero = Decimal(0)
    return Stats(0, None, None, zero, zero, zero, zero, None, None, False)


def _leg_document(leg: LegResult) -> dict[str, Any]:
    c = leg.contract
    return {
        "side": leg.side.value,
        "role": "main" if leg.side.value == "SELL" else "hedge",
        "option_type": c.option_type.value,
        "strike": c.strike,
        "expiry": c.expiry.isoformat(),
        "quantity": leg.quantity,
        "entry_time": iso_utc(leg.entry.time),
        "entry_price": _dec(leg.entry.price),
        "entry_fill": _dec(leg.entry.fill_price),
        "entry_source": leg.entry.source.value,
        "exit_time": iso_utc(leg.exit.time),
        "exit_price": _dec(leg.exit.price),
        "exit_fill": _dec(leg.exit.fill_price),
        "exit_source": leg.exit.source.value,
        "charges": {k: _dec(v) for k, v in sorted(leg.charges.items())},
        "gross_pnl": _dec(leg.gross_pnl),
        "slippage": _dec(leg.slippage_cost),
        "uses_model_prices": leg.used_model,
    }


def trade_document(trade: TradeResult) -> dict[str, Any]:
    """One trade with its legs, times, levels, reason, charges and win flags (spec §7)."""
    plan, sig, ev = trade.plan, trade.signal, trade.exit
    ctx = sig.context
    main = next(leg for leg in trade.legs if leg.side.value == "SELL")
    hedge = next((leg for leg in trade.legs if leg.side.value == "BUY"), None)
    outcome = trade.outcome
    exit_level = ev.index_level if ev.index_level is not None else main.exit.index_level
    f = sig.first_bar
    return {
        "signal": sig.signal_id.value,
        "direction": sig.direction.value,
        "option_type": sig.option_type.value,
        "week_start": sig.week_start.isoformat(),
        "bias": ctx.bias.name,
        "zones": {
            "uzt": _dec(ctx.uzt),
            "uzb": _dec(ctx.uzb),
            "lzt": _dec(ctx.lzt),
            "lzb": _dec(ctx.lzb),
            "pwh": _dec(ctx.pwh),
            "pwl": _dec(ctx.pwl),
            "pwc": _dec(ctx.pwc),
        },
        "first_bar": {
            "open": _dec(f.open),
            "high": _dec(f.high),
            "low": _dec(f.low),
            "close": _dec(f.close),
        },
        "signal_bar_time": iso_utc(sig.bar_start),
        "entry_time": iso_utc(plan.entry_time),
        "entry_level": _dec(plan.entry_level),
        "exit_time": iso_utc(ev.time),
        "exit_level": _dec(exit_level),
        "exit_reason": ev.reason.value,
        "raw_stop": _dec(sig.stop_level),
        "stop_level": _dec(plan.stop_level),
        "expiry": plan.expiry.isoformat(),
        "lot_size": plan.lot_size,
        "lots": plan.lots,
        "quantity": plan.quantity,
        "main_strike": main.contract.strike,
        "hedge_strike": hedge.contract.strike if hedge is not None else None,
        "legs": [_leg_document(leg) for leg in trade.legs],
        "charges": {k: _dec(v) for k, v in sorted(trade.charges.items())},
        "total_charges": _dec(trade.total_charges),
        "gross_pnl": _dec(trade.gross_pnl),
        "slippage": _dec(trade.slippage),
        "net_pnl": _dec(trade.net_pnl),
        "index_win": outcome.index_win,
        "pnl_win": outcome.pnl_win,
        "holding_hours": round((ev.time - plan.entry_time).total_seconds() / 3600, 2),
        "uses_model_prices": trade.used_model,
    }


@dataclass(frozen=True)
class CurveFigures:
    """Equity-curve figures over the requested period only (the warm-up days before
    ``from_date`` carry no trade and are left out)."""

    curve: tuple[tuple[date, Decimal], ...]
    final_equity: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None

    @classmethod
    def of(cls, result: BacktestResult, from_date: date) -> CurveFigures:
        curve = tuple((d, v) for d, v in result.equity_curve if d >= from_date)
        values = [v for _, v in curve]
        dd, dd_pct = max_drawdown(values)
        sharpe, sortino = sharpe_sortino(values)
        final = values[-1] if values else result.initial_capital
        return cls(curve, final, dd, dd_pct, sharpe, sortino)


def summary_figures(result: BacktestResult, from_date: date) -> dict[str, Any]:
    """The run's headline figures as plain numbers (for ranking in a sweep)."""
    o = result.overall
    cf = CurveFigures.of(result, from_date)
    dd = float(cf.max_drawdown)
    return {
        "trades": o.trades,
        "net_pnl": float(o.net_pnl),
        "index_win_rate": o.index_win_rate,
        "pnl_win_rate": o.pnl_win_rate,
        "expectancy": float(o.expectancy) if o.expectancy is not None else None,
        "profit_factor": o.profit_factor,
        "max_drawdown": dd,
        "max_drawdown_pct": cf.max_drawdown_pct,
        "sharpe": cf.sharpe,
        "sortino": cf.sortino,
        "return_pct": float(
            (cf.final_equity - result.initial_capital) / result.initial_capital * 100
        ),
        "net_pnl_over_drawdown": float(o.net_pnl) / dd if dd > 0 else None,
        "uses_model_prices": result.uses_model_prices,
    }


def _summary(request: BacktestRequest, result: BacktestResult) -> dict[str, Any]:
    o = result.overall
    trades = result.trades
    cf = CurveFigures.of(result, request.from_date)
    final = cf.final_equity
    charges: dict[str, Decimal] = defaultdict(Decimal)
    for t in trades:
        for k, v in t.charges.items():
            charges[k] += v
    hours = [(t.exit.time - t.plan.entry_time).total_seconds() / 3600 for t in trades]
    reasons = Counter(t.exit.reason.value for t in trades)
    return {
        "from_date": request.from_date.isoformat(),
        "to_date": request.to_date.isoformat(),
        **stats_document(o),
        "charges_by_type": {k: _dec(v) for k, v in sorted(charges.items())},
        "exit_reasons": dict(sorted(reasons.items())),
        "initial_capital": _dec(result.initial_capital),
        "final_equity": _dec(final),
        "return_pct": round(
            float((final - result.initial_capital) / result.initial_capital * 100), 4
        ),
        "max_drawdown": _dec(cf.max_drawdown),
        "max_drawdown_pct": round(cf.max_drawdown_pct, 4),
        "sharpe": _ratio(cf.sharpe),
        "sortino": _ratio(cf.sortino),
        "average_holding_hours": round(sum(hours) / len(hours), 2) if hours else None,
        "legs_by_source": _legs_by_source(result),
        "rejected_signals": len(result.rejected),
        "skipped_weeks": sum(1 for w in result.skipped_weeks if w.week_start >= request.from_date),
    }


def _legs_by_source(result: BacktestResult) -> dict[str, int]:
    return {
        k.value: v for k, v in sorted(result.legs_by_source.items(), key=lambda kv: kv[0].value)
    }


def _equity_curve(result: BacktestResult, from_date: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    peak: Decimal | None = None
    for day, equity in CurveFigures.of(result, from_date).curve:
        peak = equity if peak is None or equity > peak else peak
        dd = peak - equity
        out.append(
            {
                "date": day.isoformat(),
                "equity": _dec(equity),
                "drawdown": _dec(dd),
                "drawdown_pct": round(float(dd / peak * 100), 4) if peak > 0 else 0.0,
            }
        )
    return out


def build_document(
    request: BacktestRequest, result: BacktestResult, source: BarSource
) -> dict[str, Any]:
    """The JSON document of a finished run (see `run_request`)."""
    model_trades = sum(1 for t in result.trades if t.used_model)
    per_signal = {
        name: stats_document(result.per_signal.get(SignalId(name), _empty_stats()))
        for name in request.signals_to_test
    }
    uses_model = result.uses_model_prices
    return {
        "version": DOCUMENT_VERSION,
        "summary": _summary(request, result),
        "per_signal": per_signal,
        "trades": [trade_document(t) for t in result.trades],
        "equity_curve": _equity_curve(result, request.from_date),
        "rejected": [
            {
                "signal": r.signal.signal_id.value,
                "week_start": r.signal.week_start.isoformat(),
                "signal_bar_time": iso_utc(r.signal.bar_start),
                "reason": r.reason,
            }
            for r in result.rejected
        ],
        "skipped_weeks": [
            {"week_start": w.week_start.isoformat(), "reason": w.reason}
            for w in result.skipped_weeks
            if w.week_start >= request.from_date
        ],
        "config": {
            "request": request.model_dump(mode="json"),
            "effective": effective_config(request),
            "deviations": config_deviations(request),
        },
        "model_price_flag": {
            "uses_model_prices": uses_model,
            "banner": MODEL_PRICE_BANNER if uses_model else None,
            "note": MODEL_PRICING_NOTE if uses_model else None,
            "model_priced_trades": model_trades,
            "model_priced_legs": result.legs_by_source.get(FillSource.MODEL, 0),
            "legs_by_source": _legs_by_source(result),
        },
        "run": {
            "run_id": uuid.uuid4().hex,
            "created_at": iso_utc(datetime.now(UTC)),
            "source": source.name,
            "data": source.fingerprints(),
        },
    }
