from datetime import date
from decimal import Decimal

import pytest

from libs.market.charges import (
    Brokerage,
    ChargeBreakdown,
    Side,
    exercise_charges,
    order_charges,
    rates_on,
    round_paisa,
)

APRIL_2026 = date(2026, 4, 6)
PRICE = Decimal(100)


def test_order_charges_when_sell_golden_values_per_order():
    sell = order_charges(Side.SELL, PRICE, 65, APRIL_2026)
    assert sell == ChargeBreakdown(
        brokerage=Decimal("20.00"),
        stt=Decimal("9.75"),
        exchange=Decimal("2.31"),
        sebi=Decimal("0.01"),
        stamp=Decimal(0),
        gst=Decimal("4.02"),
    )
    assert sell.total == Decimal("36.09")


def test_order_charges_when_buy_golden_values_per_order():
    buy = order_charges(Side.BUY, PRICE, 65, APRIL_2026)
    assert buy.stamp == Decimal("0.20")
    assert buy.stt == Decimal(0)
    assert buy.total == Decimal("26.54")


def test_round_trip_when_rounded_per_order_is_62_63():
    total = order_charges(Side.SELL, PRICE, 65, APRIL_2026) + order_charges(
        Side.BUY, PRICE, 65, APRIL_2026
    )
    assert total.total == Decimal("62.63")


def test_round_trip_when_computed_on_totals_is_62_61():
    sell = order_charges(Side.SELL, PRICE, 65, APRIL_2026, round_each=False)
    buy = order_charges(Side.BUY, PRICE, 65, APRIL_2026, round_each=False)
    both = (sell + buy).rounded()
    assert both.stt == Decimal("9.75")
    assert both.exchange == Decimal("4.62")
    assert both.sebi == Decimal("0.01")
    assert both.stamp == Decimal("0.20")
    assert both.brokerage == Decimal("40.00")
    assert both.gst == Decimal("8.03")
    assert round_paisa((sell + buy).total) == Decimal("62.61")


@pytest.mark.parametrize(
    ("trade_date", "stt"),
    [
        (date(2023, 3, 31), Decimal("0.0005")),
        (date(2023, 4, 1), Decimal("0.000625")),
        (date(2024, 9, 30), Decimal("0.000625")),
        (date(2024, 10, 1), Decimal("0.001")),
        (date(2026, 3, 31), Decimal("0.001")),
        (date(2026, 4, 1), Decimal("0.0015")),
    ],
)
def test_rates_on_when_date_given_uses_stt_in_force(trade_date, stt):
    assert rates_on(trade_date).stt_sell == stt


def test_rates_on_when_before_uniform_exchange_fee_uses_slab_default():
    assert rates_on(date(2024, 9, 30)).exchange == Decimal("0.0005")
    assert rates_on(date(2024, 9, 30), Decimal("0.00053")).exchange == Decimal("0.00053")
    assert rates_on(date(2024, 10, 1)).exchange == Decimal("0.0003553")


def test_order_charges_when_per_lot_brokerage_scales_with_lots():
    plan = Brokerage.flat_per_lot(Decimal(9))
    charges = order_charges(Side.BUY, PRICE, 130, APRIL_2026, lot_size=65, brokerage=plan)
    assert charges.brokerage == Decimal("18.00")


def test_order_charges_when_per_lot_without_lot_size_raises():
    with pytest.raises(ValueError, match="lot size"):
        order_charges(
            Side.BUY, PRICE, 130, APRIL_2026, brokerage=Brokerage.flat_per_lot(Decimal(9))
        )


def test_brokerage_when_both_plans_set_raises():
    with pytest.raises(ValueError, match="exactly one"):
        Brokerage(per_order=Decimal(20), per_lot=Decimal(9))


def test_exercise_charges_when_in_the_money_long_pays_stt_on_intrinsic():
    charges = exercise_charges(Decimal(40), Decimal(25040), 65, date(2026, 4, 7))
    assert charges == ChargeBreakdown(stt=Decimal("3.90"))


def test_exercise_charges_when_before_september_2019_uses_settlement_value():
    charges = exercise_charges(Decimal(40), Decimal(11040), 75, date(2019, 8, 29))
    assert charges.stt == round_paisa(Decimal(11040) * 75 * Decimal("0.00125"))


def test_exercise_charges_when_out_of_the_money_nothing():
    assert exercise_charges(Decimal(0), Decimal(25000), 65, date(2026, 4, 7)).total == 0
