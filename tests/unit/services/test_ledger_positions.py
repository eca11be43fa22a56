"""Position arithmetic (services/ledger/positions.py)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.positions import ZERO, Position, apply_fill

LOT = 65
PAISA = Decimal("0.01")


def fills(*steps: tuple[int, str]) -> Position:
    position = Position()
    for quantity, price in steps:
        position = apply_fill(position, quantity, Decimal(price))
    return position


def test_apply_fill_when_flat_and_selling_opens_short_at_fill_price() -> None:
    position = apply_fill(Position(), -LOT, Decimal(100))

    assert position == Position(-LOT, Decimal(100), ZERO)


def test_apply_fill_when_flat_and_buying_opens_long_at_fill_price() -> None:
    position = apply_fill(Position(), 2 * LOT, Decimal("12.35"))

    assert position == Position(2 * LOT, Decimal("12.35"), ZERO)


def test_apply_fill_when_adding_to_short_averages_the_price() -> None:
    position = fills((-LOT, "100"), (-LOT, "110"))

    assert position.net_quantity == -2 * LOT
    assert position.average_price == Decimal(105)
    assert position.realized_pnl == ZERO


def test_apply_fill_when_adding_unequal_sizes_weights_the_average() -> None:
    position = fills((-LOT, "100"), (-3 * LOT, "120"))

    assert position.net_quantity == -4 * LOT
    assert position.average_price == Decimal(115)


def test_apply_fill_when_short_fully_covered_lower_realises_profit() -> None:
    position = fills((-LOT, "100"), (LOT, "80"))

    assert position.realized_pnl == Decimal(1300)


def test_apply_fill_when_short_covered_higher_realises_loss() -> None:
    position = fills((-LOT, "100"), (LOT, "120"))

    assert position.realized_pnl == Decimal(-1300)


def test_apply_fill_when_short_partially_covered_keeps_average_and_realises_part() -> None:
    position = fills((-2 * LOT, "100"), (LOT, "80"))

    assert position == Position(-LOT, Decimal(100), Decimal(1300))


def test_apply_fill_when_long_partially_sold_higher_realises_profit() -> None:
    position = fills((2 * LOT, "50"), (-LOT, "60"))

    assert position == Position(LOT, Decimal(50), Decimal(650))


def test_apply_fill_when_fully_closed_resets_average_to_zero() -> None:
    position = fills((-LOT, "100"), (-LOT, "110"), (2 * LOT, "90"))

    assert position == Position(0, ZERO, Decimal(15) * 2 * LOT)


def test_apply_fill_when_reopened_after_close_does_not_blend_old_average() -> None:
    position = fills((-LOT, "100"), (LOT, "80"), (-LOT, "50"))

    assert position == Position(-LOT, Decimal(50), Decimal(1300))


def test_apply_fill_when_short_flips_to_long_realises_short_and_opens_at_fill_price() -> None:
    position = fills((-LOT, "100"), (2 * LOT, "90"))

    assert position == Position(LOT, Decimal(90), Decimal(650))


def test_apply_fill_when_long_flips_to_short_realises_long_and_opens_at_fill_price() -> None:
    position = fills((LOT, "100"), (-3 * LOT, "90"))

    assert position == Position(-2 * LOT, Decimal(90), Decimal(-650))


def test_apply_fill_when_average_not_terminating_realises_within_a_paisa_residue() -> None:
    position = fills((-LOT, "0.05"), (-2 * LOT, "0.10"), (3 * LOT, "0.05"))

    # The average 0.0833.. cannot be held exactly; the residue must stay far below a paisa.
    assert abs(position.realized_pnl - Decimal("6.50")) < Decimal("1e-18")
    assert position.realized_pnl.quantize(PAISA) == Decimal("6.50")


def test_apply_fill_when_quantity_zero_returns_position_unchanged() -> None:
    before = Position(-LOT, Decimal(100), Decimal(5))

    assert apply_fill(before, 0, Decimal(999)) is before


# --- property: a round trip's realised P&L is sell notional minus buy notional --------------

PRICES = st.integers(min_value=1, max_value=20_000).map(lambda ticks: ticks * Decimal("0.05"))
SIGNED_LOTS = st.integers(min_value=-30, max_value=30).filter(lambda n: n != 0)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(SIGNED_LOTS, PRICES), min_size=1, max_size=12), close=PRICES)
def test_apply_fill_when_fills_net_to_zero_realised_equals_sells_minus_buys(
    steps: list[tuple[int, Decimal]], close: Decimal
) -> None:
    trades = [(lots * LOT, price) for lots, price in steps]
    remaining = sum(quantity for quantity, _ in trades)
    if remaining:
        trades.append((-remaining, close))

    position = Position()
    for quantity, price in trades:
        position = apply_fill(position, quantity, price)

    sells = sum((-q * p for q, p in trades if q < 0), ZERO)
    buys = sum((q * p for q, p in trades if q > 0), ZERO)
    assert position.net_quantity == 0
    assert position.average_price == ZERO
    # The average is a Decimal division (28 significant digits), so a non-terminating average
    # such as 0.25 / 3 leaves a residue near 1e-27: exact to the paisa, not to the last digit.
    assert abs(position.realized_pnl - (sells - buys)) < Decimal("1e-18")
    assert position.realized_pnl.quantize(PAISA) == (sells - buys).quantize(PAISA)
