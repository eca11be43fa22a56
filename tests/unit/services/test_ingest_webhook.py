"""Alert payload validation and normalisation (services/ingest/webhook.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from libs.common.messages import OptionRight, SignalAction, SignalName, SignalReceived, derived_id
from services.ingest.webhook import (
    AlertError,
    dedup_key,
    normalise_action,
    normalise_signal,
    normalise_symbol,
    parse_payload,
    to_signal,
    trading_week,
)

RECEIVED = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 10:30 IST, ISO week 48
BAR = datetime(2026, 11, 25, 5, 45, tzinfo=UTC)
BAR_MS = int(BAR.timestamp() * 1000)

BRIEF = {"signal": "S1", "action": "Entry", "symbol": "NIFTY", "price": 24010}
INDICATOR = {
    "signal": "S6",
    "strike": 25100,
    "type": "CE",
    "action": "Entry",
    "sl": 25080,
    "bar_time": "2026-11-25T05:45:00Z",
}


def signal_of(body: dict[str, Any], received_at: datetime = RECEIVED) -> SignalReceived:
    return to_signal(parse_payload(body), received_at, "52.89.214.238")


def rejection(body: Any) -> AlertError:
    with pytest.raises(AlertError) as caught:
        signal_of(body)
    return caught.value


# --- payload styles -------------------------------------------------------------------------


def test_to_signal_when_brief_payload_maps_every_field() -> None:
    message = signal_of(BRIEF)

    assert message.signal is SignalName.S1
    assert message.action is SignalAction.ENTRY
    assert message.symbol == "NIFTY"
    assert message.price == Decimal(24010)
    assert message.strike is None
    assert message.stop_level is None
    assert message.option_type is None
    assert message.bar_time is None
    assert message.payload_style == "brief"
    assert message.trading_week == "2026-W48"
    assert message.ts_event == RECEIVED
    assert message.source_ip == "52.89.214.238"
    assert message.dedup_key == "S1|NIFTY|2026-W48|entry"
    assert message.signal_id == derived_id("signal", message.dedup_key)


def test_to_signal_when_indicator_payload_maps_strike_type_sl_and_bar_time() -> None:
    message = signal_of(INDICATOR)

    assert message.signal is SignalName.S6
    assert message.action is SignalAction.ENTRY
    assert message.option_type is OptionRight.CE
    assert message.strike == Decimal(25100)
    assert message.stop_level == Decimal(25080)
    assert message.price is None
    assert message.bar_time == BAR
    assert message.payload_style == "indicator"
    assert message.dedup_key == "S6|NIFTY|2026-W48|entry|bar=2026-11-25T05:45:00+00:00"


def test_to_signal_when_indicator_sends_only_strike_style_is_indicator() -> None:
    message = signal_of({"signal": "S2", "action": "Entry", "strike": 24000})

    assert message.payload_style == "indicator"
    assert message.option_type is None


def test_parse_payload_when_unknown_fields_present_ignores_them() -> None:
    payload = parse_payload({**BRIEF, "exchange": "NSE", "interval": "60"})

    assert payload.price == Decimal(24010)
    assert not hasattr(payload, "exchange")


def test_parse_payload_when_float_price_keeps_its_decimal_digits() -> None:
    payload = parse_payload({**BRIEF, "price": 24010.35})

    assert payload.price == Decimal("24010.35")


def test_parse_payload_when_price_string_has_thousands_separator_accepts_it() -> None:
    payload = parse_payload({**BRIEF, "price": " 24,010.5 "})

    assert payload.price == Decimal("24010.5")


# --- actions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Entry", SignalAction.ENTRY),
        ("entry", SignalAction.ENTRY),
        ("sell", SignalAction.ENTRY),
        ("SELL", SignalAction.ENTRY),
        ("open", SignalAction.ENTRY),
        ("Stoploss", SignalAction.EXIT),
        ("Exit", SignalAction.EXIT),
        ("exit", SignalAction.EXIT),
        ("close", SignalAction.EXIT),
        ("squareoff", SignalAction.EXIT),
        ("square_off", SignalAction.EXIT),
        ("SL", SignalAction.EXIT),
        (" Stoploss ", SignalAction.EXIT),
    ],
)
def test_normalise_action_when_known_word_maps_to_entry_or_exit(
    word: str, expected: SignalAction
) -> None:
    assert normalise_action(word) is expected


def test_to_signal_when_action_is_buy_rejects_with_message_naming_action() -> None:
    error = rejection({**BRIEF, "action": "buy"})

    assert error.status == 422
    assert str(error).startswith("action: 'buy' is not understood")
    assert "Entry" in str(error)
    assert "Stoploss" in str(error)


def test_to_signal_when_exit_alert_carries_no_price_accepts_it() -> None:
    message = signal_of({"signal": "S1", "action": "Stoploss"})

    assert message.action is SignalAction.EXIT
    assert message.dedup_key == "S1|NIFTY|2026-W48|exit"


# --- signals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("S1", SignalName.S1), (" s8 ", SignalName.S8)])
def test_normalise_signal_when_any_case_maps_to_signal_name(raw: str, expected: SignalName) -> None:
    assert normalise_signal(raw) is expected


@pytest.mark.parametrize("raw", ["S9", "S0", "X1", ""])
def test_to_signal_when_signal_unknown_rejects_naming_signal(raw: str) -> None:
    error = rejection({**BRIEF, "signal": raw})

    assert error.status == 422
    assert str(error).startswith("signal: unknown signal")
    assert "S1..S8" in str(error)


def test_parse_payload_when_signal_longer_than_8_characters_rejects_naming_signal() -> None:
    error = rejection({**BRIEF, "signal": "S1S1S1S1S1"})

    assert str(error).startswith("signal:")


# --- wrong types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("price", "abc", "price: price must be a number, got 'abc'"),
        ("price", "{{close}}", "price: price still holds a TradingView placeholder"),
        ("price", [24000], "price: price must be a number"),
        ("price", None, None),
        ("strike", True, "strike: strike must be a number"),
        ("strike", False, "strike: strike must be a number"),
        ("strike", "{{plot_0}}", "strike: strike still holds a TradingView placeholder"),
        ("sl", {"v": 1}, "sl: sl must be a number"),
        ("sl", "NaN", "sl: sl must be a positive number"),
        ("sl", "Infinity", "sl: sl must be a positive number"),
        ("signal", 1, "signal: Input should be a valid string"),
        ("action", ["Entry"], "action: Input should be a valid string"),
        ("v", "abc", "v: Input should be a valid integer"),
    ],
)
def test_parse_payload_when_field_has_wrong_type_rejects_naming_field(
    field: str, value: Any, words: str | None
) -> None:
    body = {"signal": "S1", "action": "Entry", "price": 24000, "strike": 24000, field: value}
    if words is None:
        # None means "absent" for optional numbers: it is accepted.
        assert getattr(parse_payload(body), field) is None
        return

    with pytest.raises(AlertError) as caught:
        parse_payload(body)

    assert caught.value.status == 422
    assert words in str(caught.value)


def test_parse_payload_when_several_fields_wrong_names_each_of_them() -> None:
    with pytest.raises(AlertError) as caught:
        parse_payload({"signal": "S1", "action": "Entry", "price": "abc", "strike": True})

    message = str(caught.value)
    assert "price: price must be a number" in message
    assert "strike: strike must be a number" in message


@pytest.mark.parametrize("body", [[1, 2], "S1", 3, None])
def test_parse_payload_when_body_not_an_object_rejects_with_400(body: Any) -> None:
    with pytest.raises(AlertError) as caught:
        parse_payload(body)

    assert caught.value.status == 400
    assert str(caught.value) == "body must be a JSON object"


# --- missing fields -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["signal", "action"])
def test_parse_payload_when_required_field_missing_rejects_naming_it(field: str) -> None:
    body = {k: v for k, v in BRIEF.items() if k != field}

    with pytest.raises(AlertError) as caught:
        parse_payload(body)

    assert caught.value.status == 422
    assert str(caught.value) == f"{field}: Field required"


def test_parse_payload_when_symbol_missing_defaults_to_nifty() -> None:
    payload = parse_payload({"signal": "S1", "action": "Entry", "price": 1})

    assert payload.symbol == "NIFTY"


@pytest.mark.parametrize("field", ["price", "strike", "sl"])
def test_to_signal_when_entry_has_one_of_price_strike_sl_accepts_it(field: str) -> None:
    message = signal_of({"signal": "S1", "action": "Entry", field: 24000})

    assert message.action is SignalAction.ENTRY


def test_to_signal_when_entry_has_no_price_strike_or_sl_rejects_it() -> None:
    error = rejection({"signal": "S1", "action": "Entry", "symbol": "NIFTY"})

    assert error.status == 422
    assert "price, strike or sl" in str(error)


# --- negative and zero numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", -5), ("price", 0), ("price", "-24000"), ("strike", -24000), ("sl", Decimal(0))],
)
def test_parse_payload_when_number_not_positive_rejects_naming_field(
    field: str, value: Any
) -> None:
    error = rejection({"signal": "S1", "action": "Entry", field: value})

    assert str(error) == f"{field}: {field} must be a positive number"


# --- option type ----------------------------------------------------------------------------


def test_to_signal_when_bullish_signal_says_ce_rejects_type_mismatch() -> None:
    error = rejection({"signal": "S1", "action": "Entry", "strike": 24000, "type": "CE"})

    assert error.status == 422
    assert str(error) == "type: S1 is bullish and sells PE, but the alert says CE"


def test_to_signal_when_bearish_signal_says_pe_rejects_type_mismatch() -> None:
    error = rejection({"signal": "S6", "action": "Entry", "strike": 25100, "type": "PE"})

    assert str(error) == "type: S6 is bearish and sells CE, but the alert says PE"


@pytest.mark.parametrize(
    ("signal", "option_type"),
    [
        ("S1", "PE"),
        ("S2", "pe"),
        ("S4", "PE"),
        ("S7", "PE"),
        ("S3", "CE"),
        ("S5", "ce"),
        ("S6", "CE"),
        ("S8", "CE"),
    ],
)
def test_to_signal_when_type_matches_signal_direction_accepts_it(
    signal: str, option_type: str
) -> None:
    message = signal_of({"signal": signal, "action": "Entry", "strike": 24000, "type": option_type})

    assert message.option_type == OptionRight(option_type.upper())


def test_to_signal_when_type_not_ce_or_pe_rejects_naming_type() -> None:
    error = rejection({"signal": "S1", "action": "Entry", "strike": 24000, "type": "PUT"})

    assert str(error) == "type: 'PUT' must be CE or PE"


# --- symbols --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["NIFTY", "nifty", "NSE:NIFTY", "nse:nifty", "NIFTY50", "NIFTY 50", "NIFTY1!", "NSE:NIFTY1!"],
)
def test_normalise_symbol_when_spelling_of_nifty_returns_nifty(raw: str) -> None:
    assert normalise_symbol(raw) == "NIFTY"


@pytest.mark.parametrize("raw", ["BANKNIFTY", "NSE:BANKNIFTY", "FINNIFTY", "NIFTYBEES", "NSE:"])
def test_to_signal_when_symbol_not_nifty_rejects_naming_symbol(raw: str) -> None:
    error = rejection({**BRIEF, "symbol": raw})

    assert error.status == 422
    assert str(error) == f"symbol: {raw!r} is not supported; only NIFTY is traded"


# --- bar_time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        BAR_MS,
        float(BAR_MS),
        str(BAR_MS),
        "2026-11-25T05:45:00Z",
        "2026-11-25T05:45:00+00:00",
        "2026-11-25T11:15:00+05:30",
    ],
)
def test_parse_payload_when_bar_time_epoch_ms_or_aware_iso_gives_utc_time(raw: Any) -> None:
    payload = parse_payload({**BRIEF, "bar_time": raw})

    assert payload.bar_time == BAR
    assert payload.bar_time is not None
    assert payload.bar_time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("2026-11-25T05:45:00", "bar_time: bar_time must carry a time zone"),
        ("yesterday", "bar_time: bar_time 'yesterday' is not an ISO-8601 time"),
        (True, "bar_time: bar_time must be epoch milliseconds or an ISO-8601 time"),
        ([BAR_MS], "bar_time: bar_time must be epoch milliseconds or an ISO-8601 time"),
    ],
)
def test_parse_payload_when_bar_time_naive_or_malformed_rejects_naming_bar_time(
    raw: Any, words: str
) -> None:
    error = rejection({**BRIEF, "bar_time": raw})

    assert error.status == 422
    assert words in str(error)


@pytest.mark.parametrize("raw", [10**20, 1e300, "9" * 40])
def test_parse_payload_when_bar_time_epoch_out_of_range_rejects_naming_bar_time(raw: Any) -> None:
    # Regression: fromtimestamp's OverflowError/OSError used to escape as a 500 (fixed de3ad92).
    error = rejection({**BRIEF, "bar_time": raw})

    assert error.status == 422
    assert str(error).startswith("bar_time:")
    assert "out of range" in str(error)


# --- trading week ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "week"),
    [
        # Sunday 20:00 UTC is Monday 01:30 IST: the new week already.
        (datetime(2026, 11, 22, 20, 0, tzinfo=UTC), "2026-W48"),
        # Sunday 18:00 UTC is Sunday 23:30 IST: still the old week.
        (datetime(2026, 11, 22, 18, 0, tzinfo=UTC), "2026-W47"),
        (datetime(2026, 11, 22, 18, 30, tzinfo=UTC), "2026-W48"),
        (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), "2026-W48"),
        # ISO years differ from calendar years around New Year.
        (datetime(2026, 12, 31, 12, 0, tzinfo=UTC), "2026-W53"),
        (datetime(2027, 1, 4, 0, 0, tzinfo=UTC), "2027-W01"),
        (
            datetime(2026, 11, 23, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-W48",
        ),
    ],
)
def test_trading_week_when_time_given_returns_iso_week_in_ist(at: datetime, week: str) -> None:
    assert trading_week(at) == week


def test_to_signal_when_bar_time_given_week_comes_from_bar_not_receipt() -> None:
    late_sunday_bar = {**BRIEF, "bar_time": "2026-11-22T20:00:00Z"}
    received_monday_week_49 = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)

    message = signal_of(late_sunday_bar, received_at=received_monday_week_49)

    assert message.trading_week == "2026-W48"


# --- dedup ----------------------------------------------------------------------------------


def test_to_signal_when_same_payload_twice_gives_same_signal_id() -> None:
    first = signal_of(INDICATOR)
    second = signal_of(dict(INDICATOR), received_at=RECEIVED + timedelta(seconds=3))

    assert first.signal_id == second.signal_id
    assert first.dedup_key == second.dedup_key
    assert first.message_id != second.message_id


def test_to_signal_when_bar_time_differs_gives_different_signal_id() -> None:
    first = signal_of(INDICATOR)
    second = signal_of({**INDICATOR, "bar_time": "2026-11-25T06:45:00Z"})

    assert first.signal_id != second.signal_id


def test_to_signal_when_same_bar_in_epoch_ms_and_iso_gives_same_signal_id() -> None:
    iso = signal_of(INDICATOR)
    epoch = signal_of({**INDICATOR, "bar_time": BAR_MS})

    assert iso.signal_id == epoch.signal_id


def test_to_signal_when_alert_id_given_it_wins_over_bar_time() -> None:
    first = signal_of({**INDICATOR, "alert_id": "tv-123"})
    other_bar = signal_of({**INDICATOR, "alert_id": "tv-123", "bar_time": "2026-11-26T05:45:00Z"})
    other_id = signal_of({**INDICATOR, "alert_id": "tv-124"})

    assert first.dedup_key == "S6|NIFTY|2026-W48|entry|id=tv-123"
    assert first.signal_id == other_bar.signal_id
    assert first.signal_id != other_id.signal_id


@pytest.mark.parametrize(
    ("change", "value"),
    [("signal", "S2"), ("action", "Stoploss")],
)
def test_to_signal_when_signal_or_action_differs_gives_different_signal_id(
    change: str, value: str
) -> None:
    base = signal_of({"signal": "S1", "action": "Entry", "price": 24000})
    other = signal_of({"signal": "S1", "action": "Entry", "price": 24000, change: value})

    assert base.signal_id != other.signal_id


def test_to_signal_when_entry_and_sell_words_used_gives_same_signal_id() -> None:
    entry = signal_of({"signal": "S1", "action": "Entry", "price": 24000})
    sell = signal_of({"signal": "S1", "action": "sell", "price": 24100, "symbol": "NSE:NIFTY"})

    assert entry.signal_id == sell.signal_id


def test_dedup_key_when_bar_time_not_utc_uses_its_utc_form() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))

    key = dedup_key(
        SignalName.S3,
        "NIFTY",
        "2026-W48",
        SignalAction.EXIT,
        None,
        datetime(2026, 11, 25, 11, 15, tzinfo=ist),
    )

    assert key == "S3|NIFTY|2026-W48|exit|bar=2026-11-25T05:45:00+00:00"
