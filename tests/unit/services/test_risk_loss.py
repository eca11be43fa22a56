"""Daily loss limits: levels, and the control facts the guard publishes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.common.clock import FixedClock
from libs.common.control import apply_control
from libs.common.messages import ControlKey, ControlSet, Message, PnlSnapshot, SquareOffAll
from libs.common.topics import Topic
from services.risk.loss import LossGuard, LossLevel, LossLimits, loss_level
from services.risk.service import ControlHolder

LIMITS = LossLimits(Decimal(10000), Decimal("0.8"), Decimal(20000))
CLOCK = FixedClock(datetime(2026, 11, 25, 6, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("net", "level"),
    [
        ("500", LossLevel.OK),
        ("-7999.99", LossLevel.OK),
        ("-8000", LossLevel.WARN),
        ("-10000", LossLevel.HALT),
        ("-19999.99", LossLevel.HALT),
        ("-20000", LossLevel.PANIC),
    ],
)
def test_loss_level_at_the_boundaries(net: str, level: LossLevel) -> None:
    assert loss_level(Decimal(net), LIMITS) is level


def snapshot(net: str, day: date = date(2026, 11, 25)) -> PnlSnapshot:
    value = Decimal(net)
    return PnlSnapshot(
        ts_event=CLOCK.now(),
        trading_day=day,
        realized=value,
        unrealized=Decimal(0),
        charges=Decimal(0),
        net=value,
        open_positions=2,
        marks_missing=0,
    )


class Sink:
    def __init__(self, control: ControlHolder) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.control = control

    async def __call__(self, topic: Topic, message: Message, key: str) -> None:
        self.sent.append((topic.name, message))
        if isinstance(message, ControlSet):  # as the control watcher would
            self.control.facts = apply_control(self.control.facts, message)


async def test_guard_when_loss_crosses_limit_sets_loss_halt_once() -> None:
    control = ControlHolder()
    sink = Sink(control)
    guard = LossGuard(LIMITS, control, sink, CLOCK)

    await guard.on_snapshot(snapshot("-10500"))
    await guard.on_snapshot(snapshot("-11000"))

    [(_, message)] = sink.sent
    assert isinstance(message, ControlSet)
    assert message.key is ControlKey.LOSS_HALT
    assert message.engaged is True
    assert message.values == {"trading_day": "2026-11-25"}


async def test_guard_when_loss_crosses_panic_runs_emergency_stop_and_square_off() -> None:
    control = ControlHolder()
    sink = Sink(control)
    guard = LossGuard(LIMITS, control, sink, CLOCK)

    level = await guard.on_snapshot(snapshot("-25000"))

    assert level is LossLevel.PANIC
    kinds = [type(m).__name__ + ":" + getattr(m, "key", "") for _, m in sink.sent]
    assert kinds == [
        "ControlSet:emergency_stop",
        "SquareOffAll:",
        "ControlSet:loss_halt",
    ]
    assert isinstance(sink.sent[1][1], SquareOffAll)
    assert control.facts.emergency_stop is True


async def test_guard_when_new_day_within_limits_clears_yesterdays_loss_halt() -> None:
    control = ControlHolder()
    sink = Sink(control)
    guard = LossGuard(LIMITS, control, sink, CLOCK)
    await guard.on_snapshot(snapshot("-12000", date(2026, 11, 24)))

    await guard.on_snapshot(snapshot("-100", date(2026, 11, 25)))

    last = sink.sent[-1][1]
    assert isinstance(last, ControlSet)
    assert last.key is ControlKey.LOSS_HALT
    assert last.engaged is False
    assert control.facts.loss_halt is False


async def test_guard_when_warning_level_publishes_nothing() -> None:
    control = ControlHolder()
    sink = Sink(control)

    level = await LossGuard(LIMITS, control, sink, CLOCK).on_snapshot(snapshot("-9000"))

    assert level is LossLevel.WARN
    assert sink.sent == []
