"""A trade's legs folded from fills: average prices, realised P&L, charges, closing."""

from __future__ import annotations

from decimal import Decimal

from services.ledger.trades import LegBook, LegFill, book_leg, direction, trade_result


def _fill(side: str, purpose: str, qty: int, price: str, charges: str = "0") -> LegFill:
    return LegFill(side, purpose, qty, Decimal(price), Decimal(charges))


def test_book_leg_short_main_opened_and_closed_realises_entry_minus_exit() -> None:
    book = book_leg(
        [
            _fill("SELL", "entry", 65, "100.05", "31.42"),
            _fill("SELL", "entry", 65, "100.15", "31.44"),
            _fill("BUY", "exit", 130, "90.00", "20.10"),
        ]
    )

    assert book.net_quantity == 0
    assert book.entry_quantity == 130
    assert book.average_entry_price == Decimal("100.10")
    assert book.exit_quantity == 130
    assert book.average_exit_price == Decimal("90.00")
    assert book.realized_pnl == Decimal("1313.00")
    assert book.charges == Decimal("82.96")
    assert book.flat


def test_book_leg_long_hedge_closed_at_a_loss_realises_negative() -> None:
    book = book_leg([_fill("BUY", "entry", 65, "20.50"), _fill("SELL", "exit", 65, "12.25")])

    assert book.realized_pnl == Decimal("-536.25")
    assert book.flat


def test_book_leg_partially_closed_keeps_the_open_quantity_and_realises_the_closed_part() -> None:
    book = book_leg([_fill("SELL", "entry", 130, "100"), _fill("BUY", "exit", 65, "80")])

    assert book.net_quantity == -65
    assert book.realized_pnl == Decimal("1300")
    assert not book.flat


def test_book_leg_with_no_exit_has_no_exit_price() -> None:
    book = book_leg([_fill("SELL", "entry", 65, "100")])

    assert book.average_exit_price is None
    assert book.exit_quantity == 0
    assert book.realized_pnl == 0


def _leg(net: int, realized: str, charges: str) -> LegBook:
    return LegBook(net, 65, Decimal(1), 65, Decimal(1), Decimal(realized), Decimal(charges))


def test_trade_result_closed_only_when_every_leg_is_flat() -> None:
    assert not trade_result([_leg(0, "10", "1"), _leg(65, "0", "1")]).closed
    assert trade_result([_leg(0, "10", "1"), _leg(0, "-3", "1")]).closed
    assert not trade_result([]).closed


def test_trade_result_net_is_realised_less_charges_over_legs() -> None:
    result = trade_result([_leg(0, "1313.00", "82.96"), _leg(0, "-536.25", "10.00")])

    assert result.realized_pnl == Decimal("776.75")
    assert result.charges == Decimal("92.96")
    assert result.net_pnl == Decimal("683.79")


def test_direction_of_sold_put_and_bought_call_is_bullish() -> None:
    assert direction("PE", "SELL") == "bullish"
    assert direction("CE", "BUY") == "bullish"
    assert direction("CE", "SELL") == "bearish"
    assert direction("PE", "BUY") == "bearish"
