"""Read route of the ledger's audit log: ``GET /api/v2/audit`` with keyset paging."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query, Request

router = APIRouter()

MAX_LIMIT = 500

AuditKind = Literal[
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
]


@router.get("/api/v2/audit", summary="Entries of the hash-chained audit log, oldest first")
async def audit_entries(
    request: Request,
    after_seq: Annotated[
        int, Query(ge=0, description="Return entries after this seq (0: from the start)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many")] = 100,
    kind: Annotated[AuditKind | None, Query(description="Only entries of this kind")] = None,
) -> dict[str, Any]:
    """A page of entries; pass ``next_after_seq`` as ``after_seq`` for the next page."""
    pool: asyncpg.Pool = request.app.state.ctx.pool
    rows = await pool.fetch(
        "SELECT seq, recorded_at, kind, ref, payload::text AS payload, prev_hash, hash "
        "FROM ledger.audit_log WHERE seq > $1 AND ($2::text IS NULL OR kind = $2) "
        "ORDER BY seq LIMIT $3",
        after_seq,
        kind,
        limit,
    )
    entries = [
        {
            "seq": row["seq"],
            "recorded_at": row["recorded_at"].isoformat(),
            "kind": row["kind"],
            "ref": row["ref"],
            "payload": json.loads(row["payload"]),
            "prev_hash": row["prev_hash"],
            "hash": row["hash"],
        }
        for row in rows
    ]
    return {
        "entries": entries,
        "next_after_seq": entries[-1]["seq"] if len(entries) == limit else None,
    }
