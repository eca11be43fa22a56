"""A pure backtest engine over hourly bars (strategy spec §7).

Prices come from an `OptionPricer` port, charges from a `ChargesFn` port, calendar facts from an
`ExpiryCalendar` and official closes from a `DailyCloses` lookup. The engine does no I/O; a run
record (run id, data fingerprints) is the caller's job.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from libs.strategy.bars import IST, SESSION_CLOSE, Bar, SessionFilter
from libs.strategy.exits import (
    ExitConfig,
    ExitEvent,
    ExitMonitor,
    ExitReason,
    Outcome,
    SettlementPrice,
    classify_outcome,
    expiry_close_time,
    intrinsic_value,
)
from libs.strategy.ports import (
    ChargeableOrder,
    ChargesFn,
    DailyCloses,
    ExpiryCalendar,
    OptionPricer,
    PriceSource,
)
from libs.strategy.signals import Signal, SignalConfig, SignalEngine, SignalId, WeekSkip
from libs.strategy.trade import (
    LegPlan,
    OptionContract,
    Side,
    TradeConfig,
    TradePlan,
    TradeRejected,
    build_trade,
    is_after_close_signal,
)

TICK = Decimal("0.05")
MODEL_PRICE_BANNER = "Model prices (Black–Scholes on India VIX), not market data"


class AfterCloseFill(enum.Enum):
    """``backtest.after_close_fill`` (spec §4.4, §5)."""

    BAR_CLOSE = "bar_close"
    NEXT_OPEN = "next_open"


class FillSource(enum.Enum):
    """Where a leg's price came from."""

    MARKET = "market"
    MODEL = "model"
    SETTLEMENT = "settlement"
    """Intrinsic value against the official close at expiry."""
    INTRINSIC_FALLBACK = "intrinsic_fallback"
    """No price was available; valued at intrinsic against the index level (flagged)."""


@dataclass(frozen=True, slots=True)
class SlippageConfig:
    """``costs.slippage`` (spec §6.3): ``max(pct % of price, min_ticks x 0.05)``."""

    pct: Decimal = Decimal("1.0")
    min_ticks: int = 1


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    signals: SignalConfig = field(default_factory=SignalConfig)
    trade: TradeConfig = field(default_factory=TradeConfig)
    exits: ExitConfig = field(default_factory=ExitConfig)
    slippage: SlippageConfig = field(default_factory=SlippageConfig)
    after_close_fill: AfterCloseFill = AfterCloseFill.BAR_CLOSE
    max_open_trades: int | None = None
    initial_capital: Decimal = Decimal(500_000)
    start: date | None = None
    """Signals of weeks starting before this date open no trade (bars before it warm up)."""
    end: date | None = None


def round_tick(x: Decimal) -> Decimal:
    return (x / TICK).to_integral_value(rounding=ROUND_HALF_UP) * TICK


def slipped(price: Decimal, side: Side, cfg: SlippageConfig) -> Decimal:
    """Fill price after slippage: sells lower, buys higher, never below 0.05 (spec §6.3)."""
    move = round_tick(max(price * cfg.pct / 100, cfg.min_ticks * TICK))
    if side is Side.BUY:
        return price + move
    return max(price - move, TICK)


@dataclass(frozen=True, slots=True)
class Fill:
    time: datetime
    index_level: Decimal
    price: Decimal
    """Price before slippage."""
    fill_price: Decimal
    source: FillSource


@dataclass(frozen=True, slots=True)
class LegResult:
    contract: OptionContract
    side: Side
    """Side of the opening order."""
    quantity: int
    entry: Fill
    exit: Fill
    charges: Mapping[str, Decimal]

    @property
    def gross_pnl(self) -> Decimal:
        """P&L at prices before slippage."""
        diff = self.exit.price - self.entry.price
        return (-diff if self.side is Side.SELL else diff) * self.quantity

    @property
    def slippage_cost(self) -> Decimal:
        return (
            abs(self.entry.fill_price - self.entry.price)
            + abs(self.exit.fill_price - self.exit.price)
        ) * self.quantity

    @property
    def used_model(self) -> bool:
        return FillSource.MODEL in (self.entry.source, self.exit.source)


@dataclass(frozen=True, slots=True)
class TradeResult:
    plan: TradePlan
    exit: ExitEvent
    legs: tuple[LegResult, ...]

    @property
    def signal(self) -> Signal:
        return self.plan.signal

    @property
    def gross_pnl(self) -> Decimal:
        return sum((leg.gross_pnl for leg in self.legs), Decimal(0))

    @property
    def slippage(self) -> Decimal:
        return sum((leg.slippage_cost for leg in self.legs), Decimal(0))

    @property
    def charges(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for leg in self.legs:
            for k, v in leg.charges.items():
                out[k] += v
        return dict(out)

    @property
    def total_charges(self) -> Decimal:
        return sum(self.charges.values(), Decimal(0))

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.slippage - self.total_charges

    @property
    def outcome(self) -> Outcome:
        return classify_outcome(self.exit.reason, self.net_pnl)

    @property
    def used_model(self) -> bool:
        return any(leg.used_model for leg in self.legs)


@dataclass(frozen=True, slots=True)
class RejectedSignal:
    signal: Signal
    reason: str


@dataclass(frozen=True, slots=True)
class Stats:
    """Per-signal or overall figures (spec §5.1, §7)."""

    trades: int
    index_win_rate: float | None
    pnl_win_rate: float | None
    gross_pnl: Decimal
    slippage: Decimal
    charges: Decimal
    net_pnl: Decimal
    expectancy: Decimal | None
    profit_factor: float | None
    used_model_prices: bool


@dataclass(frozen=True, slots=True)
class BacktestResult:
    trades: tuple[TradeResult, ...]
    rejected: tuple[RejectedSignal, ...]
    skipped_weeks: tuple[WeekSkip, ...]
    equity_curve: tuple[tuple[date, Decimal], ...]
    """Daily equity at 15:30 with open trades marked to market (spec §7)."""
    initial_capital: Decimal
    overall: Stats
    per_signal: Mapping[SignalId, Stats]
    max_drawdown: Decimal
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    legs_by_source: Mapping[FillSource, int]

    @property
    def uses_model_prices(self) -> bool:
        return self.legs_by_source.get(FillSource.MODEL, 0) > 0

    @property
    def banner(self) -> str | None:
        return MODEL_PRICE_BANNER if self.uses_model_prices else None


def _rate(flags: Sequence[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def compute_stats(trades: Sequence[TradeResult]) -> Stats:
    nets = [t.net_pnl for t in trades]
    gains = sum((n for n in nets if n > 0), Decimal(0))
    losses = -sum((n for n in nets if n < 0), Decimal(0))
    return Stats(
        trades=len(trades),
        index_win_rate=_rate([t.outcome.index_win for t in trades]),
        pnl_win_rate=_rate([t.outcome.pnl_win for t in trades]),
        gross_pnl=sum((t.gross_pnl for t in trades), Decimal(0)),
        slippage=sum((t.slippage for t in trades), Decimal(0)),
        charges=sum((t.total_charges for t in trades), Decimal(0)),
        net_pnl=sum(nets, Decimal(0)),
        expectancy=sum(nets, Decimal(0)) / len(nets) if nets else None,
        profit_factor=float(gains / losses) if losses > 0 else None,
        used_model_prices=any(t.used_model for t in trades),
    )


def max_drawdown(curve: Sequence[Decimal]) -> tuple[Decimal, float]:
    """Largest peak-to-trough fall of an equity curve, in rupees and in % of the peak."""
    peak: Decimal | None = None
    worst, worst_pct = Decimal(0), 0.0
    for v in curve:
        peak = v if peak is None or v > peak else peak
        dd = peak - v
        if dd > worst:
            worst = dd
            worst_pct = float(dd / peak * 100) if peak > 0 else 0.0
    return worst, worst_pct


def sharpe_sortino(curve: Sequence[Decimal]) -> tuple[float | None, float | None]:
    """Annualised (252 days) Sharpe and Sortino ratios of daily equity returns (rate 0)."""
    rets = [float((b - a) / a) for a, b in pairwise(curve) if a > 0]
    if len(rets) < 2:
        return None, None
    mean = sum(rets) / len(rets)
    var = sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)
    down = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / len(rets))
    sharpe = mean / math.sqrt(var) * math.sqrt(252) if var > 0 else None
    sortino = mean / down * math.sqrt(252) if down > 0 else None
    return sharpe, sortino


@dataclass(slots=True)
class _Open:
    plan: TradePlan
    monitor: ExitMonitor
    entries: dict[Side, Fill]
    entry_charges: dict[Side, Mapping[str, Decimal]]


class _Run:
    def __init__(
        self,
        config: BacktestConfig,
        pricer: OptionPricer,
        charges: ChargesFn,
        calendar: ExpiryCalendar,
        official_close: DailyCloses,
    ) -> None:
        self.cfg = config
        self.pricer = pricer
        self.charges_fn = charges
        self.calendar = calendar
        self.official_close = official_close
        self.open: list[_Open] = []
        self.closed: list[TradeResult] = []
        self.realised = Decimal(0)
        """Running sum of the closed trades' net P&L (exact: Decimal sums do not round here)."""
        self.rejected: list[RejectedSignal] = []
        self.equity: list[tuple[date, Decimal]] = []
        self.pending_entries: list[Signal] = []
        self.pending_exits: list[tuple[_Open, ExitEvent]] = []

    # --- pricing -----------------------------------------------------------------------
    def _quote(
        self, contract: OptionContract, at: datetime, level: Decimal
    ) -> tuple[Decimal, FillSource] | None:
        q = self.pricer.quote(contract, at, level)
        if q is None:
            return None
        src = FillSource.MARKET if q.source is PriceSource.MARKET else FillSource.MODEL
        return q.price, src

    def _mark(self, contract: OptionContract, at: datetime, level: Decimal) -> Decimal:
        q = self._quote(contract, at, level)
        if q is not None:
            return q[0]
        return intrinsic_value(contract.option_type, contract.strike, level)

    def _order_charges(
        self, leg: LegPlan, side: Side, price: Decimal, day: date, lot: int
    ) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for qty in leg.slices:
            for k, v in self.charges_fn(ChargeableOrder(day, side, price, qty, lot)).items():
                out[k] += v
        return dict(out)

    # --- entries -----------------------------------------------------------------------
    def on_signal(
        self, sig: Signal, at: datetime | None = None, level: Decimal | None = None
    ) -> None:
        cfg = self.cfg
        if (cfg.start is not None and sig.week_start < cfg.start) or (
            cfg.end is not None and sig.week_start > cfg.end
        ):
            return
        if cfg.max_open_trades is not None and len(self.open) >= cfg.max_open_trades:
            self.rejected.append(RejectedSignal(sig, "max_open_trades reached"))
            return
        if (
            at is None
            and cfg.after_close_fill is AfterCloseFill.NEXT_OPEN
            and is_after_close_signal(sig)
        ):
            self.pending_entries.append(sig)
            return
        try:
            self._open_trade(sig, at, level)
        except TradeRejected as exc:
            self.rejected.append(RejectedSignal(sig, exc.reason))

    def _open_trade(self, sig: Signal, at: datetime | None, level: Decimal | None) -> None:
        def price_fn(c: OptionContract, t: datetime) -> Decimal | None:
            q = self._quote(c, t, level if level is not None else sig.close)
            return q[0] if q is not None else None

        plan = build_trade(
            sig, self.cfg.trade, self.calendar, entry_time=at, entry_level=level, price_fn=price_fn
        )
        entries: dict[Side, Fill] = {}
        charges: dict[Side, Mapping[str, Decimal]] = {}
        day = plan.entry_time.date()
        for leg in plan.legs:
            q = self._quote(leg.contract, plan.entry_time, plan.entry_level)
            if q is None:
                raise TradeRejected(f"no entry price for {leg.contract}")
            fill = slipped(q[0], leg.side, self.cfg.slippage)
            entries[leg.side] = Fill(plan.entry_time, plan.entry_level, q[0], fill, q[1])
            charges[leg.side] = self._order_charges(leg, leg.side, fill, day, plan.lot_size)
        monitor = ExitMonitor(
            plan.direction,
            plan.stop_level,
            plan.entry_time,
            plan.expiry,
            self.cfg.exits,
            self.calendar,
        )
        self.open.append(_Open(plan, monitor, entries, charges))

    # --- exits -------------------------------------------------------------------------
    def net_pct(self, tr: _Open, bar: Bar) -> Decimal | None:
        main_entry = tr.entries[Side.SELL]
        if main_entry.fill_price <= 0:
            return None
        pnl = Decimal(0)
        for leg in tr.plan.legs:
            now = self._mark(leg.contract, bar.close_time, bar.close)
            diff = now - tr.entries[leg.side].fill_price
            pnl += -diff if leg.side is Side.SELL else diff
        return pnl / main_entry.fill_price * 100

    def _settle_level(self, tr: _Open, ev: ExitEvent) -> Decimal:
        official = self.official_close(tr.plan.expiry)
        if official is not None:
            return official
        if ev.index_level is not None:
            return ev.index_level
        return tr.plan.entry_level

    def close_trade(self, tr: _Open, ev: ExitEvent, level: Decimal | None = None) -> None:
        legs: list[LegResult] = []
        for leg in tr.plan.legs:
            if ev.settle:
                fill, charges = self._settle_leg(tr, leg, ev)
            else:
                fill, charges = self._close_leg(tr, leg, ev, level)
            total = dict(tr.entry_charges[leg.side])
            for k, v in charges.items():
                total[k] = total.get(k, Decimal(0)) + v
            legs.append(
                LegResult(leg.contract, leg.side, leg.quantity, tr.entries[leg.side], fill, total)
            )
        result = TradeResult(tr.plan, ev, tuple(legs))
        self.closed.append(result)
        self.realised += result.net_pnl

    def _settle_leg(
        self, tr: _Open, leg: LegPlan, ev: ExitEvent
    ) -> tuple[Fill, Mapping[str, Decimal]]:
        c = leg.contract
        at = expiry_close_time(tr.plan.expiry)
        level = self._settle_level(tr, ev)
        intrinsic = intrinsic_value(c.option_type, c.strike, level)
        price, src = intrinsic, FillSource.SETTLEMENT
        if self.cfg.exits.settlement_price is SettlementPrice.LAST_PRICE_WHEN_AVAILABLE:
            q = self._quote(c, at, level)
            if q is not None and q[1] is FillSource.MARKET:
                price, src = q
        charges: Mapping[str, Decimal] = {}
        if leg.side is Side.BUY and intrinsic > 0:
            order = ChargeableOrder(
                tr.plan.expiry, Side.BUY, intrinsic, leg.quantity, tr.plan.lot_size, True, level
            )
            charges = self.charges_fn(order)
        return Fill(at, level, price, price, src), charges

    def _close_leg(
        self, tr: _Open, leg: LegPlan, ev: ExitEvent, level: Decimal | None
    ) -> tuple[Fill, Mapping[str, Decimal]]:
        c = leg.contract
        at_level = level if level is not None else ev.index_level
        if at_level is None:  # only settlement events lack a level
            at_level = self._settle_level(tr, ev)
        close_side = Side.BUY if leg.side is Side.SELL else Side.SELL
        q = self._quote(c, ev.time, at_level)
        if q is None:
            price, src = (
                intrinsic_value(c.option_type, c.strike, at_level),
                FillSource.INTRINSIC_FALLBACK,
            )
        else:
            price, src = q
        fill = slipped(price, close_side, self.cfg.slippage)
        charges = self._order_charges(leg, close_side, fill, ev.time.date(), tr.plan.lot_size)
        return Fill(ev.time, at_level, price, fill, src), charges

    # --- bar loop ----------------------------------------------------------------------
    def process_pending(self, bar: Bar) -> None:
        for tr, ev in self.pending_exits:
            moved = ExitEvent(ev.reason, bar.start, bar.open, False, ev.bar_start)
            self.close_trade(tr, moved)
        self.pending_exits.clear()
        pending, self.pending_entries = self.pending_entries, []
        for sig in pending:
            self.on_signal(sig, bar.start, bar.open)

    def update_open(self, bar: Bar) -> None:
        still: list[_Open] = []
        for tr in self.open:
            pct = self.net_pct(tr, bar) if tr.monitor.profit_lock_active else None
            ev = tr.monitor.on_bar(bar, pct)
            if ev is None:
                still.append(tr)
            elif self._defer(ev):
                self.pending_exits.append((tr, ev))
            else:
                self.close_trade(tr, ev)
        self.open = still

    def _defer(self, ev: ExitEvent) -> bool:
        return (
            self.cfg.after_close_fill is AfterCloseFill.NEXT_OPEN
            and not ev.settle
            and ev.reason is ExitReason.STOP
            and is_close_of_session(ev.time)
        )

    def mark_day(self, bar: Bar) -> None:
        realised = self.realised
        unrealised = Decimal(0)
        for tr in self.open:
            for leg in tr.plan.legs:
                entry = tr.entries[leg.side]
                now = self._mark(leg.contract, bar.close_time, bar.close)
                diff = (now - entry.fill_price) * leg.quantity
                unrealised += -diff if leg.side is Side.SELL else diff
                unrealised -= sum(tr.entry_charges[leg.side].values(), Decimal(0))
                unrealised -= abs(entry.fill_price - entry.price) * leg.quantity
        self.equity.append((bar.day, self.cfg.initial_capital + realised + unrealised))


def is_close_of_session(t: datetime) -> bool:
    return t.astimezone(IST).time() >= SESSION_CLOSE


@dataclass(frozen=True, slots=True)
class SignalTape:
    """The signal engine's output over a bar history: the session-filtered bars, the signal fired
    at each of them (or None) and the skipped weeks.

    The engine never looks at open trades, so one tape can be replayed by several runs that share
    the bars and the signal configuration (a parameter sweep over trade and exit options).
    """

    config: SignalConfig
    bars: tuple[Bar, ...]
    signals: tuple[Signal | None, ...]
    skipped_weeks: tuple[WeekSkip, ...]
    day_ends: tuple[bool, ...]
    """True for the last bar of its trading day (where the daily equity is marked)."""


def record_signals(
    bars: Sequence[Bar],
    config: SignalConfig,
    *,
    official_close: DailyCloses,
    muhurat_dates: Collection[date] | None = None,
) -> SignalTape:
    """Run the signal engine of spec §3 over time-ordered hourly bars once."""
    flt = SessionFilter(config.session_filter, muhurat_dates)
    kept = tuple(b for b in bars if flt.accept(b))
    engine = SignalEngine(config, muhurat_dates=muhurat_dates, official_close=official_close)
    fired = tuple(engine.on_bar(bar) for bar in kept)
    days = [bar.day for bar in kept]
    day_ends = tuple(a != b for a, b in pairwise(days)) + ((True,) if kept else ())
    return SignalTape(config, kept, fired, tuple(engine.skipped_weeks), day_ends)


def run_backtest(
    bars: Sequence[Bar],
    config: BacktestConfig,
    *,
    pricer: OptionPricer,
    charges: ChargesFn,
    calendar: ExpiryCalendar,
    official_close: DailyCloses,
    muhurat_dates: Collection[date] | None = None,
) -> BacktestResult:
    """Run the backtest of spec §7 over time-ordered hourly index bars."""
    tape = record_signals(
        bars, config.signals, official_close=official_close, muhurat_dates=muhurat_dates
    )
    return replay_backtest(
        tape,
        config,
        pricer=pricer,
        charges=charges,
        calendar=calendar,
        official_close=official_close,
    )


def replay_backtest(
    tape: SignalTape,
    config: BacktestConfig,
    *,
    pricer: OptionPricer,
    charges: ChargesFn,
    calendar: ExpiryCalendar,
    official_close: DailyCloses,
) -> BacktestResult:
    """The backtest of spec §7 on a recorded signal tape (same results as `run_backtest`)."""
    if tape.config != config.signals:
        raise ValueError("the signal tape was recorded with another signal configuration")
    kept = tape.bars
    run = _Run(config, pricer, charges, calendar, official_close)
    for bar, sig, day_end in zip(kept, tape.signals, tape.day_ends, strict=True):
        if run.pending_exits or run.pending_entries:
            run.process_pending(bar)
        if run.open:
            run.update_open(bar)
        if sig is not None:
            run.on_signal(sig)
        if day_end:
            run.mark_day(bar)
    if kept:
        last = kept[-1]
        for tr, ev in run.pending_exits:
            run.close_trade(tr, ev)
        for tr in run.open:
            run.close_trade(tr, tr.monitor.end_of_data(last))
        run.open = []
        run.equity.pop()
        run.mark_day(last)
    return _result(run, tape.skipped_weeks, config)


def _result(run: _Run, skipped: Sequence[WeekSkip], config: BacktestConfig) -> BacktestResult:
    trades = sorted(run.closed, key=lambda t: t.plan.entry_time)
    by_signal: dict[SignalId, list[TradeResult]] = defaultdict(list)
    sources: dict[FillSource, int] = defaultdict(int)
    for t in trades:
        by_signal[t.signal.signal_id].append(t)
        for leg in t.legs:
            sources[leg.entry.source] += 1
            sources[leg.exit.source] += 1
    curve = [v for _, v in run.equity]
    dd, dd_pct = max_drawdown(curve)
    sharpe, sortino = sharpe_sortino(curve)
    return BacktestResult(
        trades=tuple(trades),
        rejected=tuple(run.rejected),
        skipped_weeks=tuple(skipped),
        equity_curve=tuple(run.equity),
        initial_capital=config.initial_capital,
        overall=compute_stats(trades),
        per_signal={
            sid: compute_stats(ts)
            for sid, ts in sorted(by_signal.items(), key=lambda kv: kv[0].priority)
        },
        max_drawdown=dd,
        max_drawdown_pct=dd_pct,
        sharpe=sharpe,
        sortino=sortino,
        legs_by_source=dict(sources),
    )
