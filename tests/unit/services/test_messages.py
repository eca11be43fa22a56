"""Kafka message models (libs/common/messages.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from libs.common.messages import (
    ID_NAMESPACE,
    Instrument,
    Message,
    OptionRight,
    SignalReceived,
    decode,
    derived_id,
    encode,
)
from tests.factories import (
    T0,
    make_fill,
    make_heartbeat,
    make_instrument,
    make_order,
    make_order_accepted,
    make_order_filled,
    make_order_rejected,
    make_risk_decision,
    make_signal,
    make_state_change,
)

FACTORIES: dict[str, Callable[..., Message]] = {
    "SignalReceived": make_signal,
    "RiskDecisionMade": make_risk_decision,
    "SubmitOrder": make_order,
    "OrderAccepted": make_order_accepted,
    "OrderRejected": make_order_rejected,
    "OrderFilled": make_order_filled,
    "FillReported": make_fill,
    "TradingStateChanged": make_state_change,
    "Heartbeat": make_heartbeat,
}
IST = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_decode_when_encoded_message_round_trips_to_equal_message(kind: str) -> None:
    message = FACTORIES[kind]()

    decoded = decode(encode(message))

    assert type(decoded) is type(message)
    assert decoded == message
    assert json.loads(encode(message))["type"] == kind


def test_decode_when_signal_has_every_optional_field_round_trips_them() -> None:
    message = make_signal(
        option_type=OptionRight.CE,
        strike=Decimal("25100"),
        stop_level=Decimal("25080.55"),
        price=Decimal("25012.35"),
        bar_time=datetime(2026, 11, 25, 5, 45, tzinfo=UTC),
        alert_id="tv-1",
        payload_style="indicator",
    )

    decoded = decode(encode(message))

    assert isinstance(decoded, SignalReceived)
    assert decoded.stop_level == Decimal("25080.55")
    assert decoded.bar_time == datetime(2026, 11, 25, 5, 45, tzinfo=UTC)
    assert decoded == message


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_message_when_ts_event_naive_rejects_it(kind: str) -> None:
    with pytest.raises(ValidationError, match="ts_event"):
        FACTORIES[kind](ts_event=datetime(2026, 11, 25, 5, 0))  # noqa: DTZ001 - naive on purpose


def test_message_when_ts_event_in_ist_stores_it_in_utc() -> None:
    message = make_signal(ts_event=datetime(2026, 11, 25, 10, 30, tzinfo=IST))

    assert message.ts_event == T0
    assert message.ts_event.utcoffset() == timedelta(0)


def test_heartbeat_when_started_at_naive_rejects_it() -> None:
    with pytest.raises(ValidationError, match="started_at"):
        make_heartbeat(started_at=datetime(2026, 11, 25, 3, 0))  # noqa: DTZ001


def test_decode_when_ts_event_naive_in_json_raises() -> None:
    raw = json.loads(encode(make_signal()))
    raw["ts_event"] = "2026-11-25T05:00:00"

    with pytest.raises(ValidationError, match="ts_event"):
        decode(json.dumps(raw).encode())


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_message_when_extra_field_given_rejects_it(kind: str) -> None:
    with pytest.raises(ValidationError, match="unexpected"):
        FACTORIES[kind](unexpected=1)


def test_decode_when_json_has_extra_field_raises() -> None:
    raw = json.loads(encode(make_order()))
    raw["unexpected"] = 1

    with pytest.raises(ValidationError, match="unexpected"):
        decode(json.dumps(raw).encode())


def test_instrument_when_extra_field_given_rejects_it() -> None:
    with pytest.raises(ValidationError):
        Instrument(
            symbol="NIFTY",
            expiry=date(2026, 12, 1),
            strike=Decimal(24000),
            right=OptionRight.PE,
            lot=65,  # type: ignore[call-arg]
        )


@pytest.mark.parametrize("kind", ["OrderCancelled", "signalreceived", "", None])
def test_decode_when_type_unknown_or_missing_raises_validation_error(kind: Any) -> None:
    raw = json.loads(encode(make_signal()))
    if kind is None:
        del raw["type"]
    else:
        raw["type"] = kind

    with pytest.raises(ValidationError):
        decode(json.dumps(raw).encode())


def test_decode_when_not_json_raises_validation_error() -> None:
    with pytest.raises(ValidationError):
        decode(b"not json")


def test_decode_when_schema_version_not_1_raises() -> None:
    raw = json.loads(encode(make_signal()))
    raw["schema_version"] = 2

    with pytest.raises(ValidationError, match="schema_version"):
        decode(json.dumps(raw).encode())


def test_message_when_frozen_refuses_assignment() -> None:
    message = make_signal()

    with pytest.raises(ValidationError):
        message.price = Decimal(1)  # type: ignore[misc]


def test_message_when_message_id_not_given_each_gets_a_new_one() -> None:
    assert make_signal().message_id != make_signal().message_id


# --- derived_id -----------------------------------------------------------------------------


def test_derived_id_when_same_parts_returns_same_uuid5() -> None:
    first = derived_id("signal", "S1|NIFTY|2026-W48|entry")
    second = derived_id("signal", "S1|NIFTY|2026-W48|entry")

    assert first == second
    assert first.version == 5
    assert first == uuid.uuid5(ID_NAMESPACE, "signal|S1|NIFTY|2026-W48|entry")


def test_derived_id_when_computed_in_any_process_has_the_pinned_value() -> None:
    # Pinned: ids already in Kafka and PostgreSQL depend on the namespace and the join rule.
    assert derived_id("signal", "S1|NIFTY|2026-W48|entry") == uuid.UUID(
        "7891cf02-03f3-5a7d-806f-1d731b8ad4e3"
    )


def test_derived_id_when_parts_differ_returns_different_uuids() -> None:
    assert derived_id("signal", "a") != derived_id("signal", "b")
    assert derived_id("signal", "a") != derived_id("trade", "a")


def test_derived_id_when_parts_not_strings_uses_their_str() -> None:
    trade = uuid.UUID(int=7)

    assert derived_id("order", trade, 1) == derived_id("order", str(trade), "1")


# --- Instrument.key -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strike", "right", "key"),
    [
        (Decimal(24000), OptionRight.PE, "NIFTY-2026-11-26-24000-PE"),
        (Decimal("24000.00"), OptionRight.PE, "NIFTY-2026-11-26-24000-PE"),
        (Decimal("2.4E+4"), OptionRight.PE, "NIFTY-2026-11-26-24000-PE"),
        (Decimal("25150"), OptionRight.CE, "NIFTY-2026-11-26-25150-CE"),
        (Decimal("24000.50"), OptionRight.CE, "NIFTY-2026-11-26-24000.5-CE"),
    ],
)
def test_instrument_key_when_built_is_symbol_expiry_plain_strike_right(
    strike: Decimal, right: OptionRight, key: str
) -> None:
    instrument = make_instrument(expiry=date(2026, 11, 26), strike=strike, right=right)

    assert instrument.key == key


def test_instrument_key_when_strike_spelled_differently_is_the_same() -> None:
    a = make_instrument(strike=Decimal("24000"))
    b = make_instrument(strike=Decimal("24000.000"))

    assert a.key == b.key
