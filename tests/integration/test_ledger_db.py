"""The ledger on real PostgreSQL: idempotent by message id, exact position arithmetic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest
import pytest_asyncio

from libs.common.messages import Side
from services.ledger.service import LedgerService
from tests.factories import make_fill, make_instrument, make_order, make_signal

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def pool(migrated_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(migrated_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


def _instrument() -> object:
    return make_instrument(strike=Decimal(18000 + 50 * (uuid.uuid4().int % 100)))


async def test_ledger_when_same_message_delivered_twice_books_it_once(
    pool: asyncpg.Pool,
) -> None:
    ledger = LedgerService(pool)
    signal = make_signal(signal_id=uuid.uuid4())
    fill = make_fill(fill_id=f"f-{uuid.uuid4().hex}", instrument=_instrument())

    for _ in range(2):
        await ledger.handle(signal)
        await ledger.handle(fill)

    signals = await pool.fetchval(
        "SELECT deliveries FROM ledger.signals WHERE signal_id = $1", signal.signal_id
    )
    fills = await pool.fetchval(
        "SELECT count(*) FROM ledger.fills WHERE fill_id = $1", fill.fill_id
    )
    net = await pool.fetchval(
        "SELECT net_quantity FROM ledger.positions WHERE instrument_key = $1",
        fill.instrument.key,
    )
    assert signals == 1
    assert fills == 1
    assert net == -65


async def test_ledger_when_short_covered_over_several_fills_realised_pnl_is_exact(
    pool: asyncpg.Pool,
) -> None:
    ledger = LedgerService(pool)
    instrument = _instrument()
    prices_sold = ("100.05", "100.10", "100.20")
    for n, price in enumerate(prices_sold):
        await ledger.handle(
            make_fill(
                fill_id=f"s{n}-{uuid.uuid4().hex}",
                instrument=instrument,
                side=Side.SELL,
                quantity=65,
                price=Decimal(price),
            )
        )
    for n in range(3):
        await ledger.handle(
            make_fill(
                fill_id=f"b{n}-{uuid.uuid4().hex}",
                instrument=instrument,
                side=Side.BUY,
                quantity=65,
                price=Decimal("90"),
            )
        )

    row = await pool.fetchrow(
        "SELECT net_quantity, realized_pnl FROM ledger.positions WHERE instrument_key = $1",
        instrument.key,  # type: ignore[attr-defined]
    )
    assert row is not None
    assert row["net_quantity"] == 0
    # (100.05 + 100.10 + 100.20 - 3 * 90) * 65 = 1972.75
    assert row["realized_pnl"].quantize(Decimal("0.01")) == Decimal("1972.75")


async def test_ledger_when_event_arrives_before_its_command_keeps_latest_status(
    pool: asyncpg.Pool,
) -> None:
    from tests.factories import make_order_filled

    ledger = LedgerService(pool)
    cid = f"cid-{uuid.uuid4().hex}"
    order = make_order(client_order_id=cid, message_id=uuid.uuid4())
    filled = make_order_filled(client_order_id=cid, trade_id=order.trade_id)

    await ledger.handle(filled)
    await ledger.handle(order)

    status = await pool.fetchval("SELECT status FROM ledger.orders WHERE client_order_id = $1", cid)
    assert status == "FILLED"
