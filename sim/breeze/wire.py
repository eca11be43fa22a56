"""Breeze JSON envelopes and the value formats used on the wire."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

JSON = dict[str, Any]

NO_DATA = "No Data Found"
INVALID_USER = "Invalid User Details"
INVALID_CHECKSUM = "Authentication Fail :: Invalid Checksum."
LIMIT_MINUTE = "Limit exceed: API call per minute:Try after some time"
LIMIT_DAY = "Limit exceed: API call per day: "
# Messages whose real wording is unknown are invented and start with "SIM: ".
LIMIT_ORDER_RATE = "SIM: Limit exceed: order operations per second"
INVALID_TIMESTAMP = "SIM: Authentication Fail :: Invalid Timestamp."


class SimReject(Exception):
    """A business error answered as ``{"Success": null, "Status": 500, "Error": message}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ok(success: Any) -> JSON:
    """Successful envelope."""
    return {"Success": success, "Status": 200, "Error": None}


def error(message: str) -> JSON:
    """Business error envelope (Status 500)."""
    return {"Success": None, "Status": 500, "Error": message}


def gateway_error(message: str) -> JSON:
    """Gateway error envelope (Status 5, no ``Success`` key)."""
    return {"Status": 5, "Error": message}


def parse_json_body(raw: bytes) -> JSON:
    """Parse a request body; empty or non-object bodies count as ``{}``."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise SimReject("SIM: request body is not valid JSON") from exc
    return value if isinstance(value, dict) else {}


def text(body: JSON, key: str) -> str:
    """A field as a stripped string ('' when missing or null)."""
    value = body.get(key)
    return "" if value is None else str(value).strip()


def parse_decimal(value: object) -> Decimal | None:
    """A number sent as int, float or string; None if it is not numeric."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_expiry(value: str) -> date | None:
    """An expiry sent as ISO (``2025-02-27T06:00:00.000Z``) or ``27-Feb-2025``."""
    value = value.strip()
    if not value:
        return None
    for fmt in ("%d-%b-%Y", "%d-%b-%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, no zone
        except ValueError:
            pass
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def fmt_expiry(day: date) -> str:
    """``27-Feb-2025`` as in orders, positions and quotes."""
    return day.strftime("%d-%b-%Y")


def fmt_price(value: Decimal) -> str:
    """Prices as the two-decimal strings Breeze sends."""
    return f"{value:.2f}"


def fmt_datetime(moment: datetime) -> str:
    """``05-Feb-2025 09:26`` (order_datetime)."""
    return moment.strftime("%d-%b-%Y %H:%M")


def fmt_ltt(moment: datetime) -> str:
    """``05-Feb-2025 09:36:56`` (quotes ltt)."""
    return moment.strftime("%d-%b-%Y %H:%M:%S")


def title(value: str) -> str:
    """Enums come back capitalised: ``buy`` becomes ``Buy``."""
    return value[:1].upper() + value[1:].lower()
