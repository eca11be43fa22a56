"""The paper broker (services/executor/adapters/paper.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.clock import FixedClock
from libs.common.messages import OptionRight, Side
from services.executor.adapters.paper import PaperBroker, PaperFillModel, fill_price, model_mid
from services.executor.broker import OrderStatus
from tests.factories import make_instrument, make_order

TICK = Decimal("0.05")
AT = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 10:30 IST
EXPIRY = date(2026, 12, 1)
MODEL = PaperFillModel(
    iv=0.12, spread_pct=Decimal(2), slippage_pct=Decimal("0.5"), brokerage_per_order=Decimal(20)
)
NO_COST = PaperFillModel(
    iv=0.12, spread_pct=Decimal(0), slippage_pct=Decimal(0), brokerage_per_order=Decimal(20)
)


def on_tick(price: Decimal) -> bool:
    return price % TICK == 0


# --- fill_price -----------------------------------------------------------------------------


def test_fill_price_when_buying_pays_half_spread_plus_slippage_rounded_up() -> None:
    # 100 + 1 (half of 2 %) = 101; + 0.5 % = 101.505; up to the tick: 101.55
    assert fill_price(Decimal(100), Side.BUY, MODEL) == Decimal("101.55")


def test_fill_price_when_selling_gives_half_spread_plus_slippage_rounded_down() -> None:
    # 100 - 1 = 99; - 0.5 % = 98.505; down to the tick: 98.50
    assert fill_price(Decimal(100), Side.SELL, MODEL) == Decimal("98.50")


@pytest.mark.parametrize(
    ("side", "expected"), [(Side.BUY, Decimal("100.05")), (Side.SELL, Decimal("100.00"))]
)
def test_fill_price_when_no_spread_rounds_off_tick_mid_away_from_trader(
    side: Side, expected: Decimal
) -> None:
    assert fill_price(Decimal("100.02"), side, NO_COST) == expected


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize("mid", [Decimal(0), Decimal("0.01"), Decimal("0.049")])
def test_fill_price_when_mid_below_one_tick_never_goes_below_a_tick(
    side: Side, mid: Decimal
) -> None:
    assert fill_price(mid, side, MODEL) == TICK


@settings(max_examples=200, deadline=None)
@given(
    mid=st.decimals(min_value=Decimal("0.05"), max_value=Decimal(5000), places=4),
    spread=st.decimals(min_value=Decimal(0), max_value=Decimal(10), places=2),
    slippage=st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=2),
)
def test_fill_price_when_any_mid_buy_at_or_above_and_sell_at_or_below_on_tick(
    mid: Decimal, spread: Decimal, slippage: Decimal
) -> None:
    model = PaperFillModel(0.12, spread, slippage, Decimal(20))

    buy = fill_price(mid, Side.BUY, model)
    sell = fill_price(mid, Side.SELL, model)

    assert buy >= mid
    assert sell <= mid
    assert sell >= TICK
    assert on_tick(buy)
    assert on_tick(sell)
    assert buy - sell < TICK * 2 + mid * (spread + 2 * slippage) / 100 * Decimal("1.01")


# --- model_mid ------------------------------------------------------------------------------


def test_model_mid_when_order_lacks_underlying_price_raises() -> None:
    with pytest.raises(ValueError, match="underlying price"):
        model_mid(make_order(underlying_price=None), FixedClock(AT), 0.12)


def test_model_mid_when_put_deeper_in_money_is_worth_more() -> None:
    clock = FixedClock(AT)
    order = make_order(instrument=make_instrument(strike=Decimal(24000), right=OptionRight.PE))

    near = model_mid(order.model_copy(update={"underlying_price": Decimal(24010)}), clock, 0.12)
    deeper = model_mid(order.model_copy(update={"underlying_price": Decimal(23800)}), clock, 0.12)

    assert Decimal(0) < near < deeper
    assert deeper > Decimal(200)  # at least intrinsic value


# --- PaperBroker ----------------------------------------------------------------------------


@pytest.mark.parametrize("side", [Side.SELL, Side.BUY])
async def test_paper_broker_when_order_priced_fills_whole_order_with_model_price(
    side: Side,
) -> None:
    clock = FixedClock(AT)
    order = make_order(
        side=side,
        instrument=make_instrument(expiry=EXPIRY, strike=Decimal(24000), right=OptionRight.PE),
        underlying_price=Decimal(24010),
        quantity=130,
        lot_size=65,
    )

    result = await PaperBroker(clock, MODEL).submit(order)

    assert result.status is OrderStatus.FILLED
    assert result.broker_order_id == f"paper-{order.client_order_id}"
    assert result.reason is None
    assert len(result.executions) == 1
    execution = result.executions[0]
    assert execution.execution_id == f"paper-{order.client_order_id}-1"
    assert execution.quantity == 130
    assert execution.price_source == "model"
    assert execution.price == fill_price(model_mid(order, clock, MODEL.iv), side, MODEL)
    assert execution.price > TICK
    assert on_tick(execution.price)
    assert execution.charges > MODEL.brokerage_per_order  # brokerage plus taxes on top
    assert execution.charges < MODEL.brokerage_per_order * 2 + execution.price * 130 / 100


async def test_paper_broker_when_same_contract_bought_and_sold_buy_fills_higher() -> None:
    broker = PaperBroker(FixedClock(AT), MODEL)

    bought = await broker.submit(make_order(side=Side.BUY))
    sold = await broker.submit(make_order(side=Side.SELL))

    assert bought.executions[0].price > sold.executions[0].price


async def test_paper_broker_when_order_has_no_underlying_price_rejects_it() -> None:
    order = make_order(underlying_price=None)

    result = await PaperBroker(FixedClock(AT), MODEL).submit(order)

    assert result.status is OrderStatus.REJECTED
    assert result.broker_order_id is None
    assert result.executions == ()
    assert result.reason is not None
    assert "underlying price" in result.reason


async def test_paper_broker_when_looking_up_any_order_finds_none() -> None:
    assert await PaperBroker(FixedClock(AT), MODEL).lookup(make_order()) is None
