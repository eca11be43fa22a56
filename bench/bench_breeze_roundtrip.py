"""Order round-trip latency through the real breeze-connect SDK against the local simulator.

One JSON object per figure: place_order and get_order_detail latency (p50/p99, ms) over ~300
calls each, the simulator running in-process on loopback. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from services.executor.adapters.breeze_sdk import create_breeze_client, load_breeze_sdk
from sim.breeze.server import SimServer
from sim.breeze.settings import SimSettings


def pct(values: list[float], q: float) -> float:
    """Percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main(rounds: int = 300) -> None:
    """Place a resting limit and read it back, ``rounds`` times."""
    with tempfile.TemporaryDirectory() as workdir:
        load_breeze_sdk(Path(workdir))
        settings = SimSettings(
            calls_per_minute=10**6,
            calls_per_day=10**7,
            order_ops_per_second=10**6,
            opening_funds=10**9,
        )
        with SimServer(settings) as sim:
            expiry = sim.state.universe.expiries[0]
            breeze = create_breeze_client(settings.app_key, sim.url)
            breeze.generate_session(
                api_secret=settings.secret_key, session_token=settings.api_sessions[0]
            )
            httpx.post(
                f"{sim.url}/_sim/quotes",
                json={
                    "expiry_date": expiry.isoformat(),
                    "right": "call",
                    "strike_price": "25000",
                    "ltp": "100",
                },
            ).raise_for_status()
            order: dict[str, Any] = {
                "stock_code": "NIFTY",
                "exchange_code": "NFO",
                "product": "options",
                "action": "buy",
                "order_type": "limit",
                "quantity": "65",
                "price": "90",
                "validity": "day",
                "expiry_date": f"{expiry.isoformat()}T06:00:00.000Z",
                "right": "call",
                "strike_price": "25000",
            }
            places: list[float] = []
            details: list[float] = []
            for _ in range(rounds):
                start = time.perf_counter()
                placed = breeze.place_order(**order)
                middle = time.perf_counter()
                detail = breeze.get_order_detail("NFO", placed["Success"]["order_id"])
                end = time.perf_counter()
                if detail["Status"] != 200:
                    raise RuntimeError(f"unexpected detail response {detail}")
                places.append((middle - start) * 1000)
                details.append((end - middle) * 1000)
    base = {
        "samples": rounds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "transport": "breeze-connect 1.0.69 -> simulator on 127.0.0.1 (new TCP per call)",
    }
    figures = {
        "place_order": places,
        "get_order_detail": details,
        "place_plus_detail": [p + d for p, d in zip(places, details, strict=True)],
    }
    for name, samples in figures.items():
        for label, q in (("p50", 50), ("p99", 99)):
            print(
                json.dumps(
                    {
                        "figure": f"breeze_sim_{name}_latency_{label}",
                        "unit": "ms",
                        "value": round(pct(samples, q), 3),
                        **base,
                    }
                )
            )


if __name__ == "__main__":
    main()
