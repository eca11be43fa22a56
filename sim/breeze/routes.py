"""The Breeze REST routes (breeze.md 7.3) on top of the book, sessions and call limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sim.breeze.auth import GatewayError, SessionError, verify_signature
from sim.breeze.candles import candles, index_candles
from sim.breeze.market import Contract, Quote, session_bounds
from sim.breeze.state import SimState
from sim.breeze.validation import resolve_contract, validate_place
from sim.breeze.wire import (
    JSON,
    NO_DATA,
    SimReject,
    error,
    fmt_expiry,
    fmt_ltt,
    fmt_price,
    gateway_error,
    ok,
    parse_expiry,
    parse_json_body,
    text,
    title,
)

router = APIRouter()
Handler = Callable[[SimState, JSON], Any]
ORDER_OPERATIONS = {("POST", "order"), ("PUT", "order"), ("DELETE", "order"), ("POST", "squareoff")}


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _nonempty(rows: list[Any]) -> list[Any]:
    if not rows:
        raise SimReject(NO_DATA)
    return rows


def _check_market_open(state: SimState) -> None:
    if not state.settings.enforce_market_hours:
        return
    now = state.clock.now_ist().replace(tzinfo=None)
    start, end = session_bounds(now.date())
    if now.weekday() >= 5 or not start <= now < end:
        raise SimReject("SIM: market is closed")


# --------------------------------------------------------------------------- customer details
def customer_details(state: SimState, body: JSON) -> JSON:
    """Unsigned ``GET customerdetails``: exchanges an API_Session for the session token."""
    if text(body, "AppKey") != state.settings.app_key:
        return error("Public Key does not exist.")
    state.limits.charge(order_operation=False)
    session = state.sessions.by_api_session.get(text(body, "SessionToken"))
    if session is None:
        return error("Invalid session.")
    if not state.sessions.valid(session):
        return error("Resource not available.")
    day = state.clock.now_ist().strftime("%d-%b-%Y")
    return ok(
        {
            "exg_trade_date": {"NSE": day, "BSE": day, "FNO": day, "NDX": day},
            "exg_status": {"NSE": "O", "BSE": "O", "FNO": "Y", "NDX": "O"},
            "segments_allowed": {
                "Trading": "Y",
                "Equity": "Y",
                "Derivatives": "Y",
                "Currency": "N",
            },
            "idirect_userid": session.user_id,
            "session_token": session.token,
            "idirect_user_name": state.settings.user_name,
            "idirect_ORD_TYP": "N",
            "idirect_lastlogin_time": state.clock.now_ist().strftime("%d-%b-%Y %H:%M:%S"),
            "mf_holding_mode_popup_flg": "N",
            "commodity_exchange_status": "N",
            "commodity_trade_date": day,
            "commodity_allowed": "C",
        }
    )


# ------------------------------------------------------------------------------------ orders
def place_order(state: SimState, body: JSON) -> JSON:
    """``POST order``."""
    _check_market_open(state)
    rejection = state.faults.take("order", "POST", {"reject"})
    if rejection is not None:
        raise SimReject(rejection.message or "SIM: order rejected by the broker")
    spec = validate_place(body, state.universe.find, state.settings.freeze_quantity)
    partial = state.faults.take("order", "POST", {"partial_fill"})
    exchange = state.faults.take("order", "POST", {"exchange_reject"})
    order = state.book.place(
        spec,
        fill_cap=partial.quantity if partial else None,
        reject=(exchange.message or "SIM: rejected by the exchange") if exchange else None,
    )
    return {
        "order_id": order.order_id,
        "message": "Successfully Placed the order",
        "user_remark": "",
    }


def _in_range(moment: datetime, body: JSON) -> bool:
    start, end = parse_expiry(text(body, "from_date")), parse_expiry(text(body, "to_date"))
    day = moment.date()
    return (start is None or day >= start) and (end is None or day <= end)


def get_orders(state: SimState, body: JSON) -> list[JSON]:
    """``GET order``: detail when ``order_id`` is present, else the list for a date range."""
    book = state.book
    if text(body, "exchange_code").upper() != "NFO":
        raise SimReject(NO_DATA)
    if "order_id" in body:
        return [book.order_row(book.get(text(body, "order_id")))]
    rows = [book.order_row(o) for o in book.orders.values() if _in_range(o.created_at, body)]
    return _nonempty(rows)


def modify_order(state: SimState, body: JSON) -> JSON:
    """``PUT order``; the ``not_applied`` fault answers success without changing anything."""
    _check_market_open(state)
    skip = state.faults.take("order", "PUT", {"not_applied"})
    order = state.book.modify(text(body, "order_id"), body, applied=skip is None)
    return {"message": "Successfully Modified the order", "order_id": order.order_id}


def cancel_order(state: SimState, body: JSON) -> JSON:
    """``DELETE order``; the ``not_applied`` fault answers success without cancelling."""
    skip = state.faults.take("order", "DELETE", {"not_applied"})
    order = state.book.cancel(text(body, "order_id"), applied=skip is None)
    return {"order_id": order.order_id, "message": "Your Order Canceled successfully."}


def square_off(state: SimState, body: JSON) -> JSON:
    """``POST squareoff``: an opposite order on an open position."""
    _check_market_open(state)
    place_body = dict(
        body, product=text(body, "product_type"), stoploss=text(body, "stoploss_price")
    )
    spec = validate_place(place_body, state.universe.find, state.settings.freeze_quantity)
    position = state.book.positions.get(spec.key)
    net = position.net if position else 0
    if net == 0 or (net > 0) == (spec.action == "buy"):
        raise SimReject("SIM: no open position to square off")
    if spec.quantity > abs(net):
        raise SimReject("SIM: square-off quantity exceeds the open position")
    order = state.book.place(spec)
    return {
        "order_id": order.order_id,
        "message": "Successfully Placed the order",
        "indicator": "0",
    }


# ------------------------------------------------------------------ portfolio, funds, trades
def positions(state: SimState, body: JSON) -> list[JSON]:
    """``GET portfoliopositions``."""
    del body
    book = state.book
    return _nonempty([book.position_row(p) for p in book.positions.values()])


def trades(state: SimState, body: JSON) -> list[JSON]:
    """``GET trades`` (list, or detail of one ``order_id``)."""
    return _nonempty(state.book.trade_rows(text(body, "order_id") or None))


def funds(state: SimState, body: JSON) -> JSON:
    """``GET funds``."""
    del body
    return state.book.funds_row()


def margin(state: SimState, body: JSON) -> JSON:
    """``GET margin``."""
    del body
    book = state.book
    return {
        "limit_list": [],
        "cash_limit": float(book.cash),
        "amount_allocated": float(book.cash),
        "block_by_trade": float(book.blocked()),
        "isec_margin": 0.0,
    }


def holdings(state: SimState, body: JSON) -> list[JSON]:
    """``GET portfolioholdings``: the simulated account holds no equity."""
    del state, body
    raise SimReject(NO_DATA)


# ---------------------------------------------------------------------------------- quotes
def quote_row(state: SimState, contract: Contract, quote: Quote) -> JSON:
    """A ``GET quotes`` row (breeze.md 3.8); ``ltp`` is a number as on the real gateway."""
    change = (quote.ltp - quote.previous_close) / quote.previous_close * 100
    return {
        "exchange_code": "NFO",
        "product_type": title(contract.product),
        "stock_code": contract.stock_code,
        "expiry_date": fmt_expiry(contract.expiry),
        "right": title(contract.right),
        "strike_price": float(contract.strike),
        "ltp": float(quote.ltp),
        "ltt": fmt_ltt(state.clock.now_ist()),
        "best_bid_price": float(quote.bid),
        "best_bid_quantity": str(quote.bid_qty),
        "best_offer_price": float(quote.ask),
        "best_offer_quantity": str(quote.ask_qty),
        "open": float(quote.previous_close),
        "high": float(max(quote.ltp, quote.previous_close)),
        "low": float(min(quote.ltp, quote.previous_close)),
        "previous_close": float(quote.previous_close),
        "ltp_percent_change": float(change),
        "upper_circuit": float(quote.upper),
        "lower_circuit": float(quote.lower),
        "total_quantity_traded": str(quote.volume),
        "spot_price": fmt_price(state.settings.spot),
    }


def quotes(state: SimState, body: JSON) -> list[JSON]:
    """``GET quotes`` for one contract."""
    if text(body, "exchange_code").upper() != "NFO":
        raise SimReject(NO_DATA)
    product = text(body, "product_type").lower() or "options"
    key, contract = resolve_contract(body, product, state.universe.find)
    return [quote_row(state, contract, state.book.quote(key))]


def option_chain(state: SimState, body: JSON) -> list[JSON]:
    """``GET optionchain``: every listed contract matching the given expiry/right/strike."""
    expiry = parse_expiry(text(body, "expiry_date"))
    right, strike = text(body, "right").lower(), text(body, "strike_price")
    product = text(body, "product_type").lower()
    rows = []
    for key, contract in state.universe.contracts.items():
        if (
            contract.stock_code != text(body, "stock_code").upper()
            or contract.product != product
            or (expiry and contract.expiry != expiry)
            or (right and contract.right != right)
            or (strike and f"{contract.strike:.0f}" != strike.split(".")[0])
        ):
            continue
        quote = state.book.quote(key)
        row = quote_row(state, contract, quote)
        row.update(
            {
                "ltq": "0",
                "open_interest": float(quote.open_interest),
                "chnge_oi": 0.0,
                "total_buy_qty": str(quote.bid_qty),
                "total_sell_qty": str(quote.ask_qty),
            }
        )
        rows.append(row)
    return _nonempty(rows)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "order"): place_order,
    ("GET", "order"): get_orders,
    ("PUT", "order"): modify_order,
    ("DELETE", "order"): cancel_order,
    ("POST", "squareoff"): square_off,
    ("GET", "portfoliopositions"): positions,
    ("GET", "portfolioholdings"): holdings,
    ("GET", "trades"): trades,
    ("GET", "funds"): funds,
    ("GET", "margin"): margin,
    ("GET", "quotes"): quotes,
    ("GET", "optionchain"): option_chain,
}


def _answer(state: SimState, payload: JSON) -> JSONResponse:
    status = state.settings.gateway_error_http_status if payload.get("Status") == 5 else 200
    return JSONResponse(payload, status_code=status)


def _log(state: SimState, request: Request, endpoint: str, body: JSON, payload: JSON) -> None:
    state.calls.append(
        {
            "at": state.clock.now().isoformat(),
            "method": request.method,
            "endpoint": endpoint,
            "client": request.client.host if request.client else None,
            "body": body,
            "status": payload.get("Status"),
            "error": payload.get("Error"),
        }
    )


def dispatch(
    state: SimState, method: str, endpoint: str, headers: dict[str, str], raw: bytes
) -> tuple[JSON, JSON]:
    """Authenticate, count and run one v1 call; returns (request body, response envelope)."""
    body: JSON = {}
    try:
        body = parse_json_body(raw)
        if endpoint == "customerdetails" and method == "GET":
            return body, customer_details(state, body)
        verify_signature(headers, raw, state.settings, state.clock.now())
        state.sessions.for_token(headers.get("x-sessiontoken", ""))
        handler = HANDLERS.get((method, endpoint))
        if handler is None:
            return body, error(f"SIM: {method} {endpoint} is not simulated")
        state.limits.charge(order_operation=(method, endpoint) in ORDER_OPERATIONS)
        return body, ok(handler(state, body))
    except GatewayError as exc:
        return body, gateway_error(exc.message)
    except (SessionError, SimReject) as exc:
        return body, error(exc.message)


@router.api_route("/breezeapi/api/v1/{endpoint}", methods=["GET", "POST", "PUT", "DELETE"])
async def breeze_v1(endpoint: str, request: Request) -> Response:
    """Every signed v1 endpoint (and the unsigned ``customerdetails``)."""
    state = _state(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    body, payload = dispatch(state, request.method, endpoint, headers, await request.body())
    _log(state, request, endpoint, body, payload)
    return _answer(state, payload)


@router.get("/api/v2/historicalcharts")
async def historical_v2(request: Request) -> Response:
    """Historical v2: query-string parameters, ``apikey`` and ``X-SessionToken`` headers."""
    state = _state(request)
    params = dict(request.query_params)
    try:
        if request.headers.get("apikey", "") != state.settings.app_key:
            raise GatewayError("SIM: Authentication Fail :: Invalid apikey.")
        state.sessions.for_token(request.headers.get("x-sessiontoken", ""))
        state.limits.charge(order_operation=False)
        product = params.get("product_type", "").lower()
        if product == "cash" and params.get("exch_code", "").lower() == "nse":
            code = params.get("stock_code", "")
            rows = index_candles(code, state.settings.spot, params, state.clock.now())
        else:
            key, contract = resolve_contract(params, product, state.universe.find)
            rows = candles(contract, state.book.quote(key).ltp, params)
        payload = ok(_nonempty(rows))
    except GatewayError as exc:
        payload = gateway_error(exc.message)
    except (SessionError, SimReject) as exc:
        payload = error(exc.message)
    _log(state, request, "v2/historicalcharts", params, payload)
    return _answer(state, payload)


@router.get("/SecurityMaster.zip")
async def security_master(request: Request) -> Response:
    """The generated instrument master (downloaded by the SDK at import and login)."""
    return Response(_state(request).master_zip, media_type="application/zip")
