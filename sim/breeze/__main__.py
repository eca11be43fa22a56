"""``python -m sim.breeze --port 18050``: serve the Breeze simulator on loopback."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sim.breeze.app import create_app
from sim.breeze.settings import SimSettings


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sim.breeze", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18050)
    parser.add_argument("--calls-per-minute", type=int, default=100)
    parser.add_argument("--calls-per-day", type=int, default=5000)
    parser.add_argument(
        "--market-hours",
        action="store_true",
        help="reject orders outside 09:15-15:30 IST on weekdays",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    settings = SimSettings(
        calls_per_minute=args.calls_per_minute,
        calls_per_day=args.calls_per_day,
        enforce_market_hours=args.market_hours,
    )
    logging.basicConfig(level=args.log_level.upper())
    logging.getLogger(__name__).info(
        "Breeze simulator on http://%s:%d (app key %s, API_Session %s)",
        args.host,
        args.port,
        settings.app_key,
        ", ".join(settings.api_sessions),
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
