"""The audit log in PostgreSQL: append inside the booking transaction, read back in seq order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from libs.common.db import Connection
from services.ledger.audit_chain import GENESIS, AuditEntry, ChainVerifier, next_entry

# Any fixed 64-bit number: every append takes this transaction lock, so seq is gapless and
# ordered and each entry is chained to the one committed before it.
AUDIT_LOCK = 0x5F_A0D1_7C4A_1B00

KINDS = (
    "signal",
    "decision",
    "order_command",
    "order_event",
    "fill",
    "mark",
    "control",
    "broker_status",
    "operator_command",
    "trade_closed",
)


async def append(conn: Connection, kind: str, ref: str, payload: Mapping[str, Any]) -> AuditEntry:
    """Append one entry inside the caller's transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
    last = await conn.fetchrow("SELECT seq, hash FROM ledger.audit_log ORDER BY seq DESC LIMIT 1")
    prev_seq, prev_hash = (int(last["seq"]), str(last["hash"])) if last else (0, GENESIS)
    entry = next_entry(prev_seq, prev_hash, kind, ref, payload)
    await conn.execute(
        "INSERT INTO ledger.audit_log (seq, kind, ref, payload, prev_hash, hash) "
        "VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
        entry.seq,
        entry.kind,
        entry.ref,
        json.dumps(payload),
        entry.prev_hash,
        entry.hash,
    )
    return entry


async def read_chain(conn: Connection, batch: int = 2000) -> AsyncIterator[AuditEntry]:
    """Every entry in seq order, fetched in batches (keyset paging)."""
    after = 0
    while True:
        rows = await conn.fetch(
            "SELECT seq, kind, ref, payload::text AS payload, prev_hash, hash "
            "FROM ledger.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            after,
            batch,
        )
        if not rows:
            return
        for row in rows:
            yield AuditEntry(
                seq=int(row["seq"]),
                kind=row["kind"],
                ref=row["ref"],
                payload=json.loads(row["payload"]),
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
        after = int(rows[-1]["seq"])


async def verify(conn: Connection) -> ChainVerifier:
    """Check the whole chain; the verifier says how many entries it checked and any break."""
    verifier = ChainVerifier()
    async for entry in read_chain(conn):
        if verifier.feed(entry) is not None:
            break
    return verifier
