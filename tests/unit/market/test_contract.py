from datetime import date
from decimal import Decimal

import pytest

from libs.market.contract import (
    TICK_SIZE,
    OptionContract,
    Right,
    ceil_to_tick,
    floor_to_tick,
    round_to_tick,
)
from libs.market.strikes import atm, directional50, offset_strike, round100


def test_round_to_tick_when_between_ticks_rounds_half_up():
    assert round_to_tick(Decimal("100.025")) == Decimal("100.05")
    assert round_to_tick(Decimal("100.024")) == Decimal("100.00")
    assert round_to_tick(Decimal("0.07")) == Decimal("0.05")


def test_floor_and_ceil_to_tick_when_off_tick_move_down_and_up():
    assert floor_to_tick(Decimal("12.34")) == Decimal("12.30")
    assert ceil_to_tick(Decimal("12.31")) == Decimal("12.35")
    assert str(TICK_SIZE) == "0.05"


def test_round100_when_tie_rounds_up_unlike_builtin_round():
    assert round100(Decimal("24850")) == Decimal("24900")
    assert round(24850, -2) == 24800  # the built-in rounds ties to even
    assert round100(Decimal("24849.99")) == Decimal("24800")


def test_directional50_when_just_above_multiple_ce_goes_up():
    assert directional50(Decimal("25000.5"), Right.CE) == Decimal("25050")
    assert directional50(Decimal("25000"), Right.CE) == Decimal("25000")
    assert directional50(Decimal("25049.9"), Right.PE) == Decimal("25000")


def test_atm_when_tie_rounds_up():
    assert atm(Decimal("24925")) == Decimal("24950")
    assert atm(Decimal("24924.95")) == Decimal("24900")


def test_offset_strike_when_hedging_moves_out_of_the_money():
    assert offset_strike(Decimal("25000"), Right.PE, Decimal(200)) == Decimal("24800")
    assert offset_strike(Decimal("25000"), Right.CE, Decimal(200)) == Decimal("25200")


def test_option_contract_id_when_round_tripped_is_stable():
    contract = OptionContract(date(2025, 10, 20), Decimal("25000.00"), Right.CE)
    assert contract.id == "NIFTY-2025-10-20-25000-CE"
    assert OptionContract.from_id(contract.id) == contract
    assert str(contract) == contract.id


def test_option_contract_when_strike_off_grid_raises():
    with pytest.raises(ValueError, match="multiple"):
        OptionContract(date(2025, 10, 20), Decimal("25010"), Right.PE)


def test_option_contract_when_right_given_as_text_normalises():
    contract = OptionContract(date(2025, 10, 20), Decimal(25000), "PE")  # type: ignore[arg-type]
    assert contract.right is Right.PE


def test_intrinsic_value_when_in_and_out_of_the_money():
    call = OptionContract(date(2025, 10, 20), Decimal(25000), Right.CE)
    put = OptionContract(date(2025, 10, 20), Decimal(25000), Right.PE)
    assert call.intrinsic_value(Decimal("25123.4")) == Decimal("123.4")
    assert put.intrinsic_value(Decimal("25123.4")) == Decimal(0)


def test_from_id_when_malformed_raises():
    with pytest.raises(ValueError, match="not an option contract id"):
        OptionContract.from_id("NIFTY-25000-CE")
