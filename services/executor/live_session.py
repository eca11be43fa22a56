"""Keeps the live broker logged in: the day's session value, its expiry and the paste."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import SecretStr

from libs.common.clock import Clock
from libs.common.logging import get_logger
from services.executor.adapters.breeze import BreezeBroker, SessionRejectedError
from services.executor.broker import BrokerUnavailableError
from services.executor.session import SessionRecord, SessionStore, valid_session_value

log = get_logger(__name__)
NO_SESSION = "no valid Breeze session: paste today's API session value"


class LiveSession:
    """The Breeze session of one executor process."""

    def __init__(
        self,
        broker: BreezeBroker,
        api_secret: SecretStr,
        store: SessionStore,
        clock: Clock,
        warn_before: timedelta,
    ) -> None:
        self._broker = broker
        self._secret = api_secret
        self._store = store
        self._clock = clock
        self._warn_before = warn_before
        self.record: SessionRecord | None = None
        self._warned_for: datetime | None = None

    def expires_at(self) -> datetime | None:
        """When the current session value expires; None without one."""
        return self.record.expires_at if self.record else None

    async def start(self, configured: str) -> bool:
        """Log in with today's cached value, else the configured one; False if neither works.

        Without a session the executor still starts: entries are refused and an operator can
        paste a value.
        """
        now = self._clock.now()
        candidates: list[tuple[str, SessionRecord]] = []
        cached = self._store.load()
        if cached is not None and cached.usable_at(now):
            candidates.append(("cache", cached))
        if configured.strip() and (
            cached is None or cached.value.get_secret_value() != configured.strip()
        ):
            candidates.append(("settings", SessionRecord.obtained(configured.strip(), now)))
        for source, record in candidates:
            try:
                await self._broker.login(
                    self._secret.get_secret_value(), record.value.get_secret_value()
                )
            except (SessionRejectedError, BrokerUnavailableError) as exc:
                log.error("breeze_session_refused", source=source, error=str(exc)[:200])
                continue
            self.record = record
            if source != "cache":
                self._store.save(record)
            log.warning(
                "breeze_session_opened", source=source, expires_at=record.expires_at.isoformat()
            )
            return True
        self._broker.session_problem = NO_SESSION
        log.critical("breeze_session_missing", detail=NO_SESSION)
        return False

    async def paste(self, value: str) -> SessionRecord:
        """Log in with a value an operator pasted; cache it only once the broker accepted it.

        Raises ``ValueError`` for a malformed value, :class:`SessionRejectedError` when the broker
        refuses it and :class:`BrokerUnavailableError` when the broker does not answer.
        """
        value = valid_session_value(value)
        await self._broker.login(self._secret.get_secret_value(), value)
        record = SessionRecord.obtained(value, self._clock.now())
        self._store.save(record)
        self.record = record
        log.warning("breeze_session_pasted", expires_at=record.expires_at.isoformat())
        return record

    def check_expiry(self) -> Literal["ok", "warn", "expiring", "expired"]:
        """Expire the session at its deadline; ``warn`` the first time it is about to expire."""
        if self.record is None:
            return "expired"
        now = self._clock.now()
        expires = self.record.expires_at
        if now >= expires:
            if self._broker.session_problem is None:
                self._broker.session_problem = f"session expired at {expires.isoformat()}"
            return "expired"
        if expires - now <= self._warn_before:
            if self._warned_for != expires:
                self._warned_for = expires
                log.critical(
                    "breeze_session_expiring",
                    expires_at=expires.isoformat(),
                    minutes_left=int((expires - now).total_seconds() // 60),
                )
                return "warn"
            return "expiring"
        return "ok"
