"""The audit log's hash chain: canonical JSON, entry hashes and verification (pure, no I/O).

Each entry's hash is ``sha256(prev_hash + canonical_json(seq, kind, ref, payload))`` in hex; the
first entry's ``prev_hash`` is :data:`GENESIS`. Changing, removing, inserting or reordering any
entry breaks the chain from that entry on, and :func:`first_broken` names the first one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


class NotCanonicalError(ValueError):
    """A payload holds a value that has no exact, stable JSON form (a float, a non-str key)."""


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return
    if isinstance(value, float):
        raise NotCanonicalError(f"{path}: floats are not exact; use a decimal string")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalError(f"{path}: object keys must be strings, got {key!r}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check(item, f"{path}[{n}]")
        return
    raise NotCanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(seq: int, kind: str, ref: str, payload: Mapping[str, Any]) -> str:
    """The one text an entry is hashed over: sorted keys, no spaces, UTF-8 kept as is."""
    _check(payload, "payload")
    document = {"seq": seq, "kind": kind, "ref": ref, "payload": payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, kind: str, ref: str, payload: Mapping[str, Any]) -> str:
    """The hash of one entry given the hash of the entry before it."""
    text = prev_hash + canonical_json(seq, kind, ref, payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One row of ``ledger.audit_log`` as the chain sees it."""

    seq: int
    kind: str
    ref: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


def next_entry(
    prev_seq: int, prev_hash: str, kind: str, ref: str, payload: Mapping[str, Any]
) -> AuditEntry:
    """The entry after the one numbered ``prev_seq`` (0 and :data:`GENESIS` start the chain)."""
    seq = prev_seq + 1
    return AuditEntry(
        seq, kind, ref, payload, prev_hash, entry_hash(prev_hash, seq, kind, ref, payload)
    )


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the chain stops verifying."""

    seq: int
    reason: str


@dataclass
class ChainVerifier:
    """Checks entries one at a time, in seq order, so a long chain never sits in memory."""

    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    broken: ChainBreak | None = None

    def feed(self, entry: AuditEntry) -> ChainBreak | None:
        """Check the next entry; return the first break found (and keep returning it)."""
        if self.broken is not None:
            return self.broken
        self.checked += 1
        reason = self._problem(entry)
        if reason is not None:
            self.broken = ChainBreak(entry.seq, reason)
            return self.broken
        self.last_seq, self.last_hash = entry.seq, entry.hash
        return None

    def _problem(self, entry: AuditEntry) -> str | None:
        if entry.seq != self.last_seq + 1:
            return f"expected seq {self.last_seq + 1}, found {entry.seq}"
        if entry.prev_hash != self.last_hash:
            return "prev_hash does not match the previous entry's hash"
        try:
            expected = entry_hash(entry.prev_hash, entry.seq, entry.kind, entry.ref, entry.payload)
        except NotCanonicalError as exc:
            return f"payload is not canonical: {exc}"
        if entry.hash != expected:
            return "hash does not match the entry's content"
        return None


def first_broken(entries: Iterable[AuditEntry]) -> ChainBreak | None:
    """Verify entries given in seq order; ``None`` when the whole chain holds."""
    verifier = ChainVerifier()
    for entry in entries:
        if (found := verifier.feed(entry)) is not None:
            return found
    return None
