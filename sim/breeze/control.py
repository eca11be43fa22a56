"""The control API tests and demos use: quotes, faults, book, sessions, clock and limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from sim.breeze.market import TICK, to_tick
from sim.breeze.state import SimState
from sim.breeze.validation import resolve_contract
from sim.breeze.wire import SimReject, parse_decimal

router = APIRouter(prefix="/_sim")
QUOTE_FIELDS = {
    "ltp": "ltp",
    "best_bid_price": "bid",
    "best_offer_price": "ask",
    "lower_circuit": "lower",
    "upper_circuit": "upper",
    "previous_close": "previous_close",
}
QTY_FIELDS = {
    "best_bid_quantity": "bid_qty",
    "best_offer_quantity": "ask_qty",
    "open_interest": "open_interest",
}


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


async def _json(request: Request) -> dict[str, Any]:
    body = await request.json() if await request.body() else {}
    if not isinstance(body, dict):
        raise HTTPException(422, "expected a JSON object")
    return body


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Readiness probe."""
    state = _state(request)
    return {
        "ok": True,
        "today_ist": state.clock.now_ist().date().isoformat(),
        "app_key": state.settings.app_key,
        "expiries": [e.isoformat() for e in state.universe.expiries],
    }


@router.get("/book")
async def book(request: Request) -> dict[str, Any]:
    """Orders, trades, positions (including flat ones) and funds."""
    state = _state(request)
    b = state.book
    return {
        "orders": [b.order_row(o) for o in b.orders.values()],
        "trades": b.trade_rows(None),
        "positions": [b.position_row(p) for p in b.positions.values()],
        "funds": b.funds_row(),
    }


@router.post("/quotes")
async def set_quote(request: Request) -> dict[str, Any]:
    """Set a contract's quote; only given fields change. ``ltp`` alone re-centres bid/ask.

    Body: stock_code (default NIFTY), product (default options), expiry_date, right,
    strike_price, then any of ltp, best_bid_price, best_offer_price, best_bid_quantity,
    best_offer_quantity, lower_circuit, upper_circuit, previous_close, open_interest.
    Resting orders of the contract are re-checked against the new quote.
    """
    state = _state(request)
    body = await _json(request)
    body.setdefault("stock_code", "NIFTY")
    product = str(body.get("product", "options")).lower()
    try:
        key, _ = resolve_contract(body, product, state.universe.find)
    except SimReject as exc:
        raise HTTPException(404, exc.message) from exc
    quote = state.book.quote(key)
    ltp = parse_decimal(body.get("ltp"))
    if ltp is not None and "best_bid_price" not in body and "best_offer_price" not in body:
        half = max(to_tick(state.settings.spread / 2), TICK)
        quote.bid, quote.ask = max(ltp - half, TICK), max(ltp - half, TICK) + 2 * half
    for name, attr in QUOTE_FIELDS.items():
        value = parse_decimal(body.get(name))
        if value is not None:
            setattr(quote, attr, value)
    for name, attr in QTY_FIELDS.items():
        if name in body:
            setattr(quote, attr, int(body[name]))
    state.book.on_quote(key)
    return {k: str(v) for k, v in vars(quote).items()}


@router.post("/faults")
async def add_faults(request: Request) -> list[dict[str, Any]]:
    """Add one fault (an object) or several (``{"faults": [...]}``)."""
    state = _state(request)
    body = await _json(request)
    specs = body.get("faults", [body])
    try:
        for spec in specs:
            state.faults.add(spec)
    except (TypeError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return state.faults.snapshot()


@router.get("/faults")
async def list_faults(request: Request) -> list[dict[str, Any]]:
    """The fault script with firing counts."""
    return _state(request).faults.snapshot()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    """Remove every fault."""
    _state(request).faults.clear()
    return {"cleared": True}


@router.post("/faults/release")
async def release_held(request: Request) -> dict[str, Any]:
    """Send every answer held by a ``hold_after`` fault."""
    return {"released": _state(request).faults.release()}


@router.get("/faults/held")
async def held_answers(request: Request) -> dict[str, Any]:
    """How many answers a ``hold_after`` fault is holding right now."""
    return {"holding": _state(request).faults.holding}


@router.post("/sessions")
async def issue_session(request: Request) -> dict[str, Any]:
    """Simulate the daily browser login: issue an API_Session (random unless given)."""
    body = await _json(request)
    session = _state(request).sessions.issue(body.get("api_session"))
    return {"api_session": session.api_session, "expires_at": session.expires_at.isoformat()}


@router.post("/sessions/expire")
async def expire_sessions(request: Request) -> dict[str, Any]:
    """Session expiry mid-day: every issued session becomes invalid."""
    return {"expired": _state(request).sessions.expire_all()}


@router.post("/clock")
async def move_clock(request: Request) -> dict[str, Any]:
    """Advance the simulated clock by ``advance_seconds``."""
    state = _state(request)
    body = await _json(request)
    state.clock.advance(float(body.get("advance_seconds", 0)))
    return {"now": state.clock.now().isoformat(), "now_ist": state.clock.now_ist().isoformat()}


@router.post("/limits")
async def set_limits(request: Request) -> dict[str, Any]:
    """Change call limits (calls_per_minute, calls_per_day, order_ops_per_second); reset counts."""
    state = _state(request)
    body = await _json(request)
    for name in ("calls_per_minute", "calls_per_day", "order_ops_per_second"):
        if name in body:
            setattr(state.settings, name, int(body[name]))
    if body.get("reset", True):
        state.limits.reset()
    s = state.settings
    return {
        "calls_per_minute": s.calls_per_minute,
        "calls_per_day": s.calls_per_day,
        "order_ops_per_second": s.order_ops_per_second,
    }


@router.post("/close")
async def close_market(request: Request) -> dict[str, Any]:
    """The close: open day orders expire."""
    return {"expired": _state(request).book.expire_day_orders()}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Fresh book and quotes, no faults, call counts and call log cleared (sessions kept)."""
    _state(request).reset_market()
    return {"reset": True}


@router.get("/calls")
async def calls(request: Request) -> list[dict[str, Any]]:
    """The last Breeze calls received (method, endpoint, body, client address, status)."""
    return list(_state(request).calls)
