"""Volatility for model prices: India VIX scaled by a fitted surface over moneyness and days.

sigma = VIX / 100 * m(type, z, d), where d is days to expiry (floored at `min_days`) and
z = ln(K / S) / (VIX / 100 * sqrt(d / 365)) is the log-moneyness in VIX standard deviations. Per
option type, m = level + term / sqrt(d) + slope * z + curvature * z^2, clipped to
[min_multiplier, max_multiplier]: the term part carries the rise of short-dated volatility, the
slope and curvature the skew and smile, and the clip keeps far out-of-the-money prices from
collapsing to zero (strategy.md section 6.2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares
from scipy.special import ndtr

from libs.market.contract import Right

FloatArray = npt.NDArray[np.float64]

SURFACE_MODEL = "vix_smile_v1"
DEFAULT_FLAT_CE = 1.0
DEFAULT_FLAT_PE = 1.25


class VolModel(Protocol):
    """Anything that turns a VIX close into a Black-Scholes volatility for one option."""

    def sigma(
        self, vix_close: float, right: Right, spot: float, strike: float, days: float
    ) -> float:
        """Annualised volatility for the option."""
        ...


@dataclass(frozen=True)
class FlatVolModel:
    """`pricing.iv_model = flat`: one multiplier on VIX per option type."""

    ce: float = DEFAULT_FLAT_CE
    pe: float = DEFAULT_FLAT_PE

    def sigma(
        self, vix_close: float, right: Right, spot: float, strike: float, days: float
    ) -> float:
        """VIX / 100 times the type's multiplier."""
        return vix_close / 100.0 * (self.ce if right is Right.CE else self.pe)


@dataclass(frozen=True)
class SmileParams:
    """Coefficients of the multiplier for one option type."""

    level: float
    term: float
    slope: float
    curvature: float


@dataclass(frozen=True)
class VolSurface:
    """The fitted surface (`pricing.iv_model = surface`)."""

    ce: SmileParams
    pe: SmileParams
    min_days: float = 0.5
    min_multiplier: float = 0.3
    max_multiplier: float = 8.0
    fit_info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def params(self, right: Right) -> SmileParams:
        """Coefficients for one option type."""
        return self.ce if right is Right.CE else self.pe

    def multiplier(
        self, vix_close: float, right: Right, spot: float, strike: float, days: float
    ) -> float:
        """The factor applied to VIX / 100 for one option."""
        p = self.params(right)
        d = max(days, self.min_days)
        vix = vix_close / 100.0
        z = math.log(strike / spot) / (vix * math.sqrt(d / 365.0))
        m = p.level + p.term / math.sqrt(d) + p.slope * z + p.curvature * z * z
        return min(max(m, self.min_multiplier), self.max_multiplier)

    def sigma(
        self, vix_close: float, right: Right, spot: float, strike: float, days: float
    ) -> float:
        """Annualised volatility: VIX / 100 times the surface multiplier."""
        return vix_close / 100.0 * self.multiplier(vix_close, right, spot, strike, days)

    def to_json(self) -> str:
        """Serialise the parameters (and fit description) to JSON text."""
        payload = {"model": SURFACE_MODEL, **asdict(self)}
        return json.dumps(payload, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VolSurface:
        """Parse parameters written by `to_json`."""
        raw = json.loads(text)
        if raw.get("model") != SURFACE_MODEL:
            raise ValueError(f"unknown surface model {raw.get('model')!r}")
        return cls(
            ce=SmileParams(**raw["ce"]),
            pe=SmileParams(**raw["pe"]),
            min_days=float(raw["min_days"]),
            min_multiplier=float(raw["min_multiplier"]),
            max_multiplier=float(raw["max_multiplier"]),
            fit_info=dict(raw.get("fit_info", {})),
        )


@dataclass(frozen=True)
class SurfaceObservation:
    """One observed option price with the inputs the model sees."""

    right: Right
    spot: float
    strike: float
    days: float
    vix_close: float
    price: float


def _columns(rows: Sequence[SurfaceObservation]) -> tuple[FloatArray, ...]:
    def col(name: str) -> FloatArray:
        return np.array([float(getattr(r, name)) for r in rows], dtype=np.float64)

    return col("spot"), col("strike"), col("days"), col("vix_close"), col("price")


def _bs_vector(
    is_call: bool, spot: FloatArray, strike: FloatArray, t: FloatArray, sigma: FloatArray, r: float
) -> FloatArray:
    vol_t = sigma * np.sqrt(t)
    d1 = (np.log(spot / strike) + (r + 0.5 * sigma * sigma) * t) / vol_t
    d2 = d1 - vol_t
    disc = strike * np.exp(-r * t)
    if is_call:
        return np.asarray(spot * ndtr(d1) - disc * ndtr(d2), dtype=np.float64)
    return np.asarray(disc * ndtr(-d2) - spot * ndtr(-d1), dtype=np.float64)


def _multiplier_vector(
    p: FloatArray,
    spot: FloatArray,
    strike: FloatArray,
    days: FloatArray,
    vix: FloatArray,
    min_days: float,
    bounds: tuple[float, float],
) -> FloatArray:
    d = np.maximum(days, min_days)
    z = np.log(strike / spot) / (vix / 100.0 * np.sqrt(d / 365.0))
    m = p[0] + p[1] / np.sqrt(d) + p[2] * z + p[3] * z * z
    return np.asarray(np.clip(m, bounds[0], bounds[1]), dtype=np.float64)


def _fit_one(rows: Sequence[SurfaceObservation], rate: float, template: VolSurface) -> SmileParams:
    """Least squares on log(model / market) with a soft-L1 loss, for one option type."""
    if len(rows) < 8:
        raise ValueError("too few observations to fit a smile")
    is_call = rows[0].right is Right.CE
    spot, strike, days, vix, price = _columns(rows)
    t = days / 365.0
    bounds = (template.min_multiplier, template.max_multiplier)

    def residuals(p: FloatArray) -> FloatArray:
        m = _multiplier_vector(p, spot, strike, days, vix, template.min_days, bounds)
        model = _bs_vector(is_call, spot, strike, t, vix / 100.0 * m, rate)
        return np.asarray(np.log(np.maximum(model, 0.01) / price), dtype=np.float64)

    start = np.array([1.0, 0.0, 0.0, 0.0])
    result = least_squares(residuals, start, loss="soft_l1", f_scale=0.1)
    level, term, slope, curvature = (round(float(v), 6) for v in result.x)
    return SmileParams(level=level, term=term, slope=slope, curvature=curvature)


def _fit_flat_one(rows: Sequence[SurfaceObservation], rate: float) -> float:
    """One multiplier on VIX for one option type, with the surface's loss."""
    if not rows:
        raise ValueError("no observations to fit a multiplier")
    is_call = rows[0].right is Right.CE
    spot, strike, days, vix, price = _columns(rows)
    t = days / 365.0

    def residuals(p: FloatArray) -> FloatArray:
        model = _bs_vector(is_call, spot, strike, t, vix / 100.0 * p[0], rate)
        return np.asarray(np.log(np.maximum(model, 0.01) / price), dtype=np.float64)

    result = least_squares(residuals, np.array([1.0]), loss="soft_l1", f_scale=0.1)
    return round(float(result.x[0]), 6)


def fit_flat_model(observations: Sequence[SurfaceObservation], rate: float = 0.065) -> FlatVolModel:
    """Best single VIX multiplier per option type (the baseline the surface must beat)."""
    usable = [o for o in observations if o.days > 0 and o.price > 0]
    return FlatVolModel(
        ce=_fit_flat_one([o for o in usable if o.right is Right.CE], rate),
        pe=_fit_flat_one([o for o in usable if o.right is Right.PE], rate),
    )


def fit_vol_surface(
    observations: Sequence[SurfaceObservation],
    rate: float = 0.065,
    fit_info: dict[str, Any] | None = None,
) -> VolSurface:
    """Fit the surface to observed prices (t > 0, price > 0); returns parameters only."""
    usable = [o for o in observations if o.days > 0 and o.price > 0]
    template = VolSurface(ce=SmileParams(1, 0, 0, 0), pe=SmileParams(1, 0, 0, 0))
    calls = [o for o in usable if o.right is Right.CE]
    puts = [o for o in usable if o.right is Right.PE]
    return VolSurface(
        ce=_fit_one(calls, rate, template),
        pe=_fit_one(puts, rate, template),
        min_days=template.min_days,
        min_multiplier=template.min_multiplier,
        max_multiplier=template.max_multiplier,
        fit_info=dict(fit_info or {}),
    )
