"""The fitted volatility-surface parameters shipped with the package (vol_surface_params.json)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from libs.market.volsurface import VolSurface

PARAMS_FILE = "vol_surface_params.json"


@cache
def default_surface() -> VolSurface:
    """The surface fitted by `cli.fit_vol_surface` and versioned with the code."""
    text = resources.files("libs.market").joinpath(PARAMS_FILE).read_text(encoding="utf-8")
    return VolSurface.from_json(text)
