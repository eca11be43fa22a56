"""Paper market data: a CSV of hourly bars replayed onto market.bars on real Kafka."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from libs.common.clock import FixedClock
from libs.common.kafka import make_producer, publish
from libs.common.messages import BarClosed
from libs.common.topics import MARKET_BARS
from services.executor.adapters.replay import replay_bars
from tests.integration.kafka_tools import end_offsets, read_from

pytestmark = pytest.mark.integration
CSV = """timestamp,open,high,low,close,volume
2025-12-01T09:15:00+05:30,26100.10,26150.00,26080.00,26120.55,0
2025-12-01T10:15:00+05:30,26120.55,26190.00,26100.00,26180.00,0
2025-12-02T09:15:00+05:30,26180.00,26200.00,26010.00,26020.40,0
"""


async def test_replay_when_started_from_a_date_publishes_those_bars_in_order(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(CSV)
    producer = make_producer(kafka_bootstrap, "replay-test")
    await producer.start()
    before = await end_offsets(kafka_bootstrap, MARKET_BARS.name, MARKET_BARS.partitions)
    clock = FixedClock(datetime(2026, 11, 25, 5, 0, tzinfo=UTC))

    async def send(bar: BarClosed) -> None:
        await publish(producer, MARKET_BARS, bar, key=bar.symbol)

    try:
        sent = await replay_bars(path, send, clock, 0, start=date(2025, 12, 1))
    finally:
        await producer.stop()

    messages = await read_from(kafka_bootstrap, MARKET_BARS.name, before, 3)
    bars = [m for m in messages if isinstance(m, BarClosed)]
    assert sent == 3
    assert [b.close for b in bars] == [
        Decimal("26120.55"),
        Decimal("26180.00"),
        Decimal("26020.40"),
    ]
    assert all(b.source == "replay" and b.ts_event == clock.now() for b in bars)
    assert bars[0].start == datetime(2025, 12, 1, 3, 45, tzinfo=UTC)
