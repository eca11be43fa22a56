"""Matching, positions and funds of the Breeze simulator's book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sim.breeze.book import Book
from sim.breeze.faults import Faults, endpoint_of
from sim.breeze.market import Quote, Universe, contract_key, upcoming_tuesdays
from sim.breeze.settings import SimClock, SimSettings
from sim.breeze.validation import OrderSpec, marketable
from sim.breeze.wire import SimReject

EXPIRY = date(2026, 2, 10)
D = Decimal


def make_book() -> Book:
    settings = SimSettings(expiries=(EXPIRY.isoformat(),))
    clock = SimClock()
    return Book(settings, clock, Universe(settings, date(2026, 2, 5)))


def set_quote(book: Book, bid: str, ask: str, bid_qty: int = 1950, ask_qty: int = 1950) -> Quote:
    quote = book.quote(KEY)
    quote.bid, quote.ask, quote.ltp = D(bid), D(ask), (D(bid) + D(ask)) / 2
    quote.bid_qty, quote.ask_qty = bid_qty, ask_qty
    return quote


KEY = contract_key("NIFTY", "options", EXPIRY, "call", D(25000))


def spec(
    book: Book, action: str, price: str, quantity: int = 65, validity: str = "day"
) -> OrderSpec:
    contract = book.universe.contracts[KEY]
    return OrderSpec(
        key=KEY,
        contract=contract,
        exchange_code="NFO",
        action=action,
        order_type="limit",
        quantity=quantity,
        price=D(price),
        stoploss=None,
        validity=validity,
        user_remark="",
    )


def test_marketable_rule() -> None:
    quote = Quote(
        ltp=D(100),
        bid=D("99.5"),
        ask=D("100.5"),
        bid_qty=65,
        ask_qty=65,
        lower=D("0.05"),
        upper=D(500),
        previous_close=D(100),
    )
    assert marketable("buy", D("100.5"), quote)
    assert not marketable("buy", D("100.45"), quote)
    assert marketable("sell", D("99.5"), quote)
    assert not marketable("sell", D("99.55"), quote)
    quote.ask_qty = 0
    assert not marketable("buy", D(200), quote)


def test_buy_fills_at_the_ask_and_debits_premium() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    order = book.place(spec(book, "buy", "101"))
    assert (order.status, order.average_price) == ("Executed", D("100.5"))
    assert book.cash == D(1000000) - D("100.5") * 65
    assert book.positions[KEY].net == 65


def test_non_marketable_rests_and_fills_on_a_new_quote() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    order = book.place(spec(book, "buy", "98"))
    assert order.status == "Ordered"
    assert book.blocked() == D(98) * 65
    set_quote(book, "97", "97.5")
    book.on_quote(KEY)
    assert (order.status, order.average_price) == ("Executed", D("97.5"))
    assert book.blocked() == 0


def test_displayed_quantity_limits_fills_and_depletes() -> None:
    book = make_book()
    quote = set_quote(book, "99.5", "100.5", ask_qty=65)
    order = book.place(spec(book, "buy", "101", quantity=195))
    assert (order.status, order.filled, order.pending) == ("Partially Executed", 65, 130)
    assert quote.ask_qty == 0
    book.on_quote(KEY)  # same quote, nothing left to take
    assert order.filled == 65


def test_ioc_remainder_is_cancelled() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5", ask_qty=65)
    order = book.place(spec(book, "buy", "101", quantity=130, validity="ioc"))
    assert (order.status, order.filled, order.cancelled) == (
        "Partially Executed And Cancelled",
        65,
        65,
    )
    nothing = book.place(spec(book, "buy", "90", validity="ioc"))
    assert (nothing.status, nothing.cancelled) == ("Cancelled", 65)


def test_short_blocks_margin_and_closing_realises_pnl() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    book.place(spec(book, "sell", "99.5", quantity=130))
    assert book.positions[KEY].net == -130
    assert book.blocked() == D(25000) * 130 * D("0.12")
    set_quote(book, "79.5", "80.5")
    book.place(spec(book, "buy", "81", quantity=130))
    position = book.positions[KEY]
    assert (position.net, position.realised) == (0, D(19) * 130)
    assert book.cash == D(1000000) + D(19) * 130
    assert book.position_row(position)["action"] == "NA"


def test_modify_and_cancel_only_when_open() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    order = book.place(spec(book, "buy", "90"))
    book.modify(order.order_id, {"price": "91", "quantity": "130"})
    assert (order.price, order.quantity, order.modification_number) == (D(91), 130, 1)
    book.cancel(order.order_id, applied=False)
    assert order.status == "Ordered"
    book.cancel(order.order_id)
    assert order.status == "Cancelled"
    with pytest.raises(SimReject):
        book.modify(order.order_id, {"price": "92"})
    with pytest.raises(SimReject):
        book.cancel(order.order_id)


def test_price_outside_band_and_insufficient_funds() -> None:
    book = make_book()
    quote = set_quote(book, "99.5", "100.5")
    quote.upper = D(400)
    with pytest.raises(SimReject, match="circuit band"):
        book.place(spec(book, "buy", "401"))
    book.cash = D(1000)
    with pytest.raises(SimReject, match="insufficient funds"):
        book.place(spec(book, "buy", "100"))
    assert book.orders == {}


def test_expire_day_orders_at_the_close() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    order = book.place(spec(book, "buy", "90"))
    assert book.expire_day_orders() == 1
    assert order.status == "Expired"


def test_order_id_shape() -> None:
    book = make_book()
    set_quote(book, "99.5", "100.5")
    order_id = book.place(spec(book, "buy", "90")).order_id
    assert len(order_id) == 18
    assert order_id[8:10] == "14"
    assert order_id.isdigit()


def test_faults_fire_in_order_and_count() -> None:
    faults = Faults()
    faults.add({"kind": "status_500", "endpoint": "order", "method": "POST", "times": 2})
    faults.add({"kind": "drop", "endpoint": "*"})
    assert faults.take("funds", "GET", {"status_500"}) is None
    assert faults.take("order", "post", {"status_500"}) is not None
    assert faults.take("order", "POST", {"status_500"}) is not None
    assert faults.take("order", "POST", {"status_500"}) is None
    assert faults.take("quotes", "GET", {"drop"}) is not None
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.add({"kind": "explode"})
    assert endpoint_of("/breezeapi/api/v1/order") == "order"
    assert endpoint_of("/api/v2/historicalcharts") == "historicalcharts"
    assert endpoint_of("/_sim/book") is None


def test_weekly_expiries_are_tuesdays() -> None:
    days = upcoming_tuesdays(date(2026, 2, 5), 3)
    assert days == [date(2026, 2, 10), date(2026, 2, 17), date(2026, 2, 24)]
    assert upcoming_tuesdays(date(2026, 2, 10), 1) == [date(2026, 2, 10)]
