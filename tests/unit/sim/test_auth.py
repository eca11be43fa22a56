"""Checksum, sessions and call limits of the Breeze simulator."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from sim.breeze.auth import (
    CallLimits,
    GatewayError,
    SessionError,
    Sessions,
    checksum,
    session_token,
    verify_signature,
)
from sim.breeze.settings import SimClock, SimSettings
from sim.breeze.wire import INVALID_CHECKSUM, INVALID_USER, LIMIT_DAY, LIMIT_MINUTE

SETTINGS = SimSettings(app_key="KEY", secret_key="SECRET")
NOW = datetime(2026, 2, 5, 3, 46, 10, tzinfo=UTC)
STAMP = "2026-02-05T03:46:10.000Z"


def signed(body: bytes, secret: str = "SECRET", stamp: str = STAMP) -> dict[str, str]:  # noqa: S107
    return {"x-appkey": "KEY", "x-timestamp": stamp, "x-checksum": checksum(stamp, body, secret)}


def test_checksum_is_the_sdk_recipe() -> None:
    body = json.dumps({"exchange_code": "NFO", "order_id": "1"}, separators=(",", ":"))
    expected = hashlib.sha256((STAMP + body + "SECRET").encode("utf-8")).hexdigest()
    assert checksum(STAMP, body.encode(), "SECRET") == f"token {expected}"


def test_signature_accepts_the_exact_bytes_only() -> None:
    raw = b'{"a":1}'
    verify_signature(signed(raw), raw, SETTINGS, NOW)
    with pytest.raises(GatewayError) as caught:
        verify_signature(signed(raw), b'{"a": 1}', SETTINGS, NOW)  # re-serialised: mismatch
    assert caught.value.message == INVALID_CHECKSUM


@pytest.mark.parametrize(
    ("headers", "now"),
    [
        (signed(b"{}", secret="WRONG"), NOW),
        ({**signed(b"{}"), "x-appkey": "OTHER"}, NOW),
        (signed(b"{}"), NOW + timedelta(minutes=10)),
        (signed(b"{}", stamp="2026-02-05 03:46:10"), NOW),
    ],
    ids=["wrong-secret", "wrong-app-key", "clock-skew", "bad-timestamp"],
)
def test_signature_rejections(headers: dict[str, str], now: datetime) -> None:
    with pytest.raises(GatewayError):
        verify_signature(headers, b"{}", SETTINGS, now)


def test_sessions_expire_at_midnight_ist() -> None:
    clock = SimClock()
    sessions = Sessions(SETTINGS, clock)
    session = sessions.issue("11112222")
    assert session.token == session_token(SETTINGS.user_id, session.session_key)
    assert sessions.for_token(session.token) is session
    clock.advance((session.expires_at - clock.now()).total_seconds() + 1)
    with pytest.raises(SessionError) as caught:
        sessions.for_token(session.token)
    assert caught.value.message == INVALID_USER


def test_expire_all_revokes_every_session() -> None:
    sessions = Sessions(SETTINGS, SimClock())
    token = sessions.issue().token
    assert sessions.expire_all() == 1
    with pytest.raises(SessionError):
        sessions.for_token(token)


def test_per_minute_limit_and_window() -> None:
    clock = SimClock()
    limits = CallLimits(SimSettings(calls_per_minute=3), clock)
    for _ in range(3):
        limits.charge(order_operation=False)
    with pytest.raises(GatewayError) as caught:
        limits.charge(order_operation=False)
    assert caught.value.message == LIMIT_MINUTE
    clock.advance(60)
    limits.charge(order_operation=False)


def test_per_day_limit() -> None:
    clock = SimClock()
    limits = CallLimits(SimSettings(calls_per_day=2), clock)
    limits.charge(order_operation=False)
    clock.advance(120)
    limits.charge(order_operation=False)
    clock.advance(120)
    with pytest.raises(GatewayError) as caught:
        limits.charge(order_operation=False)
    assert caught.value.message == LIMIT_DAY


def test_order_operations_per_second() -> None:
    clock = SimClock()
    limits = CallLimits(SimSettings(order_ops_per_second=2), clock)
    limits.charge(order_operation=True)
    limits.charge(order_operation=True)
    limits.charge(order_operation=False)  # reads do not count against the order cap
    with pytest.raises(GatewayError):
        limits.charge(order_operation=True)
    clock.advance(1)
    limits.charge(order_operation=True)
