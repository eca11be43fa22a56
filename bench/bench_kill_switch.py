"""Kill-switch propagation against the running stack; one JSON object per figure.

Time from the operator command being accepted (ingest answered 200, so Kafka has it) until
risk and executor both report the new trading state on /healthz, over repeated on/off cycles.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import time

import httpx

TOKEN = os.environ.get("OPERATOR_TOKEN", "local-dev-operator-token")


def pct(values: list[float], q: float) -> float:
    """Percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def main(cycles: int = 50) -> None:
    """Toggle the kill switch and time how long every service takes to apply it."""
    ingest = os.environ["STRIKEFLOW_INGEST_URL"]
    watchers = [
        os.environ.get("STRIKEFLOW_RISK_URL", "http://127.0.0.1:18002"),
        os.environ.get("STRIKEFLOW_EXECUTOR_URL", "http://127.0.0.1:18003"),
    ]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    samples: list[float] = []
    async with httpx.AsyncClient(timeout=5) as http:

        async def applied(url: str, want: str, deadline: float) -> float:
            while time.perf_counter() < deadline:
                state = (await http.get(f"{url}/healthz")).json().get("trading_state")
                if state == want:
                    return time.perf_counter()
            raise TimeoutError(f"{url} never reported {want}")

        for n in range(cycles * 2):
            engaged = n % 2 == 0
            response = await http.post(
                f"{ingest}/api/v2/safety/kill-switch",
                json={"engaged": engaged, "reason": "propagation benchmark"},
                headers=headers,
            )
            response.raise_for_status()
            accepted = time.perf_counter()
            want = "HALTED" if engaged else "ACTIVE"
            done = await asyncio.gather(*(applied(u, want, accepted + 10) for u in watchers))
            samples.append((max(done) - accepted) * 1000)
    base = {"samples": len(samples), "cpus": os.cpu_count(), "python": platform.python_version()}
    for name, q in (("p50", 50), ("p99", 99)):
        print(
            json.dumps(
                {
                    "name": f"kill_switch_propagation_{name}",
                    "value": round(pct(samples, q), 1),
                    "unit": "ms",
                    **base,
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
