from datetime import date

import pytest

from libs.market.freeze import freeze_quantity, max_order_quantity, split_by_freeze


def test_freeze_quantity_when_2026_is_1800():
    assert freeze_quantity(date(2026, 8, 3)) == 1800
    assert freeze_quantity(date(2019, 6, 3)) == 1800


def test_max_order_quantity_when_lot_65_is_27_lots():
    assert max_order_quantity(65, 1800) == 1755


def test_split_by_freeze_when_lot_75_slices_24_lots():
    assert split_by_freeze(75 * 50, 75, 1800) == [1800, 1800, 150]


def test_split_by_freeze_when_lot_65_slices_27_lots():
    assert split_by_freeze(65 * 30, 65, 1800) == [1755, 195]


def test_split_by_freeze_when_under_limit_single_order():
    assert split_by_freeze(130, 65, 1800) == [130]


def test_split_by_freeze_when_exact_multiple_no_remainder():
    assert split_by_freeze(3600, 75, 1800) == [1800, 1800]


def test_split_by_freeze_when_not_whole_lots_raises():
    with pytest.raises(ValueError, match="multiple"):
        split_by_freeze(100, 65, 1800)


def test_split_by_freeze_when_lot_exceeds_freeze_raises():
    with pytest.raises(ValueError, match="exceeds"):
        split_by_freeze(2000, 2000, 1800)
