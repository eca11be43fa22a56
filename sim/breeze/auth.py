"""Authentication of Breeze calls (breeze.md 1.2, 2.2, 7.4): checksum, sessions, call limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sim.breeze.settings import IST, SimClock, SimSettings
from sim.breeze.wire import (
    INVALID_CHECKSUM,
    INVALID_TIMESTAMP,
    INVALID_USER,
    LIMIT_DAY,
    LIMIT_MINUTE,
    LIMIT_ORDER_RATE,
)

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"


class GatewayError(Exception):
    """Answered as ``{"Status": 5, "Error": message}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SessionError(Exception):
    """Answered as ``{"Success": null, "Status": 500, "Error": message}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def checksum(timestamp: str, raw_body: bytes, secret: str) -> str:
    """``"token " + sha256_hex(timestamp + body + secret)`` over the exact bytes sent."""
    digest = hashlib.sha256(timestamp.encode() + raw_body + secret.encode()).hexdigest()
    return f"token {digest}"


def parse_timestamp(value: str) -> datetime | None:
    """``X-Timestamp`` (UTC, literal ``.000Z``) or None when malformed."""
    try:
        return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def session_token(user_id: str, session_key: str) -> str:
    """base64 of ``user_id:session_key``, as both ``session_token`` and ``X-SessionToken``."""
    return base64.b64encode(f"{user_id}:{session_key}".encode("ascii")).decode("ascii")


def verify_signature(
    headers: Mapping[str, str], raw_body: bytes, settings: SimSettings, now: datetime
) -> None:
    """App key, timestamp skew and checksum of a signed call; raise GatewayError if wrong."""
    if headers.get("x-appkey", "") != settings.app_key:
        raise GatewayError(INVALID_CHECKSUM)
    stamp = headers.get("x-timestamp", "")
    moment = parse_timestamp(stamp)
    if moment is None or abs((now - moment).total_seconds()) > settings.timestamp_skew_s:
        raise GatewayError(INVALID_TIMESTAMP)
    expected = checksum(stamp, raw_body, settings.secret_key)
    if not hmac.compare_digest(headers.get("x-checksum", ""), expected):
        raise GatewayError(INVALID_CHECKSUM)


@dataclass
class Session:
    """A daily session: the API_Session from the login and the key handed to the SDK."""

    api_session: str
    user_id: str
    session_key: str
    expires_at: datetime
    revoked: bool = False

    @property
    def token(self) -> str:
        """The ``X-SessionToken`` value."""
        return session_token(self.user_id, self.session_key)


def next_midnight_ist(moment: datetime) -> datetime:
    """The first IST midnight after ``moment``."""
    local = moment.astimezone(IST)
    midnight = datetime(local.year, local.month, local.day, tzinfo=IST) + timedelta(days=1)
    return midnight.astimezone(UTC)


@dataclass
class Sessions:
    """Issued API_Session values and the session tokens derived from them."""

    settings: SimSettings
    clock: SimClock
    by_api_session: dict[str, Session] = field(default_factory=dict)

    def issue(self, api_session: str | None = None) -> Session:
        """Simulate a browser login: a new API_Session valid until midnight IST."""
        value = api_session or f"{secrets.randbelow(10**8):08d}"
        now = self.clock.now()
        session = Session(
            value,
            self.settings.user_id,
            secrets.token_hex(8),
            min(next_midnight_ist(now), now + timedelta(hours=24)),
        )
        self.by_api_session[value] = session
        return session

    def valid(self, session: Session) -> bool:
        """Not revoked and not past its expiry on the simulated clock."""
        return not session.revoked and self.clock.now() < session.expires_at

    def for_token(self, token: str) -> Session:
        """The live session behind an ``X-SessionToken``, else ``Invalid User Details``."""
        for session in self.by_api_session.values():
            if hmac.compare_digest(session.token, token) and self.valid(session):
                return session
        raise SessionError(INVALID_USER)

    def expire_all(self) -> int:
        """Session expiry mid-day (fault): every issued session stops working."""
        for session in self.by_api_session.values():
            session.revoked = True
        return len(self.by_api_session)


@dataclass
class CallLimits:
    """Per-app-key call budget: per minute (sliding), per IST day, and order operations/s."""

    settings: SimSettings
    clock: SimClock
    minute: deque[datetime] = field(default_factory=deque)
    order_ops: deque[datetime] = field(default_factory=deque)
    day: date | None = None
    day_count: int = 0

    def charge(self, order_operation: bool) -> None:
        """Count one call; raise GatewayError when a limit is exceeded (the call is refused)."""
        now = self.clock.now()
        today = now.astimezone(IST).date()
        if self.day != today:
            self.day, self.day_count = today, 0
        while self.minute and now - self.minute[0] >= timedelta(minutes=1):
            self.minute.popleft()
        while self.order_ops and now - self.order_ops[0] >= timedelta(seconds=1):
            self.order_ops.popleft()
        if self.day_count >= self.settings.calls_per_day:
            raise GatewayError(LIMIT_DAY)
        if len(self.minute) >= self.settings.calls_per_minute:
            raise GatewayError(LIMIT_MINUTE)
        if order_operation and len(self.order_ops) >= self.settings.order_ops_per_second:
            raise GatewayError(LIMIT_ORDER_RATE)
        self.minute.append(now)
        self.day_count += 1
        if order_operation:
            self.order_ops.append(now)

    def reset(self) -> None:
        """Forget all counted calls."""
        self.minute.clear()
        self.order_ops.clear()
        self.day, self.day_count = None, 0
