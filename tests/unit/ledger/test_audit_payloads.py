"""Every fact the ledger audits has an exact canonical form, and the kinds agree everywhere."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import get_args

import pytest

from libs.common.messages import (
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    MarkUpdated,
    Message,
    PlaceManualOrder,
    Purpose,
    ResolvePending,
    Side,
    SignalName,
    SquareOffAll,
    TradeClosed,
)
from services.ledger.audit_chain import canonical_json
from services.ledger.audit_store import KINDS
from services.ledger.service import _AUDIT_KIND
from services.monitor.audit_api import AuditKind
from tests.factories import (
    T0,
    TRADE_ID,
    make_fill,
    make_instrument,
    make_order,
    make_order_accepted,
    make_order_filled,
    make_order_rejected,
    make_risk_decision,
    make_signal,
    make_state_change,
)

AUDITED: list[Message] = [
    make_signal(),
    make_risk_decision(),
    make_order(),
    make_order_accepted(),
    make_order_rejected(),
    make_order_filled(),
    make_fill(),
    make_state_change(),
    ControlSet(
        ts_event=T0,
        key=ControlKey.LIMITS,
        values={"max_lots": "10"},
        changed_by="ops",
        reason="limits for expiry day",
    ),
    MarkUpdated(
        ts_event=T0, instrument=make_instrument(), price=Decimal("99.95"), price_source="quote"
    ),
    BrokerStatusChanged(ts_event=T0, mode="live", session_valid=False, detail="session expired"),
    SquareOffAll(ts_event=T0, command_id=TRADE_ID, requested_by="ops", reason="drill"),
    PlaceManualOrder(
        ts_event=T0,
        command_id=TRADE_ID,
        instrument=make_instrument(),
        side=Side.BUY,
        lots=1,
        purpose=Purpose.EXIT,
        requested_by="ops",
        reason="close by hand",
    ),
    ResolvePending(
        ts_event=T0, signal_id=TRADE_ID, approve=True, requested_by="ops", reason="looks right"
    ),
    TradeClosed(
        ts_event=T0 + timedelta(hours=1),
        trade_id=TRADE_ID,
        signal=SignalName.S1,
        net_pnl=Decimal("683.79"),
        charges=Decimal("92.96"),
    ),
]


@pytest.mark.parametrize("message", AUDITED, ids=lambda m: type(m).__name__)
def test_audited_message_payload_is_canonical_json(message: Message) -> None:
    payload = message.model_dump(mode="json")

    text = canonical_json(1, "fill", str(message.message_id), payload)

    assert str(message.message_id) in text


def test_every_audited_message_type_has_a_known_kind() -> None:
    assert {type(m).__name__ for m in AUDITED} - {"TradeClosed"} == set(_AUDIT_KIND)
    assert set(_AUDIT_KIND.values()) | {"trade_closed"} == set(KINDS)


def test_audit_route_accepts_exactly_the_ledger_kinds() -> None:
    assert set(get_args(AuditKind)) == set(KINDS)
