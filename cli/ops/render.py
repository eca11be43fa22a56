"""How the operator commands print: a compact table or summary, or ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from cli.ops.client import OpsError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the service's JSON answer")]


def fail(message: str, code: int) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def ops_errors() -> Iterator[None]:
    """Turn a failed call into its message on stderr and a non-zero exit."""
    try:
        yield
    except OpsError as exc:
        fail(str(exc), exc.exit_code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """The JSON answer as is with ``--json``, else the compact form."""
    if as_json:
        print_json(data)
    else:
        human(data)


def text(value: object, empty: str = "-") -> str:
    if value is None or value == "":
        return empty
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def on_off(value: object) -> str:
    return "on" if value else "off"


def _print_whole(table: Table) -> None:
    """Print ``table`` at its natural width, even past the terminal's: ids and times are never
    cut short (a wide table wraps in the terminal instead)."""
    needed = Measurement.get(out, out.options.update(width=10_000), table).maximum
    if needed <= out.width:
        out.print(table)
        return
    Console(highlight=False, width=needed).print(table, crop=False)


def pairs(rows: Sequence[tuple[str, object]]) -> None:
    """``key  value`` lines, keys aligned."""
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column(no_wrap=True)
    table.add_column()
    for key, value in rows:
        table.add_row(key, text(value))
    _print_whole(table)


def rows(headers: Sequence[str], body: Sequence[Sequence[object]], empty: str) -> None:
    """A plain table (no box lines, so it reads the same at any width), or ``empty``."""
    if not body:
        out.print(empty, markup=False)
        return
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in body:
        table.add_row(*(text(cell) for cell in row))
    _print_whole(table)


def say(message: str) -> None:
    out.print(message, markup=False)
