"""The ``strikeflow`` command line.

Each command lives in its own small module exposing ``register(app)``; add new commands by
writing such a module and listing it in `COMMAND_MODULES`.
"""

from __future__ import annotations

import typer

from cli import audit_cmd, backtest_cmd, backup_cmd, report_cmd, sweep_cmd
from cli.ops import broker_cmds, control_cmds, logs_cmd, read_cmds

app = typer.Typer(
    name="strikeflow",
    help="Automated trading desk for NIFTY weekly options.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

COMMAND_MODULES = (
    backtest_cmd,
    sweep_cmd,
    audit_cmd,
    backup_cmd,
    read_cmds,
    control_cmds,
    broker_cmds,
    logs_cmd,
    report_cmd,
)


@app.callback()
def _root() -> None:
    """Automated trading desk for NIFTY weekly options."""


for _module in COMMAND_MODULES:
    _module.register(app)


if __name__ == "__main__":
    app()
