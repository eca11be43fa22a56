"""Trade construction (services/risk/construction.py): strikes, hedge, expiry, lots, slices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from libs.common.messages import Instrument, Leg, OptionRight, Side, SignalName
from libs.market.calendar import is_holiday, is_trading_day
from libs.market.expiries import next_weekly_expiry
from services.risk.construction import (
    LegPlan,
    TradeSettings,
    main_strike,
    plan_entry,
    plan_exit,
    reference_level,
    slices,
)
from tests.factories import make_instrument, make_signal

WEDNESDAY = date(2026, 11, 25)
GURU_NANAK_JAYANTI = date(2026, 11, 24)
DEFAULTS = TradeSettings()


def test_calendar_when_2026_11_24_is_a_holiday_so_that_weeks_expiry_moves_to_monday() -> None:
    assert is_holiday(GURU_NANAK_JAYANTI)
    assert not is_trading_day(GURU_NANAK_JAYANTI)
    assert next_weekly_expiry(date(2026, 11, 20)) == date(2026, 11, 23)


# --- plan_entry -----------------------------------------------------------------------------


def test_plan_entry_when_bullish_signal_sells_pe_and_buys_lower_pe_hedge_first() -> None:
    signal = make_signal(signal=SignalName.S1, stop_level=Decimal(24850), price=Decimal(24990))

    legs = plan_entry(signal, WEDNESDAY, DEFAULTS)

    assert [(leg.leg, leg.side) for leg in legs] == [(Leg.HEDGE, Side.BUY), (Leg.MAIN, Side.SELL)]
    hedge, main = legs
    assert main.instrument == Instrument(
        symbol="NIFTY", expiry=date(2026, 12, 1), strike=Decimal(24900), right=OptionRight.PE
    )
    assert hedge.instrument == Instrument(
        symbol="NIFTY", expiry=date(2026, 12, 1), strike=Decimal(24700), right=OptionRight.PE
    )
    assert (main.quantity, main.lot_size) == (65, 65)
    assert (hedge.quantity, hedge.lot_size) == (65, 65)


def test_plan_entry_when_bearish_signal_sells_ce_and_buys_higher_ce_hedge_first() -> None:
    signal = make_signal(
        signal=SignalName.S6, strike=Decimal(25100), option_type=OptionRight.CE, price=None
    )

    hedge, main = plan_entry(signal, WEDNESDAY, DEFAULTS)

    assert (hedge.leg, hedge.side) == (Leg.HEDGE, Side.BUY)
    assert (main.leg, main.side) == (Leg.MAIN, Side.SELL)
    assert main.instrument.right is OptionRight.CE
    assert hedge.instrument.right is OptionRight.CE
    assert main.instrument.strike == Decimal(25100)
    assert hedge.instrument.strike == Decimal(25300)


@pytest.mark.parametrize(
    ("signal", "right"),
    [
        (SignalName.S1, OptionRight.PE),
        (SignalName.S2, OptionRight.PE),
        (SignalName.S3, OptionRight.CE),
        (SignalName.S4, OptionRight.PE),
        (SignalName.S5, OptionRight.CE),
        (SignalName.S6, OptionRight.CE),
        (SignalName.S7, OptionRight.PE),
        (SignalName.S8, OptionRight.CE),
    ],
)
def test_plan_entry_when_signal_given_both_legs_use_its_option_right(
    signal: SignalName, right: OptionRight
) -> None:
    legs = plan_entry(make_signal(signal=signal), WEDNESDAY, DEFAULTS)

    assert {leg.instrument.right for leg in legs} == {right}


@pytest.mark.parametrize(
    ("entry_date", "expiry"),
    [
        # Friday before the holiday week: Tuesday 24th is a holiday, the expiry is Monday 23rd.
        (date(2026, 11, 20), date(2026, 11, 23)),
        # On that Monday expiry the default of one trading day left rolls to the next week.
        (date(2026, 11, 23), date(2026, 12, 1)),
        # An entry dated on the holiday itself: the shifted expiry is already past.
        (GURU_NANAK_JAYANTI, date(2026, 12, 1)),
        (WEDNESDAY, date(2026, 12, 1)),
        (date(2026, 12, 1), date(2026, 12, 8)),
    ],
)
def test_plan_entry_when_dated_around_holiday_uses_next_weekly_expiry(
    entry_date: date, expiry: date
) -> None:
    legs = plan_entry(make_signal(), entry_date, DEFAULTS)

    assert {leg.instrument.expiry for leg in legs} == {expiry}
    assert expiry == next_weekly_expiry(entry_date, DEFAULTS.min_trading_days_to_expiry)


def test_plan_entry_when_zero_trading_days_required_allows_expiry_day_itself() -> None:
    settings = TradeSettings(min_trading_days_to_expiry=0)

    legs = plan_entry(make_signal(), date(2026, 12, 1), settings)

    assert {leg.instrument.expiry for leg in legs} == {date(2026, 12, 1)}


@pytest.mark.parametrize(
    ("entry_date", "lots", "expiry", "lot", "quantity"),
    [
        (WEDNESDAY, 1, date(2026, 12, 1), 65, 65),
        (WEDNESDAY, 3, date(2026, 12, 1), 65, 195),
        (date(2025, 12, 29), 2, date(2025, 12, 30), 75, 150),
        # Rolling off the last 2025 expiry lands on a 2026 contract, with the new lot of 65.
        (date(2025, 12, 30), 2, date(2026, 1, 6), 65, 130),
    ],
)
def test_plan_entry_when_lots_given_quantity_is_lots_times_lot_size_of_expiry(
    entry_date: date, lots: int, expiry: date, lot: int, quantity: int
) -> None:
    legs = plan_entry(make_signal(), entry_date, TradeSettings(lots=lots))

    for leg in legs:
        assert leg.instrument.expiry == expiry
        assert leg.lot_size == lot
        assert leg.quantity == quantity


def test_plan_entry_when_hedge_disabled_returns_only_main_leg() -> None:
    legs = plan_entry(make_signal(), WEDNESDAY, TradeSettings(hedge_enabled=False))

    assert len(legs) == 1
    assert (legs[0].leg, legs[0].side) == (Leg.MAIN, Side.SELL)


def test_plan_entry_when_hedge_offset_configured_uses_it() -> None:
    signal = make_signal(signal=SignalName.S3, strike=Decimal(25000), price=None)

    hedge, main = plan_entry(signal, WEDNESDAY, TradeSettings(hedge_offset_points=Decimal(300)))

    assert hedge.instrument.strike - main.instrument.strike == Decimal(300)


# --- main_strike and reference_level --------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "strike"),
    [
        ({"stop_level": Decimal(24850)}, Decimal(24900)),  # ties round up
        ({"stop_level": Decimal("24849.95")}, Decimal(24800)),
        ({"stop_level": Decimal("24950.01")}, Decimal(25000)),
        (
            {"stop_level": Decimal(24850), "strike": Decimal(24500), "price": Decimal(24100)},
            Decimal(24900),
        ),  # sl wins
        (
            {"stop_level": None, "strike": Decimal(24550), "price": Decimal(24100)},
            Decimal(24550),
        ),  # then the alert's strike
        ({"stop_level": None, "strike": None, "price": Decimal(24025)}, Decimal(24050)),
        ({"stop_level": None, "strike": None, "price": Decimal("24024.95")}, Decimal(24000)),
        ({"stop_level": None, "strike": None, "price": Decimal("24074.99")}, Decimal(24050)),
    ],
)
def test_main_strike_when_levels_given_follows_sl_then_strike_then_atm(
    overrides: dict[str, Decimal | None], strike: Decimal
) -> None:
    assert main_strike(make_signal(**overrides)) == strike


def test_main_strike_when_no_level_raises() -> None:
    signal = make_signal(stop_level=None, strike=None, price=None)

    with pytest.raises(ValueError, match="neither sl, strike nor price"):
        main_strike(signal)


@pytest.mark.parametrize(
    ("overrides", "level"),
    [
        (
            {"price": Decimal(24010), "stop_level": Decimal(24850), "strike": Decimal(24500)},
            Decimal(24010),
        ),
        ({"price": None, "stop_level": Decimal(24850), "strike": Decimal(24500)}, Decimal(24850)),
        ({"price": None, "stop_level": None, "strike": Decimal(24500)}, Decimal(24500)),
    ],
)
def test_reference_level_when_levels_given_prefers_price_then_sl_then_strike(
    overrides: dict[str, Decimal | None], level: Decimal
) -> None:
    assert reference_level(make_signal(**overrides)) == level


def test_reference_level_when_no_level_raises() -> None:
    with pytest.raises(ValueError, match="neither price, sl nor strike"):
        reference_level(make_signal(price=None, stop_level=None, strike=None))


# --- plan_exit ------------------------------------------------------------------------------


def test_plan_exit_when_hedged_entry_closes_main_first_with_sides_flipped() -> None:
    entry = plan_entry(make_signal(stop_level=Decimal(24850)), WEDNESDAY, TradeSettings(lots=2))

    exit_legs = plan_exit(entry)

    assert [(leg.leg, leg.side) for leg in exit_legs] == [
        (Leg.MAIN, Side.BUY),
        (Leg.HEDGE, Side.SELL),
    ]
    by_leg = {leg.leg: leg for leg in entry}
    for leg in exit_legs:
        assert leg.instrument == by_leg[leg.leg].instrument
        assert leg.quantity == by_leg[leg.leg].quantity == 130
        assert leg.lot_size == 65


def test_plan_exit_when_unhedged_entry_buys_back_main_only() -> None:
    entry = plan_entry(make_signal(), WEDNESDAY, TradeSettings(hedge_enabled=False))

    exit_legs = plan_exit(entry)

    assert [(leg.leg, leg.side) for leg in exit_legs] == [(Leg.MAIN, Side.BUY)]


def test_plan_exit_when_applied_twice_restores_entry_sides() -> None:
    entry = plan_entry(make_signal(), WEDNESDAY, DEFAULTS)

    again = plan_exit(plan_exit(entry))

    assert {(leg.leg, leg.side) for leg in again} == {(leg.leg, leg.side) for leg in entry}


# --- slices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lots", "expected"),
    [
        (1, [65]),
        (27, [1755]),
        (28, [1755, 65]),
        (30, [1755, 195]),  # freeze 1800 / lot 65 -> 27 lots per order, then 3 lots
        (54, [1755, 1755]),
        (60, [1755, 1755, 390]),
    ],
)
def test_slices_when_quantity_above_freeze_splits_into_27_lot_orders(
    lots: int, expected: list[int]
) -> None:
    plan = LegPlan(Leg.MAIN, make_instrument(), Side.SELL, lots * 65, 65)

    result = slices(plan, WEDNESDAY)

    assert result == expected
    assert sum(result) == lots * 65
    assert all(q % 65 == 0 and q <= 1800 for q in result)


def test_slices_when_quantity_not_multiple_of_lot_raises() -> None:
    plan = LegPlan(Leg.MAIN, make_instrument(), Side.SELL, 100, 65)

    with pytest.raises(ValueError, match="not a positive multiple"):
        slices(plan, WEDNESDAY)
