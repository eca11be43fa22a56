"""Simulator settings and its controllable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


@dataclass
class SimSettings:
    """Credentials the simulator accepts, limits and the market model's knobs.

    The credentials are fixed test values: the simulator never sees real ones.
    """

    app_key: str = "SIM-APP-KEY"
    secret_key: str = "sim-secret-key"  # noqa: S105 - a fixed test value, never a real secret
    api_sessions: tuple[str, ...] = ("12345678",)
    user_id: str = "SIMUSER1"
    user_name: str = "SIM USER"
    calls_per_minute: int = 100
    calls_per_day: int = 5000
    order_ops_per_second: int = 10
    timestamp_skew_s: int = 300
    enforce_market_hours: bool = False
    gateway_error_http_status: int = 401
    spot: Decimal = Decimal("25000")
    strike_step: int = 50
    strikes_each_side: int = 40
    lot_size: int = 65
    freeze_quantity: int = 1800
    expiry_count: int = 4
    spread: Decimal = Decimal("0.50")
    depth_quantity: int = 1950
    opening_funds: Decimal = Decimal("1000000")
    short_margin_pct: Decimal = Decimal("12")
    expiries: tuple[str, ...] = field(default_factory=tuple)
    login_user_id: str = "SIMUSER1"
    login_password: str = "sim-login-password"  # noqa: S105 - a fixed test value
    login_totp_secret: str = "SIMTOTPSECRETBASE32SIMTOTPSECRET"  # noqa: S105 - a fixed test value
    login_redirect_url: str = "https://127.0.0.1/"


class SimClock:
    """Wall clock with an adjustable offset, so tests can jump to the close or to midnight."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """Current simulated time, timezone-aware UTC."""
        return datetime.now(UTC) + self.offset

    def now_ist(self) -> datetime:
        """Current simulated time in IST."""
        return self.now().astimezone(IST)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (or back, with a negative value)."""
        self.offset += timedelta(seconds=seconds)
