"""Commands that change trading, through ingest's operator routes (token needed, audited).

Each waits (``--wait``, the default) until the monitor shows the change, so the next command
sees it; ``--no-wait`` returns once ingest has stored the command in Kafka.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from cli.ops.client import Client, OpsError, connect
from cli.ops.render import JsonOpt, emit, ops_errors, rows, say, text

ReasonOpt = Annotated[
    str,
    typer.Option(
        "--reason", help="Why (at least 3 characters); kept in the audit log", show_default=False
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Operator token; default: STRIKEFLOW_OPERATOR_TOKEN, then OPERATOR_TOKEN",
        show_default=False,
    ),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Wait until the monitor shows the change")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for the monitor")
]


class OnOff(StrEnum):
    on = "on"
    off = "off"


class Mode(StrEnum):
    paper = "paper"
    live = "live"


class NotConfirmed(OpsError):
    """The command was accepted but the monitor did not show its effect in time."""


def register(app: typer.Typer) -> None:
    app.command("kill-switch")(kill_switch)
    app.command("emergency-stop")(emergency_stop)
    app.command("square-off-all")(square_off_all)
    app.command("automation")(automation)
    app.command("mode")(mode)
    breaker = typer.Typer(help="The circuit breaker.", no_args_is_help=True)
    breaker.command("reset")(breaker_reset)
    app.add_typer(breaker, name="breaker")
    approvals = typer.Typer(help="Signals waiting for operator approval.", no_args_is_help=True)
    approvals.command("list")(approvals_list)
    approvals.command("approve")(approve)
    approvals.command("reject")(reject)
    app.add_typer(approvals, name="approvals")
    limits = typer.Typer(help="Risk limits at run time.", no_args_is_help=True)
    limits.command("set")(limits_set)
    app.add_typer(limits, name="limits")


def wait_for(
    probe: Callable[[], Any],
    accept: Callable[[Any], bool],
    timeout_s: float,
    what: str,
    poll_s: float = 0.2,
) -> Any:
    """Call ``probe`` until ``accept`` holds for its answer; `NotConfirmed` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = probe()
        if accept(last):
            return last
        if time.monotonic() >= deadline:
            raise NotConfirmed(
                f"accepted, but the monitor does not show {what} after {timeout_s:g}s"
            )
        time.sleep(poll_s)


def _safety(client: Client) -> Callable[[], dict[str, Any]]:
    return lambda: client.get("monitor", "/api/v2/safety/status")


def _open_positions(client: Client) -> Callable[[], int]:
    return lambda: int(client.get("monitor", "/api/v2/trading/positions").get("count", 0))


def _switch(
    route: str,
    field: str,
    label: str,
    state: OnOff,
    reason: str,
    token: str | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    engaged = state is OnOff.on
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", route, {"reason": reason, "engaged": engaged})
        if wait:
            safety = wait_for(
                _safety(client),
                lambda s: s.get(field) is engaged,
                timeout,
                f"the {label} {state.value}",
            )
            answer["trading_state"] = safety.get("trading_state")
            if engaged and "square_off_command_id" in answer:
                wait_for(_open_positions(client), lambda n: n == 0, timeout, "every position flat")
                answer["open_positions"] = 0
    emit(answer, as_json, lambda a: _said(f"{label} {state.value}", a))


def _said(what: str, answer: dict[str, Any]) -> None:
    line = f"{what}: accepted"
    if "trading_state" in answer:
        line += f"; trading state {answer['trading_state']}"
    if "open_positions" in answer:
        line += f"; open positions {answer['open_positions']}"
    say(line)


def kill_switch(
    state: Annotated[OnOff, typer.Argument(help="on halts all trading; off clears it")],
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Kill switch: HALTED everywhere until turned off (positions are kept)."""
    _switch(
        "/api/v2/safety/kill-switch", "kill_switch", "kill switch",
        state, reason, token, wait, timeout, as_json,
    )  # fmt: skip


def emergency_stop(
    state: Annotated[OnOff, typer.Argument(help="on halts and squares off; off clears it")],
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Emergency stop: HALTED and every open trade squared off; stays until turned off."""
    _switch(
        "/api/v2/safety/emergency-stop", "emergency_stop", "emergency stop",
        state, reason, token, wait, timeout, as_json,
    )  # fmt: skip


def square_off_all(
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Close every open trade, main legs before hedges; waits until no position is open."""
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", "/api/v2/trading/square-off-all", {"reason": reason})
        if wait:
            wait_for(_open_positions(client), lambda n: n == 0, timeout, "every position flat")
            answer["open_positions"] = 0
    emit(answer, as_json, lambda a: _said("square off all", a))


def automation(
    state: Annotated[OnOff, typer.Argument(help="on trades approved signals; off holds them")],
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Automation on: signals are traded at once; off: they wait for `approvals approve`."""
    engaged = state is OnOff.on
    route = "start-automation" if engaged else "stop-automation"
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", f"/api/v2/strategy/{route}", {"reason": reason})
        if wait:
            wait_for(
                _safety(client),
                lambda s: s.get("automation") is engaged,
                timeout,
                f"automation {state.value}",
            )
            answer["automation"] = state.value
    emit(answer, as_json, lambda a: say(f"automation {state.value}: accepted"))


def breaker_reset(
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Close the circuit breaker and forget its error and loss history."""
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", "/api/v2/safety/circuit-breaker/reset", {"reason": reason})
        if wait:
            wait_for(
                _safety(client),
                lambda s: s.get("circuit_breaker") == "closed",
                timeout,
                "the breaker closed",
            )
    emit(answer, as_json, lambda a: say("circuit breaker reset: closed"))


def mode(
    target: Annotated[Mode, typer.Argument(help="paper or live")],
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help='Leaving paper needs --confirm "GO LIVE"'),
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Paper or live trading (live needs --confirm "GO LIVE" and a live broker session)."""
    body: dict[str, Any] = {"enabled": target is Mode.paper}
    if confirm is not None:
        body["confirm"] = confirm
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", "/api/v2/trading/toggle-paper-mode", body)
    emit(
        answer,
        as_json,
        lambda a: say(f"mode: {a.get('mode', target.value)} ({a.get('status', 'accepted')})"),
    )


def approvals_list(as_json: JsonOpt = False) -> None:
    """Signals waiting for approval (automation off)."""
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/strategy/pending")
    emit(body, as_json, _show_pending)


def _show_pending(body: dict[str, Any]) -> None:
    rows(
        ["signal id", "signal", "type", "strike", "received", "expires"],
        [
            [
                p.get("signal_id"),
                p.get("signal"),
                p.get("option_type"),
                p.get("strike"),
                text(p.get("received_at"))[:19],
                text(p.get("expires_at"))[:19],
            ]
            for p in body.get("pending", [])
        ],
        "no signals waiting for approval",
    )


def _resolve(
    verb: str, signal_id: str, reason: str, token: str | None, wait: bool, timeout: float
) -> dict[str, Any]:
    with ops_errors(), connect(token) as client:
        answer: dict[str, Any] = client.post(
            "ingest", f"/api/v2/strategy/pending/{signal_id}/{verb}", {"reason": reason}
        )
        if wait:
            wait_for(
                lambda: client.get("monitor", "/api/v2/strategy/pending"),
                lambda b: all(p.get("signal_id") != signal_id for p in b.get("pending", [])),
                timeout,
                f"signal {signal_id} resolved",
            )
    return answer


SignalArg = Annotated[str, typer.Argument(help="The pending signal's id (approvals list)")]


def approve(
    signal_id: SignalArg,
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Approve a waiting signal; risk checks it again before any order."""
    answer = _resolve("approve", signal_id, reason, token, wait, timeout)
    emit(answer, as_json, lambda a: say(f"signal {signal_id} approved"))


def reject(
    signal_id: SignalArg,
    reason: ReasonOpt,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Reject a waiting signal."""
    answer = _resolve("reject", signal_id, reason, token, wait, timeout)
    emit(answer, as_json, lambda a: say(f"signal {signal_id} rejected"))


def limits_set(
    reason: ReasonOpt,
    max_lots_per_trade: Annotated[
        int | None, typer.Option("--max-lots-per-trade", min=1, max=1000, show_default=False)
    ] = None,
    max_open_trades: Annotated[
        int | None, typer.Option("--max-open-trades", min=1, max=1000, show_default=False)
    ] = None,
    max_margin: Annotated[
        int | None, typer.Option("--max-margin", min=0, help="INR", show_default=False)
    ] = None,
    token: TokenOpt = None,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Replace the run-time limit overrides (omitted limits keep their configured value)."""
    values = {
        "max_lots_per_trade": max_lots_per_trade,
        "max_open_trades": max_open_trades,
        "max_margin": max_margin,
    }
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise typer.BadParameter(
            "give at least one of --max-lots-per-trade, --max-open-trades, --max-margin"
        )
    expected = {k: str(v) for k, v in given.items()}
    with ops_errors(), connect(token) as client:
        answer = client.post("ingest", "/api/v2/risk/limits", {"reason": reason, **given})
        if wait:
            wait_for(
                _safety(client),
                lambda s: s.get("limit_overrides") == expected,
                timeout,
                "the new limits",
            )
    emit(
        answer,
        as_json,
        lambda a: say("limits set: " + ", ".join(f"{k}={v}" for k, v in sorted(expected.items()))),
    )
