"""Pipeline benchmarks against the running stack; prints one JSON object per figure.

- webhook -> fill latency (p50/p99) over N alerts, each a new signal-week (a real trade);
- sustained webhook acceptance rate (alerts answered 202 per second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

SECRET = os.environ.get("WEBHOOK_SECRET", "local-dev-webhook-secret")
_SIGNALS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8")


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "os": platform.system()}


def alert(n: int, seed: int) -> dict[str, object]:
    """A unique entry alert (its own signal-week)."""
    signal = _SIGNALS[n % 8]
    week = datetime(2040, 1, 2, 4, 45, tzinfo=UTC) + timedelta(weeks=seed + n // 8)
    bullish = signal in {"S1", "S2", "S4", "S7"}
    return {
        "secret": SECRET,
        "signal": signal,
        "action": "Entry",
        "strike": 24000,
        "type": "PE" if bullish else "CE",
        "bar_time": week.isoformat().replace("+00:00", "Z"),
    }


def pct(values: list[float], q: float) -> float:
    """Percentile by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def latency(ingest: str, dsn: str, count: int, concurrency: int, rate: float) -> None:
    """Webhook sent -> both entry fills booked in the ledger, per alert, sent at ``rate``/s."""
    seed = random.randrange(0, 150_000)
    sent: dict[str, datetime] = {}
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=10) as http:

        async def one(n: int) -> None:
            async with gate:
                t0 = datetime.now(UTC)
                response = await http.post(
                    f"{ingest}/api/v2/webhook/tradingview", json=alert(n, seed)
                )
                response.raise_for_status()
                sent[response.json()["signal_id"]] = t0

        tasks = []
        for n in range(count):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(1 / rate)  # open-loop pacing of the load, not a wait on state
        await asyncio.gather(*tasks)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    assert pool is not None  # noqa: S101
    try:
        deadline = time.monotonic() + 300
        rows: list[asyncpg.Record] = []
        while time.monotonic() < deadline:
            rows = await pool.fetch(
                "SELECT d.signal_id::text AS sid, max(f.filled_at) AS filled "
                "FROM ledger.risk_decisions d JOIN ledger.fills f ON f.trade_id = d.trade_id "
                "WHERE d.signal_id = ANY($1::uuid[]) AND d.outcome = 'approved' "
                "AND f.purpose = 'entry' GROUP BY d.signal_id HAVING count(*) = 2",
                list(sent),
            )
            if len(rows) == len(sent):
                break
            await asyncio.sleep(0.25)
    finally:
        await pool.close()
    ms = [(r["filled"] - sent[r["sid"]]).total_seconds() * 1000 for r in rows]
    budget = os.environ.get("RISK_ORDER_RATE_PER_S", "5")
    base = {
        "alerts": count,
        "completed": len(ms),
        "rate_per_s": rate,
        "order_budget_per_s": budget,
        **machine(),
    }
    for name, q in (("p50", 50), ("p99", 99)):
        print(
            json.dumps(
                {
                    "name": f"webhook_to_fill_latency_{name}",
                    "value": round(pct(ms, q), 1),
                    "unit": "ms",
                    **base,
                }
            )
        )
    print(
        json.dumps(
            {
                "name": "webhook_to_fill_latency_mean",
                "value": round(statistics.mean(ms), 1),
                "unit": "ms",
                **base,
            }
        )
    )


async def acceptance(ingest: str, seconds: float, concurrency: int) -> None:
    """Alerts answered 202 per second over a fixed window."""
    seed = random.randrange(150_000, 300_000)
    accepted = 0
    counter = 0
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=10) as http:

        async def worker() -> None:
            nonlocal accepted, counter
            while time.monotonic() < stop_at:
                counter += 1
                body = alert(counter, seed)
                t0 = time.perf_counter()
                response = await http.post(f"{ingest}/api/v2/webhook/tradingview", json=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code == 202:
                    accepted += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    base = {"window_s": round(elapsed, 1), "concurrency": concurrency, **machine()}
    print(
        json.dumps(
            {
                "name": "webhook_acceptance_rate",
                "value": round(accepted / elapsed, 1),
                "unit": "alerts/s",
                "accepted": accepted,
                **base,
            }
        )
    )
    print(
        json.dumps(
            {
                "name": "webhook_answer_latency_p99",
                "value": round(pct(latencies, 99), 1),
                "unit": "ms",
                **base,
            }
        )
    )


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=4.0,
        help="alerts per second; each is two orders and risk releases at most "
        "RISK_ORDER_RATE_PER_S orders a second, so keep rate below half of it",
    )
    args = parser.parse_args()
    ingest = os.environ["STRIKEFLOW_INGEST_URL"]
    dsn = os.environ["DATABASE_URL"]
    asyncio.run(latency(ingest, dsn, args.alerts, args.concurrency, args.rate))
    asyncio.run(acceptance(ingest, args.seconds, 16))


if __name__ == "__main__":
    main()
