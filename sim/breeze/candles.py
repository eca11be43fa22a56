"""Historical candles for ``/api/v2/historicalcharts`` from a deterministic random walk."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sim.breeze.market import Contract, session_bounds
from sim.breeze.wire import SimReject, title

INTERVALS = {
    "1second": timedelta(seconds=1),
    "1minute": timedelta(minutes=1),
    "5minute": timedelta(minutes=5),
    "30minute": timedelta(minutes=30),
    "1day": timedelta(days=1),
}
MAX_ROWS = 1000


def _parse(value: str) -> datetime:
    """Historical dates are IST wall-clock labelled ``Z`` (breeze.md 3.1): read them as naive."""
    try:
        return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")  # noqa: DTZ007 - naive IST
    except ValueError as exc:
        raise SimReject("SIM: from_date/to_date must be YYYY-MM-DDTHH:MM:SS.000Z") from exc


def _stamps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    stamps: list[datetime] = []
    day = start.date()
    while day <= end.date() and len(stamps) < MAX_ROWS:
        if day.weekday() < 5:
            open_, close = session_bounds(day)
            moment = open_
            while moment < close and len(stamps) < MAX_ROWS:
                if start <= moment <= end:
                    stamps.append(moment)
                if step >= timedelta(days=1):
                    break
                moment += step
        day += timedelta(days=1)
    return stamps


def candles(contract: Contract, last: Decimal, params: dict[str, str]) -> list[dict[str, Any]]:
    """At most 1,000 candles between ``from_date`` and ``to_date`` ending near ``last``."""
    step = INTERVALS.get(params.get("interval", ""))
    if step is None:
        raise SimReject("SIM: unsupported interval")
    stamps = _stamps(_parse(params.get("from_date", "")), _parse(params.get("to_date", "")), step)
    seed = int(hashlib.sha256(f"{contract.token}{params}".encode()).hexdigest()[:12], 16)
    rng = random.Random(seed)  # noqa: S311 - simulated prices, not security
    price = float(last)
    rows = []
    for moment in stamps:
        open_ = price
        close = max(0.05, round(open_ * (1 + rng.gauss(0, 0.01)) / 0.05) * 0.05)
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.003)))
        low = max(0.05, min(open_, close) * (1 - abs(rng.gauss(0, 0.003))))
        rows.append(
            {
                "datetime": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "stock_code": contract.stock_code,
                "exchange_code": "NFO",
                "product_type": title(contract.product),
                "expiry_date": contract.expiry.strftime("%d-%b-%Y").upper(),
                "right": title(contract.right),
                "strike_price": float(contract.strike),
                "open": round(open_, 2),
                "high": round(high, 2),
                "low": round(low, 2),
                "close": round(close, 2),
                "volume": rng.randint(0, 50) * contract.lot_size,
                "open_interest": rng.randint(100, 5000) * contract.lot_size,
            }
        )
        price = close
    return rows
