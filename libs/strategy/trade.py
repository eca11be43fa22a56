"""Trade construction from a signal: strikes, stop, hedge, entry, expiry and size (spec §4)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from libs.strategy.bars import IST, SESSION_CLOSE, ist_datetime
from libs.strategy.bars import REGULAR_BAR_STARTS as _STARTS
from libs.strategy.ports import ExpiryCalendar, OptionPriceFn
from libs.strategy.signals import Direction, OptionType, Signal


class StrikeRule(enum.Enum):
    """``trade.strike_rule`` (spec §4.2)."""

    ROUND100 = "round100"
    DIRECTIONAL50 = "directional50"
    ATM = "atm"


class StopRule(enum.Enum):
    """``trade.sl_rule`` (spec §4.3)."""

    RAW = "raw"
    STRIKE = "strike"


class HedgeMethod(enum.Enum):
    """``trade.hedge.method`` (spec §4.1)."""

    OFFSET = "offset"
    PREMIUM_RATIO = "premium_ratio"


class LateSignal(enum.Enum):
    """``trade.late_signal`` (spec §4.4)."""

    NEXT_SESSION_OPEN = "next_session_open"
    SKIP = "skip"


class Side(enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True, slots=True)
class HedgeConfig:
    enabled: bool = True
    method: HedgeMethod = HedgeMethod.OFFSET
    offset_points: int = 200
    premium_ratio: Decimal = Decimal("0.30")

    def __post_init__(self) -> None:
        if self.offset_points <= 0 or self.offset_points % 50:
            raise ValueError("trade.hedge.offset_points must be a positive multiple of 50")
        if not Decimal(0) <= self.premium_ratio <= Decimal(1):
            raise ValueError("trade.hedge.premium_ratio must lie in [0, 1]")


@dataclass(frozen=True, slots=True)
class TradeConfig:
    """The ``trade.*`` options of spec §9 with their defaults."""

    strike_rule: StrikeRule = StrikeRule.ROUND100
    sl_rule: StopRule = StopRule.RAW
    late_signal: LateSignal = LateSignal.NEXT_SESSION_OPEN
    expiry_min_trading_days: int = 1
    hedge: HedgeConfig = field(default_factory=HedgeConfig)
    lots: int = 1

    def __post_init__(self) -> None:
        if self.lots < 1:
            raise ValueError("trade.lots must be a positive integer")
        if self.expiry_min_trading_days < 0:
            raise ValueError("trade.expiry.min_trading_days must be >= 0")


@dataclass(frozen=True, slots=True)
class OptionContract:
    """A NIFTY option keyed by its full identity: expiry date, strike, type (spec R14)."""

    expiry: date
    strike: int
    option_type: OptionType


@dataclass(frozen=True, slots=True)
class LegPlan:
    contract: OptionContract
    side: Side
    quantity: int
    slices: tuple[int, ...]
    """Order quantities after the freeze split (spec §4.6)."""


@dataclass(frozen=True, slots=True)
class TradePlan:
    """A trade to open for a signal (spec §4)."""

    signal: Signal
    entry_time: datetime
    entry_level: Decimal
    expiry: date
    lot_size: int
    lots: int
    stop_level: Decimal
    main: LegPlan
    hedge: LegPlan | None

    @property
    def direction(self) -> Direction:
        return self.signal.direction

    @property
    def quantity(self) -> int:
        return self.main.quantity

    @property
    def legs(self) -> tuple[LegPlan, ...]:
        """Legs in live placement order: hedge BUY first, then main SELL (spec §4.1)."""
        return (self.hedge, self.main) if self.hedge is not None else (self.main,)


class TradeRejected(Exception):
    """A signal that cannot be turned into a trade; ``reason`` is recorded (spec R4)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _floor(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_FLOOR))


def _ceil(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_CEILING))


def round_half_up_to(level: Decimal, step: int) -> int:
    """Nearest multiple of ``step``, ties up: ``floor(level / step + 0.5) * step``."""
    return _floor(level / step + Decimal("0.5")) * step


def round100(sl: Decimal) -> int:
    """``round100`` strike (spec §4.2): nearest 100, ties up (24,850 -> 24,900)."""
    return round_half_up_to(sl, 100)


def directional50(sl: Decimal, option_type: OptionType) -> int:
    """``directional50`` strike (spec §4.2): PE floor to 50, CE exact ceiling to 50."""
    if option_type is OptionType.PE:
        return _floor(sl / 50) * 50
    return _ceil(sl / 50) * 50


def atm_strike(index_level: Decimal) -> int:
    """``atm`` strike (spec §4.2): nearest 50 of the index at entry, ties up."""
    return round_half_up_to(index_level, 50)


def main_strike(
    rule: StrikeRule, stop_level: Decimal, option_type: OptionType, entry_level: Decimal
) -> int:
    if rule is StrikeRule.ROUND100:
        return round100(stop_level)
    if rule is StrikeRule.DIRECTIONAL50:
        return directional50(stop_level, option_type)
    return atm_strike(entry_level)


def trade_stop(rule: StopRule, raw_sl: Decimal, strike: int) -> Decimal:
    """Stop level tested on hourly closes (spec §4.3)."""
    return raw_sl if rule is StopRule.RAW else Decimal(strike)


def hedge_offset_strike(strike: int, option_type: OptionType, offset: int) -> int:
    """Hedge strike further out of the money: PE ``K - offset``, CE ``K + offset`` (spec §4.1)."""
    return strike - offset if option_type is OptionType.PE else strike + offset


HEDGE_RATIO_OFFSETS: tuple[int, ...] = tuple(range(100, 501, 50))


def hedge_premium_ratio_strike(
    strike: int,
    option_type: OptionType,
    main_price: Decimal,
    ratio: Decimal,
    price_of: Callable[[int], Decimal | None],
) -> int:
    """Among strikes 100..500 points further OTM (50-point steps), the one whose price is
    closest to ``ratio`` x the main leg's price; a tie goes to the nearer strike (spec §4.1).

    Raises `TradeRejected` when no candidate can be priced (never a silent fallback, spec R18).
    """
    target = main_price * ratio
    best: tuple[Decimal, int] | None = None
    for off in HEDGE_RATIO_OFFSETS:
        k = hedge_offset_strike(strike, option_type, off)
        price = price_of(k)
        if price is None:
            continue
        gap = abs(price - target)
        if best is None or gap < best[0]:
            best = (gap, k)
    if best is None:
        raise TradeRejected("premium_ratio hedge: no candidate strike could be priced")
    return best[1]


def freeze_slices(quantity: int, lot_size: int, freeze_qty: int) -> tuple[int, ...]:
    """Split an order into slices of at most ``floor(freeze / lot) * lot`` units (spec §4.6)."""
    if quantity <= 0 or lot_size <= 0 or quantity % lot_size:
        raise ValueError("quantity must be a positive multiple of the lot size")
    cap = freeze_qty // lot_size * lot_size
    if cap <= 0:
        raise ValueError("freeze quantity is below one lot")
    full, rest = divmod(quantity, cap)
    return (cap,) * full + ((rest,) if rest else ())


def next_trading_day(calendar: ExpiryCalendar, d: date, max_days: int = 30) -> date:
    for i in range(1, max_days + 1):
        nd = d + timedelta(days=i)
        if calendar.is_trading_day(nd):
            return nd
    raise ValueError(f"no trading day within {max_days} days after {d.isoformat()}")


def is_after_close_signal(signal: Signal) -> bool:
    """True for a signal whose bar closes at 15:30 (the 15:15 bar, spec §4.4)."""
    return signal.bar_close_time.astimezone(IST).time() >= SESSION_CLOSE


def live_entry_time(
    signal: Signal, config: TradeConfig, calendar: ExpiryCalendar
) -> datetime | None:
    """When a live system acts on ``signal`` (spec §4.4): the bar close, or for a 15:30 close the
    next session's 09:15 (``next_session_open``), or None (``skip``)."""
    if not is_after_close_signal(signal):
        return signal.bar_close_time
    if config.late_signal is LateSignal.SKIP:
        return None
    day = next_trading_day(calendar, signal.bar_close_time.astimezone(IST).date())
    return ist_datetime(day, _STARTS[0])


def build_trade(
    signal: Signal,
    config: TradeConfig,
    calendar: ExpiryCalendar,
    *,
    entry_time: datetime | None = None,
    entry_level: Decimal | None = None,
    price_fn: OptionPriceFn | None = None,
    strike_listed: Callable[[OptionContract], bool] | None = None,
) -> TradePlan:
    """Build the trade for ``signal`` (spec §4).

    ``entry_time`` defaults to the signal bar's close time and ``entry_level`` to its close
    (spec §4.4). ``price_fn`` is needed by the ``premium_ratio`` hedge; ``strike_listed``, when
    given, rejects strikes not listed for the chosen expiry.
    """
    at = entry_time if entry_time is not None else signal.bar_close_time
    level = entry_level if entry_level is not None else signal.close
    otype = signal.option_type
    entry_day = at.astimezone(IST).date()
    expiry = calendar.next_weekly_expiry(entry_day, config.expiry_min_trading_days)
    if expiry < entry_day:
        raise TradeRejected(f"expiry {expiry.isoformat()} is before entry {entry_day.isoformat()}")
    lot = calendar.lot_size(expiry)
    qty = config.lots * lot
    slices = freeze_slices(qty, lot, calendar.freeze_qty(entry_day))
    strike = main_strike(config.strike_rule, signal.stop_level, otype, level)
    main = OptionContract(expiry, strike, otype)
    hedge: OptionContract | None = None
    if config.hedge.enabled:
        hedge = OptionContract(expiry, _hedge_strike(config.hedge, main, at, price_fn), otype)
    if strike_listed is not None:
        for c in (main, hedge):
            if c is not None and not strike_listed(c):
                raise TradeRejected(
                    f"strike {c.strike} {c.option_type.value} not listed for {expiry.isoformat()}"
                )
    return TradePlan(
        signal=signal,
        entry_time=at,
        entry_level=level,
        expiry=expiry,
        lot_size=lot,
        lots=config.lots,
        stop_level=trade_stop(config.sl_rule, signal.stop_level, strike),
        main=LegPlan(main, Side.SELL, qty, slices),
        hedge=LegPlan(hedge, Side.BUY, qty, slices) if hedge is not None else None,
    )


def _hedge_strike(
    cfg: HedgeConfig, main: OptionContract, at: datetime, price_fn: OptionPriceFn | None
) -> int:
    if cfg.method is HedgeMethod.OFFSET:
        return hedge_offset_strike(main.strike, main.option_type, cfg.offset_points)
    if price_fn is None:
        raise TradeRejected("premium_ratio hedge needs an option price function")
    main_price = price_fn(main, at)
    if main_price is None:
        raise TradeRejected("premium_ratio hedge: main leg has no price")

    def price_of(k: int) -> Decimal | None:
        return price_fn(OptionContract(main.expiry, k, main.option_type), at)

    return hedge_premium_ratio_strike(
        main.strike, main.option_type, main_price, cfg.premium_ratio, price_of
    )
