"""The Breeze session record, its expiry, and the owner-only cache file."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import SecretStr

from libs.common.clock import IST
from services.executor.adapters.breeze import _position_key
from services.executor.session import SessionRecord, SessionStore, valid_session_value


def test_expiry_when_obtained_in_the_morning_is_midnight_ist() -> None:
    obtained = datetime(2026, 11, 24, 8, 30, tzinfo=IST)
    record = SessionRecord.obtained("12345678", obtained)
    assert record.trading_date == date(2026, 11, 24)
    assert record.expires_at == datetime(2026, 11, 25, 0, 0, tzinfo=IST)
    assert record.usable_at(obtained + timedelta(hours=15))
    assert not record.usable_at(datetime(2026, 11, 25, 0, 0, tzinfo=IST))


def test_expiry_when_obtained_late_is_still_midnight_not_24_hours() -> None:
    obtained = datetime(2026, 11, 24, 23, 0, tzinfo=IST)
    record = SessionRecord.obtained("12345678", obtained)
    assert record.expires_at - obtained == timedelta(hours=1)


def test_expiry_is_never_more_than_24_hours_after_login() -> None:
    # A record whose trading date is ahead of the clock (a clock moved back) still ends at 24 h.
    obtained = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    record = SessionRecord(date(2026, 11, 26), SecretStr("1"), obtained)
    assert record.expires_at == obtained + timedelta(hours=24)


@pytest.mark.parametrize("value", ["", "abc", "12 34", "1" * 17, "123"])
def test_session_value_when_malformed_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="4 to 16 digits"):
        valid_session_value(value)


def test_session_value_is_stripped() -> None:
    assert valid_session_value(" 51234567\n") == "51234567"


def test_store_when_saved_is_owner_only_and_reads_back(tmp_path) -> None:
    store = SessionStore(tmp_path / "cache" / "session.json")
    record = SessionRecord.obtained("51234567", datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    store.save(record)
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    loaded = store.load()
    assert loaded is not None
    assert loaded.value.get_secret_value() == "51234567"
    assert loaded.obtained_at == record.obtained_at
    assert list(store.path.parent.iterdir()) == [store.path]  # no temporary file left


def test_store_when_missing_or_corrupt_loads_nothing(tmp_path) -> None:
    store = SessionStore(tmp_path / "session.json")
    assert store.load() is None
    store.path.write_text("{not json")
    assert store.load() is None
    store.path.write_text('{"trading_date": "2026-11-24"}')
    assert store.load() is None


def test_record_repr_never_shows_the_value() -> None:
    record = SessionRecord.obtained("51234567", datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    assert "51234567" not in repr(record)


def test_position_key_from_a_portfolio_row() -> None:
    row = {
        "stock_code": "NIFTY",
        "expiry_date": "26-Nov-2026",
        "strike_price": "24000",
        "right": "Put",
    }
    assert _position_key(row) == "NIFTY-2026-11-26-24000-PE"
    assert _position_key({**row, "stock_code": "RELIND"}) is None
    assert _position_key({**row, "right": "Others"}) is None
