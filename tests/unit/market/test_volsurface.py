from libs.market.contract import Right
from libs.market.packaged import default_surface
from libs.market.pricing import bs_price
from libs.market.volsurface import (
    FlatVolModel,
    SmileParams,
    SurfaceObservation,
    VolSurface,
    fit_flat_model,
    fit_vol_surface,
)

SURFACE = VolSurface(
    ce=SmileParams(level=0.8, term=0.7, slope=-0.1, curvature=0.05),
    pe=SmileParams(level=0.8, term=0.4, slope=-0.15, curvature=0.02),
)


def test_multiplier_when_shorter_expiry_is_higher():
    near = SURFACE.multiplier(14.0, Right.PE, 25000, 25000, 1)
    far = SURFACE.multiplier(14.0, Right.PE, 25000, 25000, 30)
    assert near > far


def test_multiplier_when_puts_further_out_of_the_money_rises_with_skew():
    atm = SURFACE.multiplier(14.0, Right.PE, 25000, 25000, 5)
    otm = SURFACE.multiplier(14.0, Right.PE, 25000, 24500, 5)
    assert otm > atm


def test_multiplier_when_extreme_is_clipped():
    assert SURFACE.multiplier(14.0, Right.CE, 25000, 40000, 0.01) == SURFACE.max_multiplier


def test_sigma_when_flat_model_scales_vix():
    assert FlatVolModel(ce=1.0, pe=1.25).sigma(16.0, Right.PE, 25000, 24000, 3) == 0.2


def test_json_when_round_tripped_keeps_parameters():
    assert VolSurface.from_json(SURFACE.to_json()) == SURFACE


def test_default_surface_when_loaded_has_fit_description():
    surface = default_surface()
    assert surface.fit_info["holdout_day"]
    assert 0.3 < surface.multiplier(14.0, Right.CE, 25000, 25200, 3) < 3.0


def _synthetic(surface: VolSurface) -> list[SurfaceObservation]:
    rows = []
    for right in (Right.CE, Right.PE):
        for days in (1, 3, 8, 15, 30):
            for strike in range(24000, 26050, 100):
                sigma = surface.sigma(14.0, right, 25000, strike, days)
                price = bs_price(25000, strike, days / 365, sigma, right)
                if price > 0.5:
                    rows.append(SurfaceObservation(right, 25000, strike, days, 14.0, price))
    return rows


def test_fit_vol_surface_when_data_from_known_surface_recovers_it():
    fitted = fit_vol_surface(_synthetic(SURFACE))
    for right in (Right.CE, Right.PE):
        for strike, days in ((24500, 2), (25000, 10), (25500, 20)):
            expected = SURFACE.multiplier(14.0, right, 25000, strike, days)
            got = fitted.multiplier(14.0, right, 25000, strike, days)
            assert abs(got - expected) < 0.01


def test_fit_flat_model_when_data_from_flat_recovers_multipliers():
    flat = FlatVolModel(ce=1.1, pe=1.3)
    rows = []
    for right in (Right.CE, Right.PE):
        for strike in range(24500, 25550, 50):
            price = bs_price(
                25000, strike, 5 / 365, flat.sigma(14.0, right, 25000, strike, 5), right
            )
            rows.append(SurfaceObservation(right, 25000, strike, 5, 14.0, price))
    fitted = fit_flat_model(rows)
    assert abs(fitted.ce - 1.1) < 1e-3
    assert abs(fitted.pe - 1.3) < 1e-3
