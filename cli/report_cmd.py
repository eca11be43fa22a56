"""``strikeflow report``: the post-market report of one IST trading day, as Markdown."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from cli.ops.client import connect
from cli.ops.render import fail, ops_errors, say
from cli.ops.report import collect, ledger_marks, markdown
from libs.common.clock import IST


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    day: Annotated[
        str | None,
        typer.Option("--day", help="The IST day, YYYY-MM-DD; default: today", show_default=False),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the Markdown here instead of stdout", dir_okay=False),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Read the day's P&L snapshot (realised, unrealised) from this ledger database",
            show_default=False,
        ),
    ] = None,
) -> None:
    """P&L, trades with legs, fills and charges, signal and decision counts, control changes."""
    now = datetime.now(UTC)
    try:
        wanted = date.fromisoformat(day) if day else now.astimezone(IST).date()
    except ValueError:
        fail(f"--day must be YYYY-MM-DD, not {day!r}", 2)
    with ops_errors(), connect() as client:
        data = collect(client, wanted, now)
    if database_url:
        try:
            data.pnl_today = asyncio.run(ledger_marks(database_url, wanted))
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            fail(f"cannot read the ledger's P&L snapshot: {exc}", 3)
        data.marks_source = "ledger"
    text = markdown(data)
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc}", 1)
    say(f"report for {wanted.isoformat()} written: {out_file} ({len(text.encode())} bytes)")
