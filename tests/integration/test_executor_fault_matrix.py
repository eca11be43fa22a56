"""Every injected Breeze fault at every step of a hedged entry and exit: the live executor never
sends a second order for one intent, its book agrees with the broker's once the fault is gone and
a restart has reconciled, and the multi-leg rules hold (breeze.md 5.2, 6.3, 7.7;
architecture.md: hedge before main, a failed main unwinds the hedge, exits close the main first).

The executor runs with the real SDK against the simulator and real PostgreSQL; risk's commands
are fed to it in order. The fault is armed for exactly one step's ``POST order``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from libs.common.clock import SystemClock
from libs.common.db import Outbox
from libs.common.messages import Leg, Purpose, SubmitOrder
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.adapters.breeze_sdk import load_breeze_sdk
from services.executor.service import ExecutorService, HaltFlag
from tests.integration import live_executor_harness as live
from tests.integration import test_breeze_sim_sdk as sim_sdk

pytestmark = pytest.mark.integration

guard, sim, control, api_session, breeze, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.breeze,
    sim_sdk.expiry,
)

# Longer than the call timeout plus the first lookup, which waits behind the stuck call.
SLOW_S = 2.0


@dataclass(frozen=True)
class Fault:
    """One fault of the matrix: its simulator spec and whether the broker's answer is
    unreachable (the executor may then keep the order UNKNOWN until a restart)."""

    spec: dict[str, Any]
    unreachable: bool = False


FAULTS: dict[str, Fault] = {
    "timeout": Fault({"kind": "delay", "seconds": SLOW_S}, unreachable=True),
    "response_lost": Fault({"kind": "drop_after"}),
    "response_late": Fault({"kind": "delay_after", "seconds": SLOW_S}, unreachable=True),
    "status_500": Fault({"kind": "status_500", "message": "Server busy"}),
    "html_502": Fault({"kind": "html_502"}),
    "rate_limit": Fault({"kind": "rate_limit_minute"}),
    "session_invalid": Fault({"kind": "invalid_user"}),
    "partial_fill": Fault({"kind": "partial_fill", "quantity": live.LOT_SIZE}),
    "business_reject": Fault({"kind": "reject", "message": "RMS: insufficient margin"}),
    "exchange_reject": Fault({"kind": "exchange_reject", "message": "Exchange: order rejected"}),
}
STEPS: dict[str, tuple[Purpose, Leg]] = {
    "entry_hedge": (Purpose.ENTRY, Leg.HEDGE),
    "entry_main": (Purpose.ENTRY, Leg.MAIN),
    "exit_main": (Purpose.EXIT, Leg.MAIN),
    "exit_hedge": (Purpose.EXIT, Leg.HEDGE),
}


def matrix() -> list[Any]:
    cells = []
    for step in STEPS:
        for fault in FAULTS:
            cells.append(pytest.param(step, fault, id=f"{step}-{fault}"))
    return cells


@pytest_asyncio.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(fresh_database, min_size=1, max_size=4)
    assert created is not None
    try:
        yield created
    finally:
        await created.close()


async def run_commands(
    service: ExecutorService,
    control: httpx.Client,
    commands: list[SubmitOrder],
    armed: tuple[Purpose, Leg] | None,
    fault: Fault,
) -> None:
    """Feed risk's commands in order, arming the fault just before the chosen step."""
    for order in commands:
        if (order.purpose, order.leg) == armed:
            spec = dict(fault.spec, endpoint="order", method="POST", times=1)
            sim_sdk.fault(control, **spec)
        await service.on_submit(order)


@pytest.mark.parametrize(("step", "fault_name"), matrix())
async def test_fault_at_one_step_never_duplicates_and_books_agree(
    step: str,
    fault_name: str,
    pool: asyncpg.Pool,
    breeze: Any,
    control: httpx.Client,
    expiry: date,
) -> None:
    fault, armed = FAULTS[fault_name], STEPS[step]
    live.quote_both_legs(control, expiry)
    trade = uuid.uuid4()
    service, broker = live.live_executor(pool, breeze)
    restarted: BreezeBroker | None = None
    try:
        if armed[0] is Purpose.EXIT:
            await run_commands(service, control, live.entry(trade, expiry), None, fault)
            opened = await live.executor_rows(pool)
            assert {r.status for r in opened.values()} == {"FILLED"}, opened
            await run_commands(service, control, live.exit_(trade, expiry), armed, fault)
        else:
            await run_commands(service, control, live.entry(trade, expiry), armed, fault)

        fired = await live.sim_call(control, "GET", "/faults")
        assert [f["fired"] for f in fired] == [1], f"the fault did not fire once: {fired}"
        first = await live.executor_rows(pool)
        unsettled = [r.client_order_id for r in first.values() if r.status == "UNKNOWN"]
        faulted = live.command(trade, *armed, expiry).client_order_id
        if fault.unreachable:
            assert faulted in unsettled, "no answer and the gateway busy: the outcome is unknown"
        else:
            assert unsettled == [], "the broker answered: the outcome must be settled at once"

        # The process stops (queued SDK calls die with it), the gateway finishes what it was
        # doing, the fault is gone, and a restarted executor reconciles before new commands.
        await live.stop_broker(broker)
        await live.sim_call(control, "DELETE", "/faults")
        service, restarted = live.live_executor(pool, breeze)
        await service.reconcile_pending()

        rows = await live.executor_rows(pool)
        book = await live.sim_call(control, "GET", "/book")
        orders = book["orders"]
        assert live.one_order_per_intent(rows, orders) == []
        assert live.books_agree(rows, orders) == []
        assert await live.executor_net(service) == live.sim_net(book)
        assert live.multi_leg_rules(rows, book) == []
        assert (
            live.place_calls_beyond_intents(rows, await live.sim_call(control, "GET", "/calls"))
            == []
        )
    finally:
        broker.close()
        if restarted is not None:
            restarted.close()


@pytest.fixture
def short_sdk_read_timeout() -> Iterator[float]:
    """The SDK's own HTTP timeout (process-wide) cut to one second for one test."""
    sdk = load_breeze_sdk()
    before = sdk.requests.timeout
    load_breeze_sdk(timeout=(1.0, 1.0))
    try:
        yield 1.0
    finally:
        load_breeze_sdk(timeout=before)


async def test_gateway_slower_than_the_sdk_timeout_books_no_order_the_executor_disowned(
    short_sdk_read_timeout: float,
    pool: asyncpg.Pool,
    breeze: Any,
    control: httpx.Client,
    expiry: date,
) -> None:
    live.quote_both_legs(control, expiry)
    trade = uuid.uuid4()
    broker = BreezeBroker(breeze, BreezeBrokerConfig(call_timeout_s=5 * short_sdk_read_timeout))
    service = ExecutorService(pool, Outbox("executor"), broker, SystemClock(), HaltFlag())
    service.mode, service.settle_delay_s = "live", live.SETTLE_DELAY_S
    restarted: BreezeBroker | None = None
    try:
        # The gateway takes the request, and books it only after the SDK has given up on it.
        sim_sdk.fault(
            control,
            kind="delay",
            endpoint="order",
            method="POST",
            seconds=3 * short_sdk_read_timeout,
        )
        await run_commands(service, control, live.entry(trade, expiry), None, FAULTS["timeout"])
        await live.wait_book_orders(control, lambda o: len(o) == 1, 10, "the late booking")
        await live.stop_broker(broker)
        service, restarted = live.live_executor(pool, breeze)
        await service.reconcile_pending()

        rows = await live.executor_rows(pool)
        book = await live.sim_call(control, "GET", "/book")
        assert live.one_order_per_intent(rows, book["orders"]) == []
        assert live.books_agree(rows, book["orders"]) == []
        assert await live.executor_net(service) == live.sim_net(book)
    finally:
        broker.close()
        if restarted is not None:
            restarted.close()
