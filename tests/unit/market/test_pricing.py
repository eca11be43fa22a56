import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.market.calendar import IST, session_close
from libs.market.contract import OptionContract, Right
from libs.market.pricing import (
    bs_greeks,
    bs_price,
    implied_volatility,
    model_price,
    model_value,
    to_model_price,
    year_fraction,
)
from libs.market.volsurface import FlatVolModel


@pytest.mark.parametrize(
    ("spot", "strike", "days", "sigma", "right", "expected"),
    [
        (25000, 24600, 2, 0.12, Right.PE, 2.7281),
        (25000, 24400, 2, 0.12, Right.PE, 0.1816),
        (25000, 25400, 5, 0.15, Right.CE, 48.3299),
        (25000, 25600, 5, 0.15, Right.CE, 20.2037),
    ],
)
def test_bs_price_when_golden_inputs_matches_spec(spot, strike, days, sigma, right, expected):
    assert bs_price(spot, strike, days / 365, sigma, right, 0.065) == pytest.approx(
        expected, abs=1e-4
    )


def test_bs_price_when_textbook_call_matches_hull():
    # Hull, Options, Futures and Other Derivatives: S=42, K=40, r=10 %, sigma=20 %, T=0.5
    assert bs_price(42, 40, 0.5, 0.2, Right.CE, r=0.1) == pytest.approx(4.7594, abs=1e-4)
    assert bs_price(42, 40, 0.5, 0.2, Right.PE, r=0.1) == pytest.approx(0.8086, abs=1e-4)


@pytest.mark.parametrize("strike", [23000, 24800, 25000, 26500])
def test_bs_price_when_call_and_put_satisfy_put_call_parity(strike):
    spot, t, sigma, r = 25000.0, 7 / 365, 0.14, 0.065
    call = bs_price(spot, strike, t, sigma, Right.CE, r)
    put = bs_price(spot, strike, t, sigma, Right.PE, r)
    assert call - put == pytest.approx(spot - strike * math.exp(-r * t), abs=1e-8)


def test_bs_price_when_expired_is_intrinsic():
    assert bs_price(25100, 25000, 0.0, 0.2, Right.CE) == 100
    assert bs_price(25100, 25000, 0.0, 0.2, Right.PE) == 0


@pytest.mark.parametrize("right", [Right.CE, Right.PE])
@pytest.mark.parametrize("sigma", [0.08, 0.15, 0.45])
def test_implied_volatility_when_round_tripped_recovers_sigma(right, sigma):
    price = bs_price(25000, 25300, 4 / 365, sigma, right)
    assert implied_volatility(price, 25000, 25300, 4 / 365, right) == pytest.approx(sigma, abs=1e-7)


def test_implied_volatility_when_below_intrinsic_none():
    assert implied_volatility(50.0, 25200, 25000, 4 / 365, Right.CE) is None


def test_bs_greeks_when_compared_with_finite_differences_agree():
    spot, strike, t, sigma = 25000.0, 25200.0, 10 / 365, 0.13
    greeks = bs_greeks(spot, strike, t, sigma, Right.PE)
    h = 0.5

    def price(s: float = spot, v: float = sigma, tt: float = t) -> float:
        return bs_price(s, strike, tt, v, Right.PE)

    assert greeks.delta == pytest.approx((price(spot + h) - price(spot - h)) / (2 * h), rel=1e-5)
    assert greeks.gamma == pytest.approx(
        (price(spot + h) - 2 * price() + price(spot - h)) / h**2, rel=1e-3
    )
    assert greeks.vega == pytest.approx(
        (price(v=sigma + 1e-5) - price(v=sigma - 1e-5)) / 2e-5, rel=1e-5
    )
    dt = 1e-6
    assert greeks.theta == pytest.approx(
        -(price(tt=t + dt) - price(tt=t - dt)) / (2 * dt), rel=1e-4
    )


def test_year_fraction_when_one_day_before_close_is_one_365th():
    at = session_close(date(2025, 10, 19))
    assert year_fraction(at, date(2025, 10, 20)) == pytest.approx(1 / 365)


def test_year_fraction_when_after_expiry_close_is_zero():
    at = session_close(date(2025, 10, 20)) + timedelta(minutes=1)
    assert year_fraction(at, date(2025, 10, 20)) == 0.0


def test_to_model_price_when_tiny_value_floored_at_one_tick():
    priced = to_model_price(0.0001, 0.1, 0.01)
    assert priced.price == Decimal("0.05")
    assert priced.source == "model"


def test_model_value_when_expired_returns_intrinsic_labelled_model():
    priced = model_value(25123.4, 25000, Right.CE, 0.0, 14.0, FlatVolModel())
    assert priced.price == Decimal("123.40")
    assert priced.source == "model"


def test_model_price_when_flat_model_uses_previous_vix_times_multiplier():
    contract = OptionContract(date(2025, 10, 28), Decimal(24600), Right.PE)
    at = datetime(2025, 10, 23, 10, 15, tzinfo=IST)
    priced = model_price(contract, Decimal(25000), at, 12.0, FlatVolModel(ce=1.0, pe=1.25))
    t = year_fraction(at, contract.expiry)
    expected = bs_price(25000, 24600, t, 0.15, Right.PE)
    assert priced.sigma == pytest.approx(0.15)
    assert priced.theoretical == pytest.approx(expected)
    assert abs(float(priced.price) - expected) <= 0.025 + 1e-9
