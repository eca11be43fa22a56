"""Options and helpers shared by the ``backtest`` and ``sweep`` commands."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from libs.backtest.runner import ALL_SIGNAL_NAMES, BacktestRequest
from libs.backtest.sources import CsvBarSource, default_data_dir

err_console = Console(stderr=True)
PIPE_WIDTH = 140
"""Table width when stdout is not a terminal (files, pipes, tests)."""


def stdout_console() -> Console:
    """A console on stdout, wide enough for the tables when stdout is not a terminal."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=PIPE_WIDTH)


DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Hourly NIFTY CSV file, or the folder holding nifty50_1h.csv, nifty50_1d.csv and "
        "indiavix_1d.csv (default: STRIKEFLOW_DATA_DIR, else ../shared/data).",
        show_default=False,
    ),
]
FromOpt = Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD.", metavar="DATE")]
ToOpt = Annotated[str, typer.Option("--to", help="Last date, YYYY-MM-DD.", metavar="DATE")]
SignalsOpt = Annotated[
    str, typer.Option("--signals", help="Signals to test, comma separated (S1..S8).")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def open_source(data: Path | None) -> CsvBarSource:
    path = data if data is not None else default_data_dir()
    try:
        return CsvBarSource.from_path(path)
    except FileNotFoundError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def make_request(fields: dict[str, Any]) -> BacktestRequest:
    """Validate request fields, turning validation errors into a readable CLI error."""
    try:
        return BacktestRequest.model_validate(fields)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "request"
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{where}: {msg}")
        fail("; ".join(lines))


def common_fields(
    from_text: str,
    to_text: str,
    signals: str,
    *,
    initial_capital: float,
    slippage_pct: float,
    brokerage: float,
    iv_model: str,
    after_close_fill: str,
    max_open_trades: int | None,
) -> dict[str, Any]:
    return {
        "from_date": parse_date(from_text, "--from"),
        "to_date": parse_date(to_text, "--to"),
        "signals_to_test": split_list(signals),
        "initial_capital": Decimal(str(initial_capital)),
        "slippage_pct": Decimal(str(slippage_pct)),
        "brokerage_per_order": Decimal(str(brokerage)),
        "iv_model": iv_model,
        "after_close_fill": after_close_fill,
        "max_open_trades": max_open_trades,
    }


DEFAULT_SIGNALS = ",".join(ALL_SIGNAL_NAMES)

CapitalOpt = Annotated[
    float, typer.Option("--capital", help="Initial capital in rupees (backtest.initial_capital).")
]
SlippageOpt = Annotated[
    float, typer.Option("--slippage-pct", help="Slippage in % of price, min one tick.")
]
BrokerageOpt = Annotated[float, typer.Option("--brokerage", help="Brokerage per order, rupees.")]
IvModelOpt = Annotated[
    str, typer.Option("--iv-model", help="Model volatility: surface (fitted) or flat.")
]
AfterCloseOpt = Annotated[
    str,
    typer.Option(
        "--after-close-fill", help="Fill 15:30 signals and stops at bar_close or next_open."
    ),
]
MaxOpenOpt = Annotated[
    int | None, typer.Option("--max-open-trades", help="Cap on simultaneously open trades.")
]


def pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def money(value: str | float | None) -> str:
    if value is None:
        return "–"
    return f"{float(value):,.2f}"
