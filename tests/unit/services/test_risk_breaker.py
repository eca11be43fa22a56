"""The circuit breaker: trips, cooldown, half-open trial, operator reset."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from libs.common.clock import FixedClock
from libs.common.messages import (
    ControlKey,
    ControlSet,
    Message,
    OrderFilled,
    OrderRejected,
    SignalName,
    TradeClosed,
)
from libs.common.topics import Topic
from services.risk.breaker import Breaker, BreakerConfig, BreakerState
from services.risk.circuit import CircuitKeeper

T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
CONFIG = BreakerConfig(
    error_burst=3,
    error_window=timedelta(seconds=60),
    max_consecutive_losses=2,
    max_single_trade_loss=Decimal(10000),
    cooldown=timedelta(minutes=5),
)


def test_breaker_when_errors_burst_within_window_opens() -> None:
    breaker = Breaker(CONFIG)

    opened = [breaker.on_broker_error(T0 + timedelta(seconds=s), "500") for s in (0, 10, 20)]

    assert opened == [False, False, True]
    assert breaker.state is BreakerState.OPEN
    assert "3 broker errors" in breaker.reason


def test_breaker_when_errors_spread_beyond_window_stays_closed() -> None:
    breaker = Breaker(CONFIG)

    for s in (0, 61, 122):
        breaker.on_broker_error(T0 + timedelta(seconds=s), "timeout")

    assert breaker.state is BreakerState.CLOSED


def test_breaker_when_losing_streak_reaches_limit_opens_and_a_win_resets_it() -> None:
    breaker = Breaker(CONFIG)

    assert breaker.on_trade_closed(T0, Decimal(-100)) is False
    assert breaker.on_trade_closed(T0, Decimal(50)) is False
    assert breaker.on_trade_closed(T0, Decimal(-100)) is False
    assert breaker.on_trade_closed(T0, Decimal(-100)) is True
    assert "2 losing trades" in breaker.reason


def test_breaker_when_one_trade_loses_too_much_opens() -> None:
    breaker = Breaker(CONFIG)

    assert breaker.on_trade_closed(T0, Decimal(-10000)) is True
    assert "single trade lost 10000.00" in breaker.reason


def test_breaker_after_cooldown_goes_half_open_and_a_filled_trial_closes_it() -> None:
    breaker = Breaker(CONFIG)
    breaker.trip(T0, "test")

    assert breaker.tick(T0 + timedelta(minutes=4)) is False
    assert breaker.tick(T0 + timedelta(minutes=5)) is True
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.on_trial_filled() is True
    assert breaker.state is BreakerState.CLOSED


def test_breaker_when_half_open_trial_fails_opens_again() -> None:
    breaker = Breaker(CONFIG)
    breaker.trip(T0, "test")
    breaker.tick(T0 + timedelta(minutes=5))

    assert breaker.on_broker_error(T0 + timedelta(minutes=6), "rejected") is True
    assert breaker.state is BreakerState.OPEN


class Sink:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, _topic: Topic, message: Message, _key: str) -> None:
        self.sent.append(message)


def _rejected(trade_id: uuid.UUID) -> OrderRejected:
    return OrderRejected(
        ts_event=T0,
        client_order_id=f"{trade_id.hex[:16]}-entry-main-0",
        trade_id=trade_id,
        reason="broker said no",
    )


async def test_keeper_publishes_open_then_half_open_then_closed_with_one_trial() -> None:
    clock = FixedClock(T0)
    keeper = CircuitKeeper(CONFIG, clock)
    sink = Sink()
    keeper.bind(sink)
    for _ in range(3):
        await keeper.on_order_event(_rejected(uuid.uuid4()))

    clock.set(T0 + timedelta(minutes=5))
    await keeper.tick()
    trial = uuid.uuid4()
    assert keeper.entry_allowed() is None
    keeper.entry_approved(trial)
    second = keeper.entry_allowed()
    await keeper.on_order_event(
        OrderFilled(
            ts_event=T0,
            client_order_id=f"{trial.hex[:16]}-entry-main-0",
            trade_id=trial,
            filled_quantity=65,
            average_price=Decimal(100),
        )
    )

    states = [m.values["state"] for m in sink.sent if isinstance(m, ControlSet)]
    assert states == ["open", "half_open", "closed"]
    assert second is not None
    assert "trial entry is already in flight" in second
    assert keeper.entry_allowed() is None


async def test_keeper_when_operator_resets_forgets_history() -> None:
    keeper = CircuitKeeper(CONFIG, FixedClock(T0))
    keeper.bind(Sink())
    await keeper.on_trade_closed(
        TradeClosed(
            ts_event=T0,
            trade_id=uuid.uuid4(),
            signal=SignalName.S1,
            net_pnl=Decimal(-20000),
            charges=Decimal(40),
        ),
        live=True,
    )
    assert keeper.breaker.state is BreakerState.OPEN

    keeper.on_control(
        ControlSet(
            ts_event=T0,
            key=ControlKey.CIRCUIT,
            values={"state": "closed"},
            changed_by="operator",
            reason="checked the broker",
        )
    )

    assert keeper.breaker.state is BreakerState.CLOSED
    assert keeper.breaker.consecutive_losses == 0


async def test_keeper_when_replaying_history_counts_but_does_not_publish() -> None:
    keeper = CircuitKeeper(CONFIG, FixedClock(T0))
    sink = Sink()
    keeper.bind(sink)

    await keeper.on_trade_closed(
        TradeClosed(
            ts_event=T0,
            trade_id=uuid.uuid4(),
            signal=SignalName.S1,
            net_pnl=Decimal(-20000),
            charges=Decimal(40),
        ),
        live=False,
    )

    assert sink.sent == []


async def test_keeper_when_broker_session_invalid_opens_only_for_live_news() -> None:
    from libs.common.messages import BrokerStatusChanged

    keeper = CircuitKeeper(CONFIG, FixedClock(T0))
    sink = Sink()
    keeper.bind(sink)
    bad = BrokerStatusChanged(
        ts_event=T0,
        mode="live",
        session_valid=False,
        detail="get_order_list: Session key is expired",
    )

    await keeper.on_broker_status(bad, live=False)
    assert sink.sent == []
    await keeper.on_broker_status(bad, live=True)

    assert keeper.breaker.state is BreakerState.OPEN
    [message] = sink.sent
    assert isinstance(message, ControlSet)
    assert "broker session invalid" in message.values["reason"]
