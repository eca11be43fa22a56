"""The real breeze-connect SDK against the local Breeze simulator (breeze.md 7.8, item 1).

No Kafka or PostgreSQL: the simulator runs in-process on a loopback port, and every socket the
process opens is checked to stay on 127.0.0.1 (the SDK must never reach ICICI's hosts).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.executor.adapters.breeze_sdk import (
    DEFAULT_TIMEOUT,
    create_breeze_client,
    load_breeze_sdk,
)
from sim.breeze.server import SimServer
from sim.breeze.settings import SimSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APP_KEY = "SIM-APP-KEY"
SECRET = "sim-secret-key"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


class LoopbackGuard:
    """Records every outgoing connection and name lookup; refuses anything off loopback."""

    def __init__(self) -> None:
        self.peers: list[str] = []
        self.refused: list[str] = []

    def check(self, host: object) -> None:
        name = str(host)
        self.peers.append(name)
        if name not in LOOPBACK_NAMES:
            self.refused.append(name)
            raise OSError(f"test guard: connection to {name} refused (loopback only)")


@pytest.fixture(scope="module")
def guard() -> Iterator[LoopbackGuard]:
    watcher = LoopbackGuard()
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            watcher.check(address[0])
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            watcher.check(host.decode() if isinstance(host, bytes) else host)
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield watcher


@pytest.fixture(scope="module")
def sim(guard: LoopbackGuard, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    del guard
    load_breeze_sdk(tmp_path_factory.mktemp("breeze-sdk"))
    with SimServer(SimSettings(app_key=APP_KEY, secret_key=SECRET)) as server:
        yield server


@pytest.fixture
def control(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sim.url}/_sim", timeout=5) as client:
        client.post("/reset").raise_for_status()
        yield client


@pytest.fixture
def api_session(control: httpx.Client) -> str:
    """A fresh API_Session, as the daily browser login would give."""
    reply = control.post("/sessions", json={})
    reply.raise_for_status()
    return str(reply.json()["api_session"])


@pytest.fixture
def breeze(sim: SimServer, api_session: str) -> Any:
    client = create_breeze_client(APP_KEY, sim.url)
    client.generate_session(api_secret=SECRET, session_token=api_session)
    return client


@pytest.fixture
def expiry(sim: SimServer) -> date:
    return sim.state.universe.expiries[0]


def iso(day: date) -> str:
    return f"{day.isoformat()}T06:00:00.000Z"


def contract(expiry: date, strike: str = "25000", right: str = "call") -> dict[str, str]:
    return {
        "stock_code": "NIFTY",
        "exchange_code": "NFO",
        "expiry_date": iso(expiry),
        "right": right,
        "strike_price": strike,
    }


def set_quote(control: httpx.Client, expiry: date, **fields: Any) -> None:
    body = {"expiry_date": expiry.isoformat(), "right": "call", "strike_price": "25000"}
    body.update(fields)
    control.post("/quotes", json=body).raise_for_status()


def place(
    breeze: Any, expiry: date, action: str, price: str, quantity: str = "65", **extra: str
) -> dict[str, Any]:
    order = dict(
        contract(expiry),
        product="options",
        action=action,
        order_type="limit",
        quantity=quantity,
        price=price,
        validity="day",
    )
    order.update(extra)
    result: dict[str, Any] = breeze.place_order(**order)
    return result


def today_range(control: httpx.Client) -> dict[str, str]:
    """The simulator's trading day (IST) as the order-list date range."""
    today = control.get("/health").json()["today_ist"]
    return {"from_date": f"{today}T00:00:00.000Z", "to_date": f"{today}T23:59:59.000Z"}


def book(control: httpx.Client) -> dict[str, Any]:
    reply = control.get("/book")
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result


def order_in_book(control: httpx.Client, order_id: str) -> dict[str, Any]:
    return next(o for o in book(control)["orders"] if o["order_id"] == order_id)


def fault(control: httpx.Client, **spec: Any) -> None:
    control.post("/faults", json=spec).raise_for_status()


# ------------------------------------------------------------------------------------ session
def test_generate_session_decodes_the_session_token(breeze: Any, api_session: str) -> None:
    assert breeze.user_id == "SIMUSER1"
    assert breeze.session_key
    details = breeze.get_customer_details(api_session=api_session)
    assert details["Status"] == 200
    assert details["Error"] is None
    assert details["Success"]["idirect_userid"] == "SIMUSER1"
    assert "session_token" not in details["Success"]  # the SDK strips it


def test_login_loads_the_simulated_security_master(breeze: Any, expiry: date) -> None:
    name = f"OPT-NIFTY-{expiry:%d-%b-%Y}-25000-CE"
    assert name in breeze.stock_script_dict_list[4]  # NFO token map built at generate_session


def test_wrong_secret_gives_the_gateway_checksum_error(
    sim: SimServer, api_session: str, control: httpx.Client
) -> None:
    client = create_breeze_client(APP_KEY, sim.url)
    # customerdetails is unsigned, so the login itself succeeds with a wrong secret ...
    client.generate_session(api_secret="not-the-secret", session_token=api_session)
    # ... and the first signed call fails the checksum, with no Success key.
    assert client.get_funds() == {"Status": 5, "Error": "Authentication Fail :: Invalid Checksum."}
    assert book(control)["orders"] == []


def test_unknown_api_session_and_app_key_raise_the_sdk_login_errors(sim: SimServer) -> None:
    client = create_breeze_client(APP_KEY, sim.url)
    with pytest.raises(Exception, match="Please check session key"):
        client.generate_session(api_secret=SECRET, session_token="99999999")
    other = create_breeze_client("UNKNOWN-KEY", sim.url)
    with pytest.raises(Exception, match="Please check api key"):
        other.generate_session(api_secret=SECRET, session_token="12345678")


def test_expired_session_gives_session_errors(
    breeze: Any, sim: SimServer, control: httpx.Client, api_session: str
) -> None:
    assert breeze.get_funds()["Status"] == 200
    control.post("/sessions/expire").raise_for_status()
    assert breeze.get_funds() == {"Success": None, "Status": 500, "Error": "Invalid User Details"}
    again = create_breeze_client(APP_KEY, sim.url)
    with pytest.raises(Exception, match="Session key is expired"):
        again.generate_session(api_secret=SECRET, session_token=api_session)


# ------------------------------------------------------------------------------------- orders
def test_marketable_limit_fills_at_the_ask(
    breeze: Any, control: httpx.Client, expiry: date
) -> None:
    set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    result = place(breeze, expiry, "buy", "121")
    assert result["Status"] == 200
    assert result["Error"] is None
    assert result["Success"]["message"] == "Successfully Placed the order"
    order_id = result["Success"]["order_id"]
    assert len(order_id) == 18
    assert order_id[8:10] == "14"
    detail = breeze.get_order_detail(exchange_code="NFO", order_id=order_id)
    assert detail["Status"] == 200
    row = detail["Success"][0]
    assert (row["status"], row["average_price"], row["pending_quantity"]) == (
        "Executed",
        "120.50",
        "0",
    )
    assert (row["action"], row["order_type"], row["right"], row["expiry_date"]) == (
        "Buy",
        "Limit",
        "Call",
        expiry.strftime("%d-%b-%Y"),
    )
    assert order_in_book(control, order_id)["status"] == "Executed"


def test_non_marketable_limit_rests_then_modify_and_cancel(
    breeze: Any, control: httpx.Client, expiry: date
) -> None:
    set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    resting = place(breeze, expiry, "buy", "110")["Success"]["order_id"]
    assert order_in_book(control, resting)["status"] == "Ordered"

    modified = breeze.modify_order(
        order_id=resting, exchange_code="NFO", order_type="limit", quantity="130", price="111"
    )
    assert modified["Status"] == 200
    assert modified["Success"]["message"] == "Successfully Modified the order"
    row = order_in_book(control, resting)
    assert (row["status"], row["price"], row["quantity"], row["modification_number"]) == (
        "Ordered",
        "111.00",
        "130",
        "1",
    )

    cancelled = breeze.cancel_order(exchange_code="NFO", order_id=resting)
    assert cancelled["Status"] == 200
    assert cancelled["Success"]["message"] == "Your Order Canceled successfully."
    row = order_in_book(control, resting)
    assert (row["status"], row["cancelled_quantity"]) == ("Cancelled", "130")
    # The SDK refuses to modify an order that is no longer open (client-side, 2nd call only).
    late = breeze.modify_order(order_id=resting, exchange_code="NFO", price="112")
    assert late == {
        "Success": "",
        "Status": 500,
        "Error": "Order has already been executed and cannot be modified.",
    }


def test_modify_into_the_quote_fills(breeze: Any, control: httpx.Client, expiry: date) -> None:
    set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    order_id = place(breeze, expiry, "sell", "125")["Success"]["order_id"]
    assert (
        breeze.modify_order(order_id=order_id, exchange_code="NFO", price="119.5")["Status"] == 200
    )
    row = breeze.get_order_detail(exchange_code="NFO", order_id=order_id)["Success"][0]
    assert (row["status"], row["average_price"]) == ("Executed", "119.50")


def test_order_list_and_validation_errors(breeze: Any, control: httpx.Client, expiry: date) -> None:
    first = place(breeze, expiry, "buy", "1")["Success"]["order_id"]
    second_id = place(breeze, expiry, "buy", "2", strike_price="25100")["Success"]["order_id"]
    listing = breeze.get_order_list(exchange_code="NFO", **today_range(control))
    assert listing["Status"] == 200
    assert {r["order_id"] for r in listing["Success"]} == {first, second_id}

    odd_lot = place(breeze, expiry, "buy", "2", quantity="50")
    assert odd_lot["Success"] is None
    assert odd_lot["Status"] == 500
    assert "lot size 65" in odd_lot["Error"]
    unknown = place(breeze, expiry, "buy", "2", strike_price="25025")
    assert unknown == {"Success": None, "Status": 500, "Error": "No Data Found"}
    off_tick = place(breeze, expiry, "buy", "2.03")
    assert off_tick["Status"] == 500
    assert "tick" in off_tick["Error"]
    assert len(book(control)["orders"]) == 2


def test_positions_funds_and_square_off(breeze: Any, control: httpx.Client, expiry: date) -> None:
    set_quote(control, expiry, ltp="100", best_bid_price="99.5", best_offer_price="100.5")
    before = breeze.get_funds()["Success"]["allocated_fno"]
    assert place(breeze, expiry, "buy", "101", quantity="130")["Status"] == 200
    funds = breeze.get_funds()
    assert funds["Status"] == 200
    assert funds["Success"]["allocated_fno"] == pytest.approx(before - 130 * 100.5)
    positions = breeze.get_portfolio_positions()
    assert positions["Status"] == 200
    row = positions["Success"][0]
    assert (row["action"], row["quantity"], row["average_price"], row["right"]) == (
        "Buy",
        "130",
        "100.50",
        "Call",
    )

    set_quote(control, expiry, ltp="110", best_bid_price="109.5", best_offer_price="110.5")
    squared = breeze.square_off(
        source_flag="",
        stock_code="NIFTY",
        exchange_code="NFO",
        quantity="130",
        price="109",
        action="sell",
        order_type="limit",
        validity="day",
        product="options",
        expiry_date=iso(expiry),
        right="call",
        strike_price="25000",
    )
    assert squared["Status"] == 200
    assert squared["Error"] is None
    flat = breeze.get_portfolio_positions()["Success"][0]
    assert (flat["action"], flat["quantity"], flat["pnl"]) == ("NA", "0", f"{130 * 9:.2f}")
    state = book(control)
    assert [o["status"] for o in state["orders"]] == ["Executed", "Executed"]
    assert state["funds"]["allocated_fno"] == pytest.approx(before + 130 * 9)

    nothing = breeze.square_off(
        source_flag="",
        stock_code="NIFTY",
        exchange_code="NFO",
        quantity="65",
        price="109",
        action="sell",
        order_type="limit",
        validity="day",
        product="options",
        expiry_date=iso(expiry),
        right="call",
        strike_price="25000",
    )
    assert nothing["Status"] == 500
    assert "no open position" in nothing["Error"]


def test_short_option_blocks_margin(breeze: Any, control: httpx.Client, expiry: date) -> None:
    set_quote(control, expiry, ltp="100", best_bid_price="99.5", best_offer_price="100.5")
    assert place(breeze, expiry, "sell", "99.5")["Status"] == 200
    funds = breeze.get_funds()["Success"]
    assert funds["block_by_trade_fno"] == pytest.approx(25000 * 65 * 0.12)
    assert breeze.get_portfolio_positions()["Success"][0]["action"] == "Sell"


def test_quotes_default_then_scripted(breeze: Any, control: httpx.Client, expiry: date) -> None:
    default = breeze.get_quotes(**contract(expiry), product_type="options")
    assert default["Status"] == 200
    row = default["Success"][0]
    assert row["best_bid_price"] < row["ltp"] < row["best_offer_price"]
    assert row["lower_circuit"] < row["best_bid_price"]
    set_quote(control, expiry, ltp="42.35")
    row = breeze.get_quotes(**contract(expiry), product_type="options")["Success"][0]
    assert (row["ltp"], row["best_bid_price"], row["best_offer_price"]) == (42.35, 42.1, 42.6)
    missing = breeze.get_quotes(**contract(expiry, strike="99999"), product_type="options")
    assert missing == {"Success": None, "Status": 500, "Error": "No Data Found"}
    chain = breeze.get_option_chain_quotes(
        stock_code="NIFTY",
        exchange_code="NFO",
        product_type="options",
        expiry_date=iso(expiry),
        right="put",
    )
    assert chain["Status"] == 200
    assert len(chain["Success"]) == 81
    assert {r["right"] for r in chain["Success"]} == {"Put"}


def test_partial_fill_then_rest_fills_on_a_new_quote(
    breeze: Any, control: httpx.Client, expiry: date
) -> None:
    set_quote(
        control,
        expiry,
        ltp="80",
        best_bid_price="79.5",
        best_offer_price="80.5",
        best_offer_quantity=65,
    )
    order_id = place(breeze, expiry, "buy", "81", quantity="195")["Success"]["order_id"]
    row = breeze.get_order_detail(exchange_code="NFO", order_id=order_id)["Success"][0]
    assert (row["status"], row["pending_quantity"], row["average_price"]) == (
        "Partially Executed",
        "130",
        "80.50",
    )
    set_quote(control, expiry, best_offer_price="81", best_offer_quantity=1950)
    row = order_in_book(control, order_id)
    assert (row["status"], row["pending_quantity"]) == ("Executed", "0")
    assert row["average_price"] == f"{(65 * 80.5 + 130 * 81) / 195:.2f}"
    assert len(breeze.get_trade_detail(exchange_code="NFO", order_id=order_id)["Success"]) == 2


def test_partial_fill_fault(breeze: Any, control: httpx.Client, expiry: date) -> None:
    set_quote(control, expiry, ltp="80", best_bid_price="79.5", best_offer_price="80.5")
    fault(control, kind="partial_fill", endpoint="order", method="POST", quantity=65)
    order_id = place(breeze, expiry, "buy", "81", quantity="130")["Success"]["order_id"]
    row = order_in_book(control, order_id)
    assert (row["status"], row["pending_quantity"]) == ("Partially Executed", "65")


# ------------------------------------------------------------------------------------- faults
def test_status_500_fault(breeze: Any, control: httpx.Client, expiry: date) -> None:
    fault(control, kind="status_500", endpoint="order", method="POST", message="Server busy")
    assert place(breeze, expiry, "buy", "1") == {
        "Success": None,
        "Status": 500,
        "Error": "Server busy",
    }
    assert book(control)["orders"] == []
    assert place(breeze, expiry, "buy", "1")["Status"] == 200  # fired once only


def test_rate_limit_fault_and_real_limit(breeze: Any, control: httpx.Client) -> None:
    fault(control, kind="rate_limit_minute", endpoint="funds")
    assert breeze.get_funds() == {
        "Status": 5,
        "Error": "Limit exceed: API call per minute:Try after some time",
    }
    fault(control, kind="rate_limit_day", endpoint="*")
    assert breeze.get_funds() == {"Status": 5, "Error": "Limit exceed: API call per day: "}

    control.post("/limits", json={"calls_per_minute": 3}).raise_for_status()
    try:
        assert [breeze.get_funds()["Status"] for _ in range(4)] == [200, 200, 200, 5]
        control.post("/clock", json={"advance_seconds": 61}).raise_for_status()
        assert breeze.get_funds()["Status"] == 200
    finally:
        control.post("/clock", json={"advance_seconds": -61})
        control.post("/limits", json={"calls_per_minute": 100})


def test_transient_invalid_user_details_and_html_502(breeze: Any, control: httpx.Client) -> None:
    fault(control, kind="invalid_user", endpoint="funds")
    assert breeze.get_funds() == {"Success": None, "Status": 500, "Error": "Invalid User Details"}
    fault(control, kind="html_502", endpoint="funds")
    with pytest.raises(Exception, match="Expecting value"):
        breeze.get_funds()
    assert breeze.get_funds()["Status"] == 200


def test_lost_response_order_exists_for_reconciliation(
    breeze: Any, control: httpx.Client, expiry: date
) -> None:
    fault(control, kind="drop_after", endpoint="order", method="POST")
    with pytest.raises(Exception, match="Error while trying to make request POST"):
        place(breeze, expiry, "buy", "1.5")
    listing = breeze.get_order_list(exchange_code="NFO", **today_range(control))
    assert listing["Status"] == 200
    [row] = listing["Success"]
    assert (row["action"], row["quantity"], row["price"], row["strike_price"]) == (
        "Buy",
        "65",
        "1.50",
        25000.0,
    )
    assert row["status"] == "Ordered"
    assert len(book(control)["orders"]) == 1


def test_dropped_request_leaves_no_order(breeze: Any, control: httpx.Client, expiry: date) -> None:
    fault(control, kind="drop", endpoint="order", method="POST")
    with pytest.raises(Exception, match="Error while trying to make request POST"):
        place(breeze, expiry, "buy", "1.5")
    assert book(control)["orders"] == []
    # Two clean misses on the order list are what lets reconciliation declare it not placed.
    listing = breeze.get_order_list(exchange_code="NFO", **today_range(control))
    assert listing == {"Success": None, "Status": 500, "Error": "No Data Found"}


def test_late_response_times_out_but_order_exists(
    sim: SimServer, api_session: str, control: httpx.Client, expiry: date
) -> None:
    client = create_breeze_client(APP_KEY, sim.url, timeout=(1.0, 0.3))
    try:
        client.generate_session(api_secret=SECRET, session_token=api_session)
        fault(control, kind="delay_after", endpoint="order", method="POST", seconds=1.5)
        with pytest.raises(Exception, match="Read timed out"):
            place(client, expiry, "sell", "150")
        [row] = book(control)["orders"]
        assert (row["action"], row["status"]) == ("Sell", "Ordered")
    finally:
        load_breeze_sdk(timeout=DEFAULT_TIMEOUT)


def test_rejections(breeze: Any, control: httpx.Client, expiry: date) -> None:
    fault(control, kind="reject", endpoint="order", method="POST", message="RMS: margin")
    assert place(breeze, expiry, "buy", "1") == {
        "Success": None,
        "Status": 500,
        "Error": "RMS: margin",
    }
    fault(control, kind="exchange_reject", endpoint="order", method="POST")
    order_id = place(breeze, expiry, "buy", "1")["Success"]["order_id"]
    row = breeze.get_order_detail(exchange_code="NFO", order_id=order_id)["Success"][0]
    assert row["status"] == "Rejected"
    assert len(book(control)["orders"]) == 1


def test_cancel_success_not_applied(breeze: Any, control: httpx.Client, expiry: date) -> None:
    order_id = place(breeze, expiry, "buy", "1")["Success"]["order_id"]
    fault(control, kind="not_applied", endpoint="order", method="DELETE")
    assert breeze.cancel_order(exchange_code="NFO", order_id=order_id)["Status"] == 200
    assert order_in_book(control, order_id)["status"] == "Ordered"  # #238: re-read the order


def test_historical_v2(breeze: Any, expiry: date) -> None:
    day = expiry.isoformat()
    candles = breeze.get_historical_data_v2(
        interval="5minute",
        from_date=f"{day}T09:15:00.000Z",
        to_date=f"{day}T15:30:00.000Z",
        stock_code="NIFTY",
        exchange_code="NFO",
        product_type="options",
        expiry_date=iso(expiry),
        right="call",
        strike_price="25000",
    )
    if expiry.weekday() >= 5:
        pytest.skip("expiry on a weekend")
    assert candles["Status"] == 200
    assert len(candles["Success"]) == 75
    assert candles["Success"][0]["datetime"] == f"{day} 09:15:00"


# ----------------------------------------------------------------------------------- hygiene
def test_sdk_stayed_on_loopback_and_left_no_logs_in_the_repo(
    breeze: Any, guard: LoopbackGuard, sim: SimServer
) -> None:
    sdk = load_breeze_sdk()
    api_url = sdk.config.API_URL
    assert api_url == f"{sim.url}/breezeapi/api/v1/"
    assert guard.refused == []
    assert guard.peers
    assert set(guard.peers) <= LOOPBACK_NAMES
    assert all(c["client"] == "127.0.0.1" for c in breeze_calls(sim))
    assert not (ROOT / "logs").exists()


def breeze_calls(sim: SimServer) -> list[dict[str, Any]]:
    return list(sim.state.calls)
