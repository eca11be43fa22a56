from datetime import date

import pytest

from libs.market.lots import LotSizeUnknownError, lot_size


@pytest.mark.parametrize(
    ("expiry", "lot"),
    [
        (date(2019, 2, 14), 75),
        (date(2021, 6, 24), 75),
        (date(2021, 7, 1), 75),
        (date(2021, 7, 22), 75),
        (date(2021, 7, 29), 50),
        (date(2021, 8, 5), 50),
        (date(2024, 4, 25), 50),
        (date(2024, 5, 2), 25),
        (date(2024, 12, 26), 25),
        (date(2025, 1, 2), 75),
        (date(2025, 1, 23), 75),
        (date(2025, 1, 30), 25),
        (date(2025, 2, 6), 75),
        (date(2025, 12, 30), 75),
        (date(2026, 1, 6), 65),
        (date(2026, 1, 27), 65),
    ],
)
def test_lot_size_when_known_expiry_matches_table(expiry, lot):
    assert lot_size(expiry) == lot


@pytest.mark.parametrize("expiry", [date(2018, 12, 27), date(2024, 4, 30), date(2025, 12, 31)])
def test_lot_size_when_no_contract_expires_raises(expiry):
    with pytest.raises(LotSizeUnknownError):
        lot_size(expiry)
