"""Kafka messages become the dashboard's small JSON events."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from libs.common.control import ControlFacts, apply_control
from libs.common.messages import (
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    DecisionOutcome,
    PnlSnapshot,
    ResolvePending,
)
from services.monitor.dashboard.events import EVENT_TYPES, safety_view, to_event
from services.monitor.dashboard.feed import FeedState
from tests.factories import (
    SIGNAL_ID,
    T0,
    TRADE_ID,
    make_fill,
    make_heartbeat,
    make_order_filled,
    make_order_rejected,
    make_risk_decision,
    make_signal,
)


def _kill(engaged: bool) -> ControlSet:
    return ControlSet(
        ts_event=T0,
        key=ControlKey.KILL_SWITCH,
        engaged=engaged,
        changed_by="desk",
        reason="broker outage",
    )


def test_fill_event_when_mapped_keeps_decimals_as_strings_and_utc_time() -> None:
    ev = to_event(make_fill(price=Decimal("101.35"), charges=Decimal("31.42")))

    assert ev is not None
    assert ev["type"] == "fill"
    assert ev["ts"] == "2026-11-25T05:00:00+00:00"
    assert ev["data"]["price"] == "101.35"
    assert ev["data"]["charges"] == "31.42"
    assert ev["data"]["instrument"] == {
        "key": "NIFTY-2026-12-01-24000-PE",
        "symbol": "NIFTY",
        "expiry": "2026-12-01",
        "strike": "24000",
        "option_type": "PE",
    }
    assert ev["data"]["trade_id"] == str(TRADE_ID)
    assert ev["data"]["side"] == "SELL"


def test_every_mapped_event_is_plain_json_with_type_ts_data() -> None:
    messages = [
        make_signal(strike=Decimal(24000), price=Decimal("24250.5")),
        make_risk_decision(),
        make_order_rejected(),
        make_order_filled(),
        make_fill(),
        PnlSnapshot(
            ts_event=T0,
            trading_day=date(2026, 11, 25),
            realized=Decimal("1200.50"),
            unrealized=Decimal("-300.25"),
            charges=Decimal("62.84"),
            net=Decimal("837.41"),
            open_positions=2,
            marks_missing=0,
        ),
        _kill(True),
        BrokerStatusChanged(ts_event=T0, mode="paper", session_valid=True, detail="paper"),
        ResolvePending(
            ts_event=T0, signal_id=SIGNAL_ID, approve=True, requested_by="desk", reason="ok"
        ),
    ]
    for message in messages:
        ev = to_event(message)
        assert ev is not None, message
        assert set(ev) == {"type", "ts", "data"}
        assert ev["type"] in EVENT_TYPES
        assert json.loads(json.dumps(ev)) == ev  # nothing that json cannot carry as is


def test_pnl_event_when_mapped_carries_every_figure_as_string() -> None:
    snapshot = PnlSnapshot(
        ts_event=T0,
        trading_day=date(2026, 11, 25),
        realized=Decimal("1200.50"),
        unrealized=Decimal("-300.25"),
        charges=Decimal("62.84"),
        net=Decimal("837.41"),
        open_positions=2,
        marks_missing=1,
    )

    ev = to_event(snapshot)

    assert ev is not None
    assert ev["data"] == {
        "trading_day": "2026-11-25",
        "at": "2026-11-25T05:00:00+00:00",
        "realized": "1200.50",
        "unrealized": "-300.25",
        "charges": "62.84",
        "net": "837.41",
        "open_positions": 2,
        "marks_missing": 1,
    }


def test_rejections_when_mapped_keep_their_reasons() -> None:
    denied = to_event(
        make_risk_decision(
            outcome=DecisionOutcome.DENIED, trade_id=None, reasons=("kill switch is on",)
        )
    )
    rejected = to_event(make_order_rejected(reason="no margin"))

    assert denied is not None
    assert rejected is not None
    assert denied["data"]["outcome"] == "denied"
    assert denied["data"]["reasons"] == ["kill switch is on"]
    assert denied["data"]["trade_id"] is None
    assert rejected["data"] == {
        "event": "rejected",
        "client_order_id": make_order_rejected().client_order_id,
        "trade_id": str(TRADE_ID),
        "broker_order_id": None,
        "reason": "no margin",
    }


def test_order_filled_when_mapped_names_quantity_and_price() -> None:
    ev = to_event(make_order_filled(filled_quantity=65, average_price=Decimal("101.35")))

    assert ev is not None
    assert ev["type"] == "order_event"
    assert ev["data"]["event"] == "filled"
    assert ev["data"]["filled_quantity"] == 65
    assert ev["data"]["average_price"] == "101.35"


def test_heartbeat_is_not_shown() -> None:
    assert to_event(make_heartbeat()) is None


def test_safety_view_when_kill_switch_on_is_halted_with_reason_and_who() -> None:
    message = _kill(True)
    facts = apply_control(ControlFacts(), message)

    view = safety_view(facts, {"kill_switch": message})

    assert view["trading_state"] == "HALTED"
    assert view["kill_switch"] is True
    assert view["restrictions"] == ["kill switch is on"]
    assert view["last_changes"]["kill_switch"]["changed_by"] == "desk"
    assert view["last_changes"]["kill_switch"]["reason"] == "broker outage"


def test_feed_state_when_kill_switch_turned_off_again_is_active() -> None:
    state = FeedState()

    assert state.apply(_kill(True)) is True
    assert state.safety()["trading_state"] == "HALTED"
    assert state.apply(_kill(False)) is True

    assert state.safety()["trading_state"] == "ACTIVE"
    assert state.safety()["restrictions"] == []


def test_feed_state_keeps_the_latest_broker_status_and_ignores_facts() -> None:
    state = FeedState()
    down = BrokerStatusChanged(ts_event=T0, mode="live", session_valid=False, detail="expired")

    assert state.apply(down) is True
    assert state.apply(make_fill()) is False

    assert state.broker == down
