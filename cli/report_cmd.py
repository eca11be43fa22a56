"""``strikeflow report``: the post-market report of one IST trading day, as Markdown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.ops.client import connect
from cli.ops.render import fail, ops_errors, say
from cli.ops.report import collect, markdown
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
) -> None:
    """P&L, trades with legs, fills and charges, signal and decision counts, control changes."""
    now = datetime.now(UTC)
    try:
        wanted = date.fromisoformat(day) if day else now.astimezone(IST).date()
    except ValueError:
        fail(f"--day must be YYYY-MM-DD, not {day!r}", 2)
    with ops_errors(), connect() as client:
        text = markdown(collect(client, wanted, now))
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc}", 1)
    say(f"report for {wanted.isoformat()} written: {out_file} ({len(text.encode())} bytes)")
