"""``strikeflow audit verify``: check the ledger's hash-chained audit log end to end."""

from __future__ import annotations

import asyncio
from typing import Annotated, NoReturn

import asyncpg
import typer
from rich.console import Console

from libs.common.settings import ServiceSettings
from services.ledger.audit_chain import ChainVerifier
from services.ledger.audit_store import verify as verify_chain

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL DSN; default: DATABASE_URL, then the local stack's",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="The ledger's tamper-evident audit log.", no_args_is_help=True)
    audit.command("verify")(verify)
    app.add_typer(audit, name="audit")


def resolve_database_url(database_url: str | None) -> str:
    """The DSN given, else the one every service reads (DATABASE_URL or the local default)."""
    return database_url or ServiceSettings().database_url.get_secret_value()


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


async def chain_status(database_url: str) -> ChainVerifier:
    """Verify the audit chain of the database at ``database_url``."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        return await verify_chain(conn)
    finally:
        await conn.close()


def verify(database_url: DatabaseUrlOpt = None) -> None:
    """Recompute every entry's hash in seq order; exit 1 naming the first broken seq."""
    try:
        result = asyncio.run(chain_status(resolve_database_url(database_url)))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        fail(f"cannot read the audit log: {exc}", 2)
    if result.broken is not None:
        err.print(
            f"[bold red]audit chain broken at seq {result.broken.seq}:[/] {result.broken.reason} "
            f"({result.checked - 1} entries before it verified)"
        )
        raise typer.Exit(1)
    if result.checked == 0:
        out.print("audit chain verified: 0 entries (the log is empty)")
        return
    out.print(
        f"audit chain verified: {result.checked} entries, seq 1..{result.last_seq}, "
        f"last hash {result.last_hash}"
    )
