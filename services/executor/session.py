"""The Breeze session: one API session value per trading day, kept where only its owner can read it.

The value comes from the daily browser login (breeze.md 1.2): from settings at start-up, from the
on-disk cache when the process restarts the same day, or pasted by an operator through the
executor's session route. It expires 24 hours after it was obtained or at midnight IST, whichever
comes first (breeze.md 1.3). The value is never logged and never leaves this process.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pydantic import SecretStr

from libs.common.clock import IST
from libs.common.logging import get_logger

log = get_logger(__name__)
LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class SessionRecord:
    """One day's session value and when it was obtained."""

    trading_date: date
    value: SecretStr
    obtained_at: datetime

    @property
    def expires_at(self) -> datetime:
        """24 hours after it was obtained, or midnight IST after its trading date."""
        midnight = datetime.combine(self.trading_date + timedelta(days=1), time(0), tzinfo=IST)
        return min(self.obtained_at + LIFETIME, midnight)

    def usable_at(self, now: datetime) -> bool:
        """Whether the value may still be valid at ``now``."""
        return now < self.expires_at

    @classmethod
    def obtained(cls, value: str, now: datetime) -> SessionRecord:
        """A value obtained now, for today's IST trading date."""
        return cls(now.astimezone(IST).date(), SecretStr(value), now)


def valid_session_value(value: str) -> str:
    """Check the shape of a pasted API session value (digits, usually 8); return it stripped."""
    value = value.strip()
    if not value.isdigit() or not 4 <= len(value) <= 16:
        raise ValueError("an API session value is 4 to 16 digits (the apisession= of the login)")
    return value


class SessionStore:
    """The session cache file: owner-only permissions, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SessionRecord | None:
        """The cached record, or None if there is none or it cannot be read."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return SessionRecord(
                trading_date=date.fromisoformat(raw["trading_date"]),
                value=SecretStr(str(raw["value"])),
                obtained_at=datetime.fromisoformat(raw["obtained_at"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("session_cache_unreadable", path=str(self.path), error=type(exc).__name__)
            return None

    def save(self, record: SessionRecord) -> None:
        """Replace the cache with ``record``; the file is 0600 in a 0700 folder."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = json.dumps(
            {
                "trading_date": record.trading_date.isoformat(),
                "value": record.value.get_secret_value(),
                "obtained_at": record.obtained_at.isoformat(),
            }
        )
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".session-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("session_cached", path=str(self.path), trading_date=str(record.trading_date))
