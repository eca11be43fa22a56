"""Black-Scholes prices and greeks for European index options, and labelled model prices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from scipy.optimize import brentq

from libs.market.calendar import session_close, to_ist
from libs.market.contract import TICK_SIZE, OptionContract, Right, round_to_tick

if TYPE_CHECKING:
    from libs.market.volsurface import VolModel

DEFAULT_RATE = 0.065
DEFAULT_DIVIDEND_YIELD = 0.0
SECONDS_PER_YEAR = 365.0 * 24 * 3600
MODEL_PRICE_BANNER = "Model prices (Black-Scholes on India VIX), not market data"


@dataclass(frozen=True)
class Greeks:
    """Sensitivities per unit of the underlying: vega per 1.00 of vol, theta per year."""

    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


@dataclass(frozen=True)
class ModelPrice:
    """A Black-Scholes price, always labelled as a model figure, never market data."""

    price: Decimal
    theoretical: float
    sigma: float
    time_to_expiry: float
    source: Literal["model"] = "model"


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def year_fraction(at: datetime, expiry: date) -> float:
    """ACT/365 time from `at` to 15:30 IST on the expiry day, floored at zero."""
    seconds = (session_close(expiry) - to_ist(at)).total_seconds()
    return max(seconds, 0.0) / SECONDS_PER_YEAR


def intrinsic(spot: float, strike: float, right: Right) -> float:
    """Intrinsic value of a call or put."""
    return max(spot - strike, 0.0) if right is Right.CE else max(strike - spot, 0.0)


def _d1_d2(
    spot: float, strike: float, t: float, sigma: float, r: float, q: float
) -> tuple[float, float]:
    vol_t = sigma * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r - q + 0.5 * sigma * sigma) * t) / vol_t
    return d1, d1 - vol_t


def bs_price(
    spot: float,
    strike: float,
    t: float,
    sigma: float,
    right: Right,
    r: float = DEFAULT_RATE,
    q: float = DEFAULT_DIVIDEND_YIELD,
) -> float:
    """Black-Scholes value of a European call or put; intrinsic at t = 0 or sigma = 0."""
    if spot <= 0 or strike <= 0:
        raise ValueError("spot and strike must be positive")
    if t <= 0 or sigma <= 0:
        return intrinsic(spot, strike, right)
    d1, d2 = _d1_d2(spot, strike, t, sigma, r, q)
    disc_q, disc_r = math.exp(-q * t), math.exp(-r * t)
    if right is Right.CE:
        return spot * disc_q * _norm_cdf(d1) - strike * disc_r * _norm_cdf(d2)
    return strike * disc_r * _norm_cdf(-d2) - spot * disc_q * _norm_cdf(-d1)


def bs_greeks(
    spot: float,
    strike: float,
    t: float,
    sigma: float,
    right: Right,
    r: float = DEFAULT_RATE,
    q: float = DEFAULT_DIVIDEND_YIELD,
) -> Greeks:
    """Black-Scholes greeks of a European call or put (t > 0, sigma > 0)."""
    if t <= 0 or sigma <= 0:
        raise ValueError("greeks need t > 0 and sigma > 0")
    d1, d2 = _d1_d2(spot, strike, t, sigma, r, q)
    disc_q, disc_r = math.exp(-q * t), math.exp(-r * t)
    pdf = _norm_pdf(d1)
    gamma = disc_q * pdf / (spot * sigma * math.sqrt(t))
    vega = spot * disc_q * pdf * math.sqrt(t)
    decay = -spot * disc_q * pdf * sigma / (2.0 * math.sqrt(t))
    if right is Right.CE:
        delta = disc_q * _norm_cdf(d1)
        theta = decay - r * strike * disc_r * _norm_cdf(d2) + q * spot * disc_q * _norm_cdf(d1)
        rho = strike * t * disc_r * _norm_cdf(d2)
    else:
        delta = -disc_q * _norm_cdf(-d1)
        theta = decay + r * strike * disc_r * _norm_cdf(-d2) - q * spot * disc_q * _norm_cdf(-d1)
        rho = -strike * t * disc_r * _norm_cdf(-d2)
    return Greeks(delta=delta, gamma=gamma, vega=vega, theta=theta, rho=rho)


def implied_volatility(
    price: float,
    spot: float,
    strike: float,
    t: float,
    right: Right,
    r: float = DEFAULT_RATE,
    q: float = DEFAULT_DIVIDEND_YIELD,
) -> float | None:
    """Volatility that reproduces `price`, or None when no volatility in (0.1 %, 500 %] does."""
    low, high = 1e-3, 5.0
    if t <= 0:
        return None
    f_low = bs_price(spot, strike, t, low, right, r, q) - price
    f_high = bs_price(spot, strike, t, high, right, r, q) - price
    if f_low > 0 or f_high < 0:
        return None
    return float(
        brentq(lambda s: bs_price(spot, strike, t, s, right, r, q) - price, low, high, xtol=1e-10)
    )


def to_model_price(theoretical: float, sigma: float, t: float) -> ModelPrice:
    """Label a Black-Scholes value: round to the tick, floor at one tick."""
    price = max(round_to_tick(Decimal(repr(theoretical))), TICK_SIZE)
    return ModelPrice(price=price, theoretical=theoretical, sigma=sigma, time_to_expiry=t)


def model_value(
    spot: float,
    strike: float,
    right: Right,
    t: float,
    vix_close: float,
    vol_model: VolModel,
    rate: float = DEFAULT_RATE,
    dividend_yield: float = DEFAULT_DIVIDEND_YIELD,
) -> ModelPrice:
    """Model price for `t` years to expiry with sigma from a VIX close and a volatility model."""
    if t <= 0:
        return to_model_price(intrinsic(spot, strike, right), 0.0, 0.0)
    sigma = vol_model.sigma(vix_close, right, spot, strike, t * 365.0)
    theoretical = bs_price(spot, strike, t, sigma, right, rate, dividend_yield)
    return to_model_price(theoretical, sigma, t)


def model_price(
    contract: OptionContract,
    spot: Decimal,
    at: datetime,
    prev_vix_close: float,
    vol_model: VolModel,
    rate: float = DEFAULT_RATE,
    dividend_yield: float = DEFAULT_DIVIDEND_YIELD,
) -> ModelPrice:
    """Model price of a contract at a fill time (strategy.md 6.2; VIX of the previous day)."""
    t = year_fraction(at, contract.expiry)
    return model_value(
        float(spot),
        float(contract.strike),
        contract.right,
        t,
        prev_vix_close,
        vol_model,
        rate,
        dividend_yield,
    )
