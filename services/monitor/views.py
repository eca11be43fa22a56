"""JSON shapes of the read API: analytics results to plain dicts (money as strings)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from libs.analytics.performance import Performance
from libs.analytics.risk import Exposure, Limit, RiskMetrics
from libs.analytics.trades import Fill, LegSummary, Trade
from libs.common.messages import BrokerStatusChanged

PAISA = Decimal("0.01")
RATIO = Decimal("0.0001")
HUNDRED = Decimal(100)


def _fixed(value: Decimal | None, exponent: Decimal) -> str | None:
    if value is None:
        return None
    rounded = value.quantize(exponent, rounding=ROUND_HALF_UP)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)  # no "-0.00"


def money(value: Decimal | None) -> str | None:
    """Rupees to the paisa, half up."""
    return _fixed(value, PAISA)


def ratio(value: Decimal | None) -> str | None:
    """A ratio (Sharpe, profit factor) to four decimals."""
    return _fixed(value, RATIO)


def pct(fraction: Decimal | None) -> str | None:
    """A fraction as a percentage with two decimals."""
    return None if fraction is None else money(fraction * HUNDRED)


def iso(at: datetime | None) -> str | None:
    """ISO 8601 with offset (UTC as stored)."""
    return None if at is None else at.isoformat()


def broker_status(status: BrokerStatusChanged | None) -> dict[str, Any]:
    """The executor's last report of the broker session."""
    if status is None:
        return {
            "status": "unknown",
            "mode": None,
            "session_valid": None,
            "detail": "no broker status reported yet",
            "since": None,
        }
    return {
        "status": "ok" if status.session_valid else "down",
        "mode": status.mode,
        "session_valid": status.session_valid,
        "detail": status.detail,
        "since": iso(status.ts_event),
    }


def performance(p: Performance) -> dict[str, Any]:
    """Performance figures of a set of closed trades."""
    return {
        "trades": p.trades,
        "gross_pnl": money(p.gross_pnl),
        "charges": money(p.charges),
        "net_pnl": money(p.net_pnl),
        "pnl_wins": p.pnl_wins,
        "pnl_losses": p.pnl_losses,
        "pnl_win_rate_pct": pct(p.pnl_win_rate),
        "index_known": p.index_known,
        "index_wins": p.index_wins,
        "index_win_rate_pct": pct(p.index_win_rate),
        "average_win": money(p.average_win),
        "average_loss": money(p.average_loss),
        "expectancy": money(p.expectancy),
        "profit_factor": ratio(p.profit_factor),
        "max_drawdown": money(p.max_drawdown.amount),
        "max_drawdown_pct": money(p.max_drawdown.pct),
        "sharpe": ratio(p.sharpe),
        "days": p.days,
    }


def _exposure(e: Exposure) -> dict[str, Any]:
    return {
        "instrument": e.instrument_key,
        "side": e.side,
        "quantity": e.quantity,
        "average_price": money(e.average_price),
        "mark_price": money(e.mark_price),
        "premium": money(e.premium),
        "unrealized_pnl": money(e.unrealized),
    }


def _limit(limit: Limit) -> dict[str, Any]:
    value = limit.value
    shown: int | str | None
    if value is None:
        shown = None
    elif limit.name in {"max_open_trades", "max_lots_per_trade"}:
        shown = int(value)
    else:
        shown = money(value)
    return {"value": shown, "source": limit.source}


def risk_metrics(m: RiskMetrics, trading_day: str) -> dict[str, Any]:
    """Exposure, margin, today's P&L, limits and how much of each is used."""
    pnl = m.pnl
    return {
        "trading_day": trading_day,
        "exposure": {
            "contracts": [_exposure(e) for e in m.exposures],
            "short_premium": money(m.premium.short),
            "long_premium": money(m.premium.long),
            "premium_at_risk": money(m.premium.net),
        },
        "open_trades": m.open_trades,
        "open_lots": m.open_lots,
        "largest_trade_lots": m.largest_trade_lots,
        "margin": {
            "estimated_used": money(m.margin_used),
            "limit": _limit(m.limits["max_margin"])["value"],
        },
        "pnl_today": {
            "realized": money(pnl.realized if pnl else None),
            "unrealized": money(pnl.unrealized if pnl else None),
            "charges": money(pnl.charges if pnl else None),
            "net": money(pnl.net if pnl else None),
            "as_of": iso(pnl.taken_at if pnl else None),
        },
        "drawdown_today": money(m.drawdown),
        "loss_today": money(m.loss_today),
        "limits": {name: _limit(limit) for name, limit in m.limits.items()},
        "utilisation_pct": {name: money(used) for name, used in m.utilisation_pct.items()},
    }


def _leg(leg: LegSummary) -> dict[str, Any]:
    return {
        "leg": leg.leg,
        "instrument": leg.instrument_key,
        "net_quantity": leg.net_quantity,
        "bought": leg.bought,
        "sold": leg.sold,
        "average_buy": money(leg.average_buy),
        "average_sell": money(leg.average_sell),
        "cash": money(leg.cash),
        "charges": money(leg.charges),
    }


def _fill(f: Fill) -> dict[str, Any]:
    return {
        "fill_id": f.fill_id,
        "purpose": f.purpose,
        "leg": f.leg,
        "instrument": f.instrument_key,
        "side": f.side,
        "quantity": f.quantity,
        "price": money(f.price),
        "charges": money(f.charges),
        "filled_at": iso(f.filled_at),
        "signal_id": str(f.signal_id) if f.signal_id else None,
    }


def trade_summary(t: Trade) -> dict[str, Any]:
    """A trade without its fills."""
    return {
        "trade_id": str(t.trade_id),
        "signal": t.signal,
        "status": t.status,
        "opened_at": iso(t.opened_at),
        "closed_at": iso(t.closed_at),
        "gross_pnl": money(t.gross_pnl),
        "charges": money(t.charges),
        "net_pnl": money(t.net_pnl),
        "legs": [_leg(leg) for leg in t.legs],
    }


def trade_detail(t: Trade) -> dict[str, Any]:
    """A trade with its legs and every fill."""
    return {**trade_summary(t), "fills": [_fill(f) for f in t.fills]}


class CursorError(ValueError):
    """A paging cursor this API did not issue."""


def encode_cursor(opened_at: datetime, trade_id: uuid.UUID) -> str:
    """An opaque keyset cursor: the last trade's first-fill time and id."""
    raw = json.dumps([opened_at.isoformat(), str(trade_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The keyset of a cursor from :func:`encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, trade_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        key = uuid.UUID(trade_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API issued") from exc
    if when.tzinfo is None:
        raise CursorError("cursor is not one this API issued")
    return when, key
