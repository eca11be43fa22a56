"""Trades from fills (libs/analytics/trades.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.analytics.trades import Fill, build_trade, build_trades

D = Decimal
T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
TRADE = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER = uuid.UUID("33333333-3333-4333-8333-333333333333")
ENTRY_SIGNAL = uuid.UUID("22222222-2222-4222-8222-222222222222")
MAIN, HEDGE = "NIFTY-2026-12-01-24000-PE", "NIFTY-2026-12-01-23800-PE"


def fill(
    n: int,
    purpose: str,
    leg: str,
    side: str,
    price: str,
    quantity: int = 65,
    trade_id: uuid.UUID = TRADE,
    charges: str = "10",
) -> Fill:
    return Fill(
        fill_id=f"f-{trade_id.hex[:4]}-{n}",
        trade_id=trade_id,
        signal="S1",
        purpose=purpose,
        leg=leg,
        instrument_key=MAIN if leg == "main" else HEDGE,
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        price=D(price),
        charges=D(charges),
        filled_at=T0 + timedelta(minutes=n),
        signal_id=ENTRY_SIGNAL,
    )


ENTRY = [fill(0, "entry", "hedge", "BUY", "20"), fill(1, "entry", "main", "SELL", "100")]
EXIT = [fill(10, "exit", "main", "BUY", "60"), fill(11, "exit", "hedge", "SELL", "10")]


def test_a_hedged_trade_with_every_leg_flat_is_closed_with_its_pnl() -> None:
    t = build_trade([*EXIT, *ENTRY])

    # main: +6500 - 3900 = 2600; hedge: -1300 + 650 = -650; charges 4 x 10
    assert t.status == "closed"
    assert t.gross_pnl == D(1950)
    assert t.charges == D(40)
    assert t.net_pnl == D(1910)
    assert t.opened_at == T0
    assert t.closed_at == T0 + timedelta(minutes=11)
    assert [f.fill_id for f in t.fills] == ["f-1111-0", "f-1111-1", "f-1111-10", "f-1111-11"]
    main = next(leg for leg in t.legs if leg.leg == "main")
    assert (main.net_quantity, main.sold, main.bought) == (0, 65, 65)
    assert (main.average_sell, main.average_buy, main.cash) == (D(100), D(60), D(2600))
    assert t.entry_signal_id == ENTRY_SIGNAL


def test_a_trade_with_a_leg_still_held_is_open_without_a_result() -> None:
    t = build_trade([*ENTRY, EXIT[0]])

    assert t.status == "open"
    assert t.closed_at is None
    assert t.gross_pnl is None
    assert t.net_pnl is None
    assert t.charges == D(30)


def test_a_partly_closed_leg_keeps_the_trade_open() -> None:
    t = build_trade([*ENTRY, fill(10, "exit", "main", "BUY", "60", quantity=30), EXIT[1]])

    assert t.status == "open"
    assert next(leg for leg in t.legs if leg.leg == "main").net_quantity == -35


def test_build_trades_groups_by_trade_in_order_of_first_fill() -> None:
    later = [fill(5, "entry", "main", "SELL", "90", trade_id=OTHER)]

    trades = build_trades([*later, *EXIT, *ENTRY])

    assert [t.trade_id for t in trades] == [TRADE, OTHER]
    assert [t.status for t in trades] == ["closed", "open"]


def test_build_trade_refuses_mixed_or_empty_input() -> None:
    with pytest.raises(ValueError, match="several trades"):
        build_trade([ENTRY[0], fill(5, "entry", "main", "SELL", "1", trade_id=OTHER)])
    with pytest.raises(ValueError, match="at least one"):
        build_trade([])


legs = st.lists(
    st.tuples(
        st.sampled_from(["main", "hedge"]),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(1, 200),
        st.decimals(D("0.05"), D(500), places=2),
    ),
    min_size=1,
    max_size=12,
)


@given(legs)
def test_a_trade_is_closed_exactly_when_every_leg_nets_to_zero(rows: list[Any]) -> None:
    fills = [
        fill(i, "entry", leg, side, str(price), quantity=qty)
        for i, (leg, side, qty, price) in enumerate(rows)
    ]
    nets: dict[str, int] = {}
    for leg, side, qty, _ in rows:
        nets[leg] = nets.get(leg, 0) + (qty if side == "BUY" else -qty)

    t = build_trade(fills)

    assert (t.status == "closed") == all(n == 0 for n in nets.values())
    assert {leg.leg: leg.net_quantity for leg in t.legs} == nets
    assert sum((leg.cash for leg in t.legs), D(0)) == sum((f.cash for f in fills), D(0))
    assert t.charges == D(10) * len(fills)


@given(legs)
def test_fills_in_opposite_pairs_always_close_the_trade(rows: list[Any]) -> None:
    opposite = {"BUY": "SELL", "SELL": "BUY"}
    fills = []
    for i, (leg, side, qty, price) in enumerate(rows):
        fills.append(fill(2 * i, "entry", leg, side, str(price), quantity=qty))
        fills.append(fill(2 * i + 1, "exit", leg, opposite[side], str(price), quantity=qty))

    t = build_trade(fills)

    assert t.status == "closed"
    assert t.gross_pnl == 0  # every pair at the same price
    assert t.net_pnl == -t.charges
