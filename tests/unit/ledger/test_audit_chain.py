"""The audit chain: canonical text, hashes, and verification that names the first bad entry."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from services.ledger.audit_chain import (
    GENESIS,
    AuditEntry,
    NotCanonicalError,
    canonical_json,
    entry_hash,
    first_broken,
    next_entry,
)


def _chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    seq, prev = 0, GENESIS
    for i in range(n):
        entry = next_entry(seq, prev, "fill", f"ref-{i}", {"qty": i, "price": f"{100 + i}.05"})
        entries.append(entry)
        seq, prev = entry.seq, entry.hash
    return entries


def test_canonical_json_sorts_keys_without_spaces_and_keeps_unicode() -> None:
    text = canonical_json(3, "signal", "r", {"b": "₹1", "a": [1, True, None]})

    assert text == '{"kind":"signal","payload":{"a":[1,true,null],"b":"₹1"},"ref":"r","seq":3}'


def test_canonical_json_refuses_floats_anywhere() -> None:
    with pytest.raises(NotCanonicalError, match=r"payload\.x\[0\]"):
        canonical_json(1, "fill", "r", {"x": [1.5]})


def test_entry_hash_is_sha256_of_prev_hash_and_canonical_json() -> None:
    payload: dict[str, Any] = {"k": "v"}
    expected = hashlib.sha256(
        (GENESIS + '{"kind":"control","payload":{"k":"v"},"ref":"r1","seq":1}').encode()
    ).hexdigest()

    assert entry_hash(GENESIS, 1, "control", "r1", payload) == expected


def test_first_entry_chains_from_sixty_four_zeros() -> None:
    first = _chain(1)[0]

    assert first.seq == 1
    assert first.prev_hash == "0" * 64


def test_first_broken_when_chain_intact_is_none() -> None:
    assert first_broken(_chain(20)) is None


def test_first_broken_when_empty_is_none() -> None:
    assert first_broken([]) is None


def test_first_broken_when_payload_altered_names_that_seq() -> None:
    entries = _chain(10)
    entries[4] = dataclasses.replace(entries[4], payload={"qty": 4, "price": "999.05"})

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 5
    assert "content" in broken.reason


@pytest.mark.parametrize("field", ["kind", "ref"])
def test_first_broken_when_kind_or_ref_altered_names_that_seq(field: str) -> None:
    entries = _chain(6)
    entries[2] = dataclasses.replace(entries[2], **{field: "forged"})

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 3


def test_first_broken_when_entry_rehashed_after_edit_names_the_next_seq() -> None:
    entries = _chain(6)
    old = entries[2]
    forged_payload = {"qty": 0, "price": "1.00"}
    entries[2] = dataclasses.replace(
        old,
        payload=forged_payload,
        hash=entry_hash(old.prev_hash, old.seq, old.kind, old.ref, forged_payload),
    )

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 4
    assert "prev_hash" in broken.reason


def test_first_broken_when_entry_removed_names_the_gap() -> None:
    entries = _chain(6)
    del entries[3]

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 5
    assert "expected seq 4" in broken.reason


def test_first_broken_when_entries_swapped_names_the_first_out_of_place() -> None:
    entries = _chain(6)
    entries[1], entries[2] = entries[2], entries[1]

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 3


def test_first_broken_when_first_prev_hash_not_genesis_names_seq_one() -> None:
    entries = _chain(3)
    entries[0] = dataclasses.replace(entries[0], prev_hash="f" * 64)

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 1


def test_first_broken_when_payload_holds_float_reports_not_canonical() -> None:
    entries = _chain(3)
    entries[1] = dataclasses.replace(entries[1], payload={"qty": 1.0})

    broken = first_broken(entries)

    assert broken is not None
    assert broken.seq == 2
    assert "not canonical" in broken.reason
