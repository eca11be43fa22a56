"""``strikeflow sweep``: backtest a grid of options over worker processes and rank the results."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cli._backtest_options import (
    DEFAULT_SIGNALS,
    AfterCloseOpt,
    BrokerageOpt,
    CapitalOpt,
    DataOpt,
    FromOpt,
    IvModelOpt,
    JsonOpt,
    MaxOpenOpt,
    SignalsOpt,
    SlippageOpt,
    ToOpt,
    common_fields,
    err_console,
    fail,
    make_request,
    num,
    open_source,
    pct,
    split_list,
    stdout_console,
)
from libs.backtest.runner import NoDataError
from libs.backtest.sweep import EXIT_RULES, OBJECTIVES, SweepResult, run_sweep


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)


def _ints(text: str, option: str) -> list[int]:
    try:
        return [int(v) for v in split_list(text)]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a list of integers", param_hint=option) from None


def sweep(
    from_text: FromOpt,
    to_text: ToOpt,
    data: DataOpt = None,
    signals: SignalsOpt = DEFAULT_SIGNALS,
    hedge_offsets: Annotated[
        str, typer.Option("--hedge-offsets", help="Hedge offsets to try, comma separated.")
    ] = "200",
    strike_rules: Annotated[
        str, typer.Option("--strike-rules", help="Strike rules: round100,directional50,atm.")
    ] = "round100",
    sl_rules: Annotated[str, typer.Option("--sl-rules", help="Stop rules: raw,strike.")] = "raw",
    exit_rules: Annotated[
        str,
        typer.Option(
            "--exit-rules",
            help=f"Exit rules ({', '.join(EXIT_RULES)}; join with + to combine).",
        ),
    ] = "expiry",
    lots: Annotated[str, typer.Option("--lots", help="Lots per trade to try.")] = "1",
    hedging: Annotated[
        str, typer.Option("--hedging", help="Hedge on/off values to try: on,off.")
    ] = "on",
    objective: Annotated[
        str, typer.Option("--objective", help=f"Ranking objective: {', '.join(OBJECTIVES)}.")
    ] = "net_pnl",
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (default: CPU count).")
    ] = 0,
    top: Annotated[int, typer.Option("--top", help="Rows to print.")] = 20,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Run only the first N grid points.")
    ] = None,
    capital: CapitalOpt = 500_000.0,
    slippage_pct: SlippageOpt = 1.0,
    brokerage: BrokerageOpt = 20.0,
    iv_model: IvModelOpt = "surface",
    after_close_fill: AfterCloseOpt = "bar_close",
    max_open_trades: MaxOpenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a grid of hedge offset, strike rule, stop rule, exit rule and lots; rank the runs."""
    base = make_request(
        common_fields(
            from_text,
            to_text,
            signals,
            initial_capital=capital,
            slippage_pct=slippage_pct,
            brokerage=brokerage,
            iv_model=iv_model,
            after_close_fill=after_close_fill,
            max_open_trades=max_open_trades,
        )
    )
    if objective not in OBJECTIVES:
        fail(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    on_off = {"on": True, "off": False, "true": True, "false": False}
    try:
        hedge_values = [on_off[v.lower()] for v in split_list(hedging)]
    except KeyError:
        fail(f"--hedging takes on/off values, got {hedging!r}")
    axes: dict[str, list[Any]] = {
        "use_hedging": hedge_values,
        "hedge_offset": _ints(hedge_offsets, "--hedge-offsets"),
        "strike_rule": split_list(strike_rules),
        "sl_rule": split_list(sl_rules),
        "exit_rule": split_list(exit_rules),
        "lots_to_trade": _ints(lots, "--lots"),
    }
    source = open_source(data)
    n_workers = workers if workers > 0 else (os.cpu_count() or 1)
    progress = Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("sweep", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = run_sweep(
                base,
                axes,
                source,
                objective=objective,
                workers=n_workers,
                progress=report,
                limit=limit,
            )
    except (ValueError, NoDataError, FileNotFoundError) as exc:
        fail(str(exc))
    if as_json:
        doc = {
            "objective": result.objective,
            "configurations": result.configurations,
            "workers": result.workers,
            "wall_seconds": round(result.wall_seconds, 3),
            "base": base.model_dump(mode="json"),
            "axes": axes,
            "rows": result.rows,
        }
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    print_sweep(stdout_console(), result, axes, top)


AXIS_LABELS = {
    "use_hedging": "hedge",
    "hedge_offset": "offset",
    "strike_rule": "strike",
    "sl_rule": "stop",
    "exit_rule": "exit",
    "lots_to_trade": "lots",
}


def print_sweep(out: Console, result: SweepResult, axes: dict[str, list[Any]], top: int) -> None:
    varied = [k for k, v in axes.items() if len(v) > 1] or list(axes)
    model = any(r.get("uses_model_prices") for r in result.rows)
    m = "ᴹ" if model else ""
    table = Table(
        title=(
            f"Sweep: {result.configurations} configurations on {result.workers} workers in "
            f"{result.wall_seconds:.1f} s, ranked by {result.objective}"
        ),
        title_justify="left",
    )
    table.add_column("#", justify="right", no_wrap=True)
    for k in varied:
        table.add_column(AXIS_LABELS.get(k, k), no_wrap=True)
    for col in ("Trades", "Idx win", "P&L win"):
        table.add_column(col, justify="right", no_wrap=True)
    for col in ("Net P&L", "Max DD", "Sharpe", "Sortino", "PF", "Avg P&L"):
        table.add_column(col + m, justify="right", no_wrap=True)
    for row in result.rows[:top]:
        params = row["params"]
        table.add_row(
            str(row["rank"]),
            *[str(params.get(k)) for k in varied],
            str(row["trades"]),
            pct(row["index_win_rate"]),
            pct(row["pnl_win_rate"]),
            num(row["net_pnl"], 0),
            num(row["max_drawdown"], 0),
            num(row["sharpe"]),
            num(row["sortino"]),
            num(row["profit_factor"]),
            num(row["expectancy"], 0),
        )
    out.print(table)
    if model:
        out.print(f"{m} model prices (Black–Scholes on India VIX), not market data")
