"""A live executor (real SDK, Breeze simulator, real PostgreSQL) and the checks that compare its
order book with the broker's: shared by the fault-matrix and crash tests."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from libs.common.clock import SystemClock
from libs.common.db import Outbox
from libs.common.messages import (
    Instrument,
    Leg,
    OptionRight,
    Purpose,
    Side,
    SignalName,
    SubmitOrder,
    derived_id,
)
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.service import ExecutorService, HaltFlag
from tests.integration import test_breeze_sim_sdk as sim_sdk
from tests.waiting import eventually

CALL_TIMEOUT_S = 0.5
SETTLE_DELAY_S = 0.1
LOTS = 2
LOT_SIZE = 65
QUANTITY = LOTS * LOT_SIZE
HEDGE_STRIKE = Decimal(24300)
MAIN_STRIKE = Decimal(24500)
SDK_THREAD_PREFIX = "breeze-sdk"

# The simulator's order statuses, as the executor should see them.
SIM_OPEN = {"Requested", "Queued", "Ordered", "Partially Executed", "Freezed"}
SIM_DEAD = {"Rejected", "Cancelled", "Expired"}
SIM_PARTIAL_DONE = {"Partially Executed And Cancelled", "Partially Executed And Expired"}


def contract(expiry: date, strike: Decimal) -> Instrument:
    """A NIFTY weekly put of the simulated universe."""
    return Instrument(symbol="NIFTY", expiry=expiry, strike=strike, right=OptionRight.PE)


def quote_both_legs(control: httpx.Client, expiry: date) -> None:
    """Quotes for the hedge (24300 PE) and main (24500 PE) contracts."""
    for strike, ltp in ((HEDGE_STRIKE, "40"), (MAIN_STRIKE, "80")):
        sim_sdk.set_quote(control, expiry, right="put", strike_price=str(strike), ltp=ltp)


def command(trade: uuid.UUID, purpose: Purpose, leg: Leg, expiry: date) -> SubmitOrder:
    """The SubmitOrder risk sends for one leg of a bullish hedged trade (no limit price)."""
    opening = purpose is Purpose.ENTRY
    hedge = leg is Leg.HEDGE
    buy = hedge == opening  # entry buys the hedge and sells the main; exit does the opposite
    cid = f"{trade.hex[:16]}-{purpose.value}-{leg.value}-0"
    return SubmitOrder(
        ts_event=datetime.now(UTC),
        message_id=derived_id("command", cid),
        client_order_id=cid,
        trade_id=trade,
        signal_id=uuid.uuid4(),
        signal=SignalName.S1,
        purpose=purpose,
        leg=leg,
        sequence=0 if hedge == opening else 1,
        instrument=contract(expiry, HEDGE_STRIKE if hedge else MAIN_STRIKE),
        side=Side.BUY if buy else Side.SELL,
        quantity=QUANTITY,
        lot_size=LOT_SIZE,
        underlying_price=Decimal(24600),
    )


def entry(trade: uuid.UUID, expiry: date) -> list[SubmitOrder]:
    """Hedge first, then main."""
    return [command(trade, Purpose.ENTRY, leg, expiry) for leg in (Leg.HEDGE, Leg.MAIN)]


def exit_(trade: uuid.UUID, expiry: date) -> list[SubmitOrder]:
    """Main first, then hedge."""
    return [command(trade, Purpose.EXIT, leg, expiry) for leg in (Leg.MAIN, Leg.HEDGE)]


def live_executor(pool: asyncpg.Pool, client: Any) -> tuple[ExecutorService, BreezeBroker]:
    """An executor in live mode with short timeouts, as a restart would build it."""
    broker = BreezeBroker(client, BreezeBrokerConfig(call_timeout_s=CALL_TIMEOUT_S))
    service = ExecutorService(pool, Outbox("executor"), broker, SystemClock(), HaltFlag())
    service.mode = "live"
    service.settle_delay_s = SETTLE_DELAY_S
    return service, broker


async def stop_broker(broker: BreezeBroker, timeout_s: float = 20) -> None:
    """Close the adapter like a stopped process: queued SDK calls are dropped, and the one in
    progress is waited for (its request has then reached the gateway and been answered)."""
    broker.close()

    async def sdk_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith(SDK_THREAD_PREFIX)]

    await eventually(sdk_threads, lambda names: not names, timeout_s, "SDK worker stopped")


@dataclass(frozen=True)
class Row:
    """One executor order row."""

    client_order_id: str
    status: str
    broker_order_id: str | None
    filled: int
    order: SubmitOrder


async def executor_rows(pool: asyncpg.Pool) -> dict[str, Row]:
    """Every order row of the executor, by client order id."""
    rows = await pool.fetch(
        "SELECT client_order_id, status, broker_order_id, filled_quantity, command "
        "FROM executor.orders ORDER BY created_at"
    )
    return {
        r["client_order_id"]: Row(
            r["client_order_id"],
            r["status"],
            r["broker_order_id"],
            r["filled_quantity"],
            SubmitOrder.model_validate_json(r["command"]),
        )
        for r in rows
    }


def sim_key(row: dict[str, Any]) -> tuple[str, Decimal, str, str, int]:
    """(expiry, strike, right, side, quantity) of a simulator order row."""
    return (
        str(row["expiry_date"]),
        Decimal(str(row["strike_price"])),
        str(row["right"]).lower(),
        str(row["action"]).lower(),
        int(row["quantity"]),
    )


def intent_key(order: SubmitOrder) -> tuple[str, Decimal, str, str, int]:
    """The same key for an executor intent."""
    right = "put" if order.instrument.right is OptionRight.PE else "call"
    return (
        f"{order.instrument.expiry:%d-%b-%Y}",
        order.instrument.strike,
        right,
        order.side.value.lower(),
        order.quantity,
    )


def sim_filled(row: dict[str, Any]) -> int:
    """Executed quantity of a simulator order."""
    return int(row["quantity"]) - int(row["pending_quantity"]) - int(row["cancelled_quantity"])


def executor_view(row: dict[str, Any]) -> tuple[str, int]:
    """The (status, filled quantity) an executor row must show for this broker order."""
    status, filled = str(row["status"]), sim_filled(row)
    if status == "Executed" or (status in SIM_PARTIAL_DONE and filled > 0):
        return "FILLED", filled
    if status in SIM_DEAD or status in SIM_PARTIAL_DONE:
        return "REJECTED", 0
    return "ACCEPTED", filled


def one_order_per_intent(rows: dict[str, Row], orders: list[dict[str, Any]]) -> list[str]:
    """(a) Never two broker orders for one intent, and no broker order without an intent."""
    problems = []
    at_broker = Counter(sim_key(o) for o in orders)
    intents = Counter(intent_key(r.order) for r in rows.values())
    for key, count in at_broker.items():
        if count > intents.get(key, 0):
            problems.append(f"{count} broker orders for {intents.get(key, 0)} intents {key}")
    return problems


def place_calls_beyond_intents(rows: dict[str, Row], calls: list[dict[str, Any]]) -> list[str]:
    """No intent was sent twice: ``POST order`` calls that reached the gateway, per intent key."""
    sent = Counter(
        (
            f"{date.fromisoformat(str(c['body']['expiry_date'])[:10]):%d-%b-%Y}",
            Decimal(str(c["body"]["strike_price"])),
            str(c["body"]["right"]).lower(),
            str(c["body"]["action"]).lower(),
            int(c["body"]["quantity"]),
        )
        for c in calls
        if c["method"] == "POST" and c["endpoint"] == "order"
    )
    intents = Counter(intent_key(r.order) for r in rows.values())
    return [
        f"{count} place calls for {intents.get(key, 0)} intents {key}"
        for key, count in sent.items()
        if count > intents.get(key, 0)
    ]


def books_agree(rows: dict[str, Row], orders: list[dict[str, Any]]) -> list[str]:
    """(b) Each executor row says what the broker's book says about its order."""
    problems = []
    by_id = {str(o["order_id"]): o for o in orders}
    adopted = {r.broker_order_id for r in rows.values() if r.broker_order_id}
    for order_id in sorted(set(by_id) - adopted):
        problems.append(f"broker order {order_id} {sim_key(by_id[order_id])} has no executor row")
    for row in rows.values():
        if row.status in ("UNKNOWN", "PENDING_SUBMIT"):
            problems.append(f"{row.client_order_id} still {row.status}")
            continue
        if row.broker_order_id is None:
            if row.status != "REJECTED" or row.filled:
                problems.append(f"{row.client_order_id} {row.status} without a broker order id")
            continue
        broker_row = by_id.get(row.broker_order_id)
        if broker_row is None:
            problems.append(f"{row.client_order_id}: broker order {row.broker_order_id} unknown")
            continue
        expected = executor_view(broker_row)
        if (row.status, row.filled) != expected:
            problems.append(
                f"{row.client_order_id}: executor {(row.status, row.filled)}, broker "
                f"{broker_row['status']} with {sim_filled(broker_row)} filled -> {expected}"
            )
        if sim_key(broker_row) != intent_key(row.order):
            problems.append(f"{row.client_order_id} adopted a different order {broker_row}")
    return problems


def sim_net(book: dict[str, Any]) -> dict[Decimal, int]:
    """Signed net quantity per strike at the broker (puts of one expiry in these tests)."""
    net: dict[Decimal, int] = {}
    for p in book["positions"]:
        signed = int(p["quantity"]) * (-1 if p["action"] == "Sell" else 1)
        strike = Decimal(str(p["strike_price"]))
        net[strike] = net.get(strike, 0) + signed
    return {k: v for k, v in net.items() if v}


async def executor_net(service: ExecutorService) -> dict[Decimal, int]:
    """The same from the executor's own book."""
    return {inst.strike: qty for inst, qty in (await service.held()).values()}


def multi_leg_rules(rows: dict[str, Row], book: dict[str, Any]) -> list[str]:
    """(c) No main without a filled hedge; a failed main leaves nothing open; an exit never
    leaves the main short without its hedge."""
    problems = []
    net = sim_net(book)
    by_leg = {(r.order.purpose, r.order.leg): r for r in rows.values()}
    hedge = by_leg.get((Purpose.ENTRY, Leg.HEDGE))
    main = by_leg.get((Purpose.ENTRY, Leg.MAIN))
    hedge_filled = hedge is not None and hedge.status == "FILLED"
    if (
        main is not None
        and main.broker_order_id is not None
        and (hedge is None or not hedge_filled or hedge.filled < main.order.quantity)
    ):
        problems.append(f"main placed without a filled hedge: hedge {hedge}")
    if main is not None and main.status != "FILLED" and net:
        problems.append(f"entry main {main.status} but the broker holds {net}")
    short = -min(net.get(MAIN_STRIKE, 0), 0)
    if short and net.get(HEDGE_STRIKE, 0) < short:
        problems.append(f"main short {short} without its hedge: broker holds {net}")
    return problems


async def sim_call(control: httpx.Client, method: str, path: str) -> Any:
    """One call of the simulator's control API, off the event loop."""
    reply = await asyncio.to_thread(control.request, method, path)
    reply.raise_for_status()
    return reply.json()


async def wait_book_orders(
    control: httpx.Client, accept: Any, timeout_s: float, what: str
) -> list[dict[str, Any]]:
    """Wait until the simulator's order list satisfies ``accept``."""

    async def orders() -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await asyncio.to_thread(sim_sdk.book, control))["orders"]
        return result

    return await eventually(orders, accept, timeout_s, what)
