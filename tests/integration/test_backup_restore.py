"""`strikeflow backup` and `strikeflow restore` against the real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from libs.common.messages import ControlKey, ControlSet, MarkUpdated
from services.ledger.service import LedgerService
from tests.factories import T0, make_state_change
from tests.integration.test_ledger_books import _cli, book, scripted_trade

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """A new database with nothing in it, made with the server's CREATE DATABASE."""
    name = f"strikeflow_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{database_url.rpartition('/')[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _ledger_tables(url: str) -> dict[str, list[str]]:
    """Every row of every ledger table, as text, in a stable order."""
    conn = await asyncpg.connect(url)
    try:
        names = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'ledger' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        return {
            name: [
                r["row"]
                for r in await conn.fetch(
                    f'SELECT t::text AS row FROM ledger."{name}" t ORDER BY 1'  # noqa: S608
                )
            ]
            for name in names
        }
    finally:
        await conn.close()


async def _book_script(url: str) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        ledger = LedgerService(pool)
        closed, held = scripted_trade(), scripted_trade()
        control = ControlSet(
            ts_event=T0, key=ControlKey.KILL_SWITCH, engaged=True, changed_by="ops", reason="drill"
        )
        await book(ledger, [*closed.entry, *closed.exit, *held.entry, make_state_change(), control])
        await ledger.handle(
            MarkUpdated(
                ts_event=T0 + timedelta(hours=1),
                instrument=held.main,
                price=Decimal("95.40"),
                price_source="model",
            )
        )
    finally:
        await pool.close()


async def test_backup_then_restore_into_new_database_keeps_every_ledger_row_and_the_chain(
    fresh_database: str, empty_database: str, tmp_path: Path
) -> None:
    await _book_script(fresh_database)
    dump = tmp_path / "ledger.dump"

    code, output = await _cli("backup", "--out", str(dump), "--database-url", fresh_database)
    assert code == 0, output
    assert "backup written" in output
    assert dump.stat().st_size > 0

    code, output = await _cli("restore", "--from", str(dump), "--database-url", empty_database)
    assert code == 0, output
    assert "audit chain verified" in output

    original, restored = await _ledger_tables(fresh_database), await _ledger_tables(empty_database)
    assert set(original) >= {"trades", "trade_legs", "fills", "audit_log", "signals", "positions"}
    assert restored == original
    assert len(original["audit_log"]) >= 20
    code, output = await _cli("audit", "verify", "--database-url", empty_database)
    assert code == 0, output
    assert f"audit chain verified: {len(original['audit_log'])} entries" in output


async def test_restore_into_non_empty_database_refuses_unless_forced(
    fresh_database: str, empty_database: str, tmp_path: Path
) -> None:
    await _book_script(fresh_database)
    dump = tmp_path / "ledger.dump"
    assert (await _cli("backup", "--out", str(dump), "--database-url", fresh_database))[0] == 0
    target = await asyncpg.connect(empty_database)
    try:
        await target.execute("CREATE TABLE stray (id int)")
    finally:
        await target.close()

    refused = await _cli("restore", "--from", str(dump), "--database-url", empty_database)
    forced = await _cli("restore", "--from", str(dump), "--database-url", empty_database, "--force")

    assert refused[0] == 1
    assert "not empty" in refused[1]
    assert forced[0] == 0, forced[1]
    assert await _ledger_tables(empty_database) == await _ledger_tables(fresh_database)
