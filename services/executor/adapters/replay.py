"""Paper market data without a broker session: replay an hourly-bar CSV onto market.bars."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.messages import BarClosed
from libs.data.bars_csv import iter_bars_csv

log = get_logger(__name__)
PublishBar = Callable[[BarClosed], Awaitable[None]]


async def replay_bars(
    path: Path,
    publish: PublishBar,
    clock: Clock,
    interval_s: float,
    start: date | None = None,
    limit: int | None = None,
) -> int:
    """Publish the file's bars one every ``interval_s`` seconds; return how many were sent.

    Each bar keeps its historical start time and is stamped with the replay time in
    ``ts_event``, with ``source="replay"`` so consumers can tell replayed data from live bars.
    """
    sent = 0
    for bar in iter_bars_csv(path, start=start):
        if limit is not None and sent >= limit:
            break
        await publish(
            BarClosed(
                ts_event=clock.now(),
                start=bar.start,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                source="replay",
            )
        )
        sent += 1
        if interval_s > 0:
            await asyncio.sleep(interval_s)  # replay speed, not a wait for state
    log.info("bar_replay_finished", bars=sent, path=str(path))
    return sent
