"""Historical candles for ``/api/v2/historicalcharts`` from a deterministic random walk."""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sim.breeze.market import Contract, session_bounds
from sim.breeze.settings import IST
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


INDEX_CODES = frozenset({"NIFTY"})
INDEX_INTERVALS = ("1minute", "5minute", "30minute", "1day")


def index_path(stock_code: str, day: date, spot: Decimal) -> list[tuple[datetime, Decimal]]:
    """The day's one-minute index closes (naive IST starts): a walk seeded by code and day only,
    so every window and every interval reads the same prices."""
    digest = hashlib.sha256(f"index|{stock_code}|{day.isoformat()}".encode()).hexdigest()
    seed = int(digest[:12], 16)
    rng = random.Random(seed)  # noqa: S311 - simulated prices, not security
    open_, close = session_bounds(day)
    price = float(spot) * (1 + rng.gauss(0, 0.004))
    path = []
    moment = open_
    while moment < close:
        price = max(1.0, price * (1 + rng.gauss(0, 0.0005)))
        path.append((moment, Decimal(round(price, 2)).quantize(Decimal("0.01"))))
        moment += timedelta(minutes=1)
    return path


def index_candles(
    stock_code: str, spot: Decimal, params: dict[str, str], now: datetime
) -> list[dict[str, Any]]:
    """Cash-segment index candles (``exch_code=NSE``, ``product_type=cash``), start-stamped.

    Only candles that have closed by ``now`` (tz-aware) are served, as the live API would:
    a bar's last candle appears once its minute is over. Candles of every interval aggregate the
    same one-minute walk; 1second is not simulated for the index.
    """
    if stock_code.upper() not in INDEX_CODES:
        raise SimReject("No Data Found")
    interval = params.get("interval", "")
    if interval not in INDEX_INTERVALS:
        raise SimReject("SIM: unsupported interval for index candles")
    step = INTERVALS[interval]
    now_ist = now.astimezone(IST).replace(tzinfo=None)
    start, end = _parse(params.get("from_date", "")), _parse(params.get("to_date", ""))
    rows: list[dict[str, Any]] = []
    day = start.date()
    while day <= end.date() and len(rows) < MAX_ROWS:
        if day.weekday() < 5:
            rows.extend(_index_day(stock_code.upper(), day, spot, step, start, end, now_ist))
        day += timedelta(days=1)
    return rows[:MAX_ROWS]


def _index_day(
    code: str,
    day: date,
    spot: Decimal,
    step: timedelta,
    start: datetime,
    end: datetime,
    now_ist: datetime,
) -> list[dict[str, Any]]:
    open_, close = session_bounds(day)
    buckets: dict[datetime, list[tuple[datetime, Decimal]]] = {}
    previous = None
    for moment, price in index_path(code, day, spot):
        if moment + timedelta(minutes=1) > now_ist:
            break
        label = open_ if step >= timedelta(days=1) else open_ + ((moment - open_) // step) * step
        opening = previous if previous is not None else price
        buckets.setdefault(label, []).append((moment, opening))
        buckets[label].append((moment, price))
        previous = price
    rows = []
    for label, points in sorted(buckets.items()):
        last_minute = min(label + step, close) - timedelta(minutes=1)
        if points[-1][0] < last_minute or not start <= label <= end:
            continue  # the candle is still forming, or outside the window
        prices = [p for _, p in points]
        rows.append(
            {
                "datetime": label.strftime("%Y-%m-%d %H:%M:%S"),
                "stock_code": code,
                "exchange_code": "NSE",
                "product_type": "Cash",
                "open": float(prices[0]),
                "high": float(max(prices)),
                "low": float(min(prices)),
                "close": float(prices[-1]),
                "volume": 0,
                "open_interest": None,
            }
        )
    return rows
