"""The paper broker against live quotes agrees with the Breeze simulator's own fills.

The same orders go to the paper broker (quoting from the simulator through the real SDK) and to
the simulator itself; their fill prices differ by no more than the quoted spread, and the paper
fill carries slippage and the charges model.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from libs.common.clock import SystemClock
from libs.common.messages import Instrument, Leg, OptionRight, Purpose, Side
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.adapters.breeze_sdk import create_breeze_client
from services.executor.adapters.paper import PaperBroker, PaperFillModel
from services.executor.broker import OrderStatus
from tests.factories import make_order
from tests.integration import test_breeze_sim_sdk as sim_sdk

pytestmark = pytest.mark.integration
guard, sim, control, api_session, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.expiry,
)
MODEL = PaperFillModel(
    iv=0.14,
    spread_pct=Decimal("1.0"),
    slippage_pct=Decimal("0.5"),
    brokerage_per_order=Decimal(20),
)


@pytest.mark.parametrize(
    ("side", "bid", "ask"),
    [(Side.BUY, "119.50", "120.50"), (Side.SELL, "119.50", "120.50"), (Side.BUY, "8.10", "8.40")],
)
async def test_same_order_on_paper_and_simulator_agrees_within_the_spread(
    sim: Any,
    control: httpx.Client,
    api_session: str,
    expiry: date,
    side: Side,
    bid: str,
    ask: str,
) -> None:
    mid = (Decimal(bid) + Decimal(ask)) / 2
    sim_sdk.set_quote(control, expiry, ltp=str(mid), best_bid_price=bid, best_offer_price=ask)
    client = create_breeze_client(sim_sdk.APP_KEY, sim.url)
    live = BreezeBroker(client, BreezeBrokerConfig(protection_pct=Decimal(5)))
    await live.login(sim_sdk.SECRET, api_session)
    paper = PaperBroker(SystemClock(), MODEL, quotes=live)
    instrument = Instrument(
        symbol="NIFTY", expiry=expiry, strike=Decimal(25000), right=OptionRight.CE
    )

    def order() -> Any:
        trade = uuid.uuid4()
        return make_order(
            ts_event=datetime.now(UTC),
            trade_id=trade,
            client_order_id=f"{trade.hex[:16]}-entry-hedge-0",
            message_id=uuid.uuid4(),
            instrument=instrument,
            side=side,
            quantity=65,
            limit_price=None,
            leg=Leg.HEDGE,
            purpose=Purpose.ENTRY,
        )

    try:
        on_paper = await paper.submit(order())
        at_broker = await live.submit(order())
    finally:
        live.close()
    assert on_paper.status is OrderStatus.FILLED
    assert at_broker.status is OrderStatus.FILLED
    [paper_fill] = on_paper.executions
    [broker_fill] = at_broker.executions
    spread = Decimal(ask) - Decimal(bid)
    assert abs(paper_fill.price - broker_fill.price) <= spread
    touch = Decimal(ask) if side is Side.BUY else Decimal(bid)
    # Slippage beyond the touch, against the trader, and charges on top.
    assert (paper_fill.price - touch) * (1 if side is Side.BUY else -1) > 0
    assert paper_fill.price_source == "quote"
    assert paper_fill.charges > Decimal(20)
    assert paper_fill.quantity == broker_fill.quantity == 65


async def test_paper_without_a_quote_falls_back_to_the_labelled_model(
    sim: Any, control: httpx.Client, api_session: str, expiry: date
) -> None:
    client = create_breeze_client(sim_sdk.APP_KEY, sim.url)
    live = BreezeBroker(client, BreezeBrokerConfig(call_timeout_s=2))
    await live.login(sim_sdk.SECRET, api_session)
    control.post("/sessions/expire").raise_for_status()  # noqa: ASYNC212 - quotes now fail
    paper = PaperBroker(SystemClock(), MODEL, quotes=live)
    trade = uuid.uuid4()
    command = make_order(
        ts_event=datetime.now(UTC),
        trade_id=trade,
        client_order_id=f"{trade.hex[:16]}-entry-hedge-0",
        message_id=uuid.uuid4(),
        instrument=Instrument(
            symbol="NIFTY", expiry=expiry, strike=Decimal(25000), right=OptionRight.CE
        ),
        side=Side.BUY,
        quantity=65,
        limit_price=None,
        underlying_price=Decimal(25000),
        leg=Leg.HEDGE,
        purpose=Purpose.ENTRY,
    )
    try:
        result = await paper.submit(command)
    finally:
        live.close()
    assert result.status is OrderStatus.FILLED
    assert result.executions[0].price_source == "model"
