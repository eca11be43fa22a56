"""Cross-checks against the real NIFTY data under STRIKEFLOW_DATA_DIR (strategy.md 10.3)."""

import csv
import statistics
from datetime import date
from pathlib import Path

import pytest

from cli.fit_vol_surface import load_eod_observations, load_premium_samples
from libs.market.calendar import HOLIDAY_DATES, SPECIAL_SESSIONS
from libs.market.expiries import monthly_expiry, scheduled_weekday, weekly_expiries
from libs.market.lots import lot_size
from libs.market.packaged import default_surface
from libs.market.pricing import model_value, year_fraction
from libs.market.volsurface import FlatVolModel

pytestmark = pytest.mark.data


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_weekly_expiries_when_compared_with_expiry_file_match_every_row(data_dir):
    rows = [r for r in _rows(data_dir / "nifty_expiries_2019_2025.csv")]
    weekly = [r for r in rows if r["expiry_type"] == "weekly"]
    expected = [date.fromisoformat(r["expiry_date"]) for r in weekly]
    assert len(weekly) == 360
    assert weekly_expiries(date(2019, 1, 1), date(2025, 12, 31)) == sorted(expected)
    for row in weekly:
        scheduled = date.fromisoformat(row["scheduled_expiry"])
        assert scheduled.weekday() == scheduled_weekday(scheduled), row
        shifted = row["shifted_for_holiday"] == "True"
        assert shifted == (row["scheduled_expiry"] != row["expiry_date"]), row
    assert sum(r["shifted_for_holiday"] == "True" for r in weekly) == 16


def test_monthly_expiries_when_compared_with_expiry_file_match_every_row(data_dir):
    monthly = [
        r for r in _rows(data_dir / "nifty_expiries_2019_2025.csv") if r["expiry_type"] == "monthly"
    ]
    assert len(monthly) == 84
    for row in monthly:
        year, month = (int(part) for part in row["contract_month"].split("-"))
        assert monthly_expiry(year, month) == date.fromisoformat(row["expiry_date"]), row


def test_lot_size_when_every_file_expiry_looked_up_is_known(data_dir):
    for row in _rows(data_dir / "nifty_expiries_2019_2025.csv"):
        expiry = date.fromisoformat(row["expiry_date"])
        assert lot_size(expiry) in {75, 50, 25}, row
    spot_checks = {
        date(2024, 4, 25): 50,
        date(2024, 5, 2): 25,
        date(2024, 12, 26): 25,
        date(2025, 1, 2): 75,
        date(2025, 1, 30): 25,
        date(2025, 12, 30): 75,
    }
    assert {d: lot_size(d) for d in spot_checks} == spot_checks


def test_holidays_when_compared_with_holiday_file_are_identical(data_dir):
    listed = {date.fromisoformat(r["date"]) for r in _rows(data_dir / "nse_holidays.csv")}
    assert listed == HOLIDAY_DATES


def test_special_sessions_when_compared_with_session_file_all_present(data_dir):
    listed = {date.fromisoformat(r["date"]) for r in _rows(data_dir / "nse_special_sessions.csv")}
    assert listed <= {s.day for s in SPECIAL_SESSIONS}


def test_surface_when_priced_on_eod_sample_median_error_at_most_8_percent(data_dir):
    surface = default_surface()
    holdout = date.fromisoformat(surface.fit_info["holdout_day"])
    rows = load_eod_observations(data_dir)
    for right in ("CE", "PE"):
        for label, selected in (
            ("all", [r.observation for r in rows]),
            ("holdout", [r.observation for r in rows if r.day == holdout]),
        ):
            errors = [
                abs(
                    float(
                        model_value(
                            o.spot, o.strike, o.right, o.days / 365, o.vix_close, surface
                        ).price
                    )
                    / o.price
                    - 1
                )
                for o in selected
                if o.right.value == right
            ]
            assert statistics.median(errors) <= 0.08, (right, label)


def test_flat_defaults_when_priced_on_0916_samples_median_ratio_near_one(data_dir):
    flat = FlatVolModel()
    samples = load_premium_samples(data_dir)
    for right in ("CE", "PE"):
        ratios = [
            float(
                model_value(
                    s.spot, s.strike, s.right, year_fraction(s.at, s.expiry), s.prev_vix_close, flat
                ).price
            )
            / s.price
            for s in samples
            if s.right.value == right
        ]
        assert 0.85 <= statistics.median(ratios) <= 1.15, right
