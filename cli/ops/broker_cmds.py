"""The executor's broker routes: the session (show, paste today's value) and order adoption."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.ops.client import connect
from cli.ops.control_cmds import TokenOpt
from cli.ops.render import JsonOpt, emit, ops_errors, pairs, say, text


def register(app: typer.Typer) -> None:
    session = typer.Typer(help="The broker session.", no_args_is_help=True)
    session.command("show")(session_show)
    session.command("paste")(session_paste)
    app.add_typer(session, name="session")
    orders = typer.Typer(help="Broker orders.", no_args_is_help=True)
    orders.command("adopt")(adopt)
    app.add_typer(orders, name="orders")


def session_show(as_json: JsonOpt = False) -> None:
    """Session validity and expiry, the last reconciliation and API call use."""
    with ops_errors(), connect() as client:
        body = client.get("executor", "/api/v2/broker/session")
    emit(body, as_json, _show_session)


def _show_session(body: dict[str, Any]) -> None:
    recon = body.get("last_reconciliation") or {}
    lines: list[tuple[str, object]] = [
        ("mode", body.get("mode")),
        ("session valid", body.get("session_valid")),
        ("problem", text(body.get("problem"), "none")),
        ("reconciled", body.get("reconciled")),
        ("expires at", body.get("expires_at")),
        ("reconciled at", recon.get("at")),
        (
            "reconciliation",
            f"settled {recon.get('settled')}, refreshed {recon.get('refreshed')}, "
            f"unsettled {recon.get('unsettled')}, "
            f"mismatches {len(recon.get('mismatches') or {})}",
        ),
    ]
    if "trading_resumes" in body:
        lines.append(("trading resumes", body["trading_resumes"]))
    if "api_calls" in body:
        calls = body["api_calls"]
        lines.append(("api calls", f"{calls.get('last_minute')}/min, {calls.get('today')} today"))
    pairs(lines)


def session_paste(
    value: Annotated[
        str | None,
        typer.Argument(
            help="The apisession value; omit it to be asked with hidden input", show_default=False
        ),
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log in with today's Breeze session value, then reconcile; never prints the value."""
    if not value:
        value = typer.prompt("Breeze apisession value", hide_input=True).strip()
    with ops_errors(), connect(token) as client:
        client.scrub(value)
        body = client.post("executor", "/api/v2/broker/session", {"api_session": value})
    emit(body, as_json, _show_session)


def adopt(
    client_order_id: Annotated[str, typer.Argument(help="The unknown intent's client order id")],
    broker_order_id: Annotated[str, typer.Argument(help="The broker's order id that is its")],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Settle an unknown order with the broker order the operator identified."""
    with ops_errors(), connect(token) as client:
        body = client.post(
            "executor",
            f"/api/v2/broker/orders/{client_order_id}/adopt",
            {"broker_order_id": broker_order_id},
        )
    emit(
        body,
        as_json,
        lambda b: say(
            f"order {b.get('client_order_id')} adopted: broker order {b.get('broker_order_id')}, "
            f"{b.get('status')}, filled {b.get('filled_quantity')}"
        ),
    )
