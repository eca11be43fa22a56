"""The operator commands against a fake of the services: arguments, token, errors, JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from tests.unit.cli.conftest import TOKEN, FakeServices, closed_port_url

SAFE: dict[str, Any] = {
    "trading_state": "ACTIVE",
    "restrictions": [],
    "kill_switch": False,
    "emergency_stop": False,
    "manual_state": "ACTIVE",
    "automation": True,
    "daily_loss_halt": False,
    "circuit_breaker": "closed",
    "limit_overrides": {},
    "last_changes": {},
    "services": {"risk": "ACTIVE"},
}
HALTED = {**SAFE, "trading_state": "HALTED", "kill_switch": True, "restrictions": ["kill"]}
HEALTH = {
    "status": "ok",
    "trading_state": "ACTIVE",
    "components": {"kafka": {"status": "ok", "detail": "27 topics"}},
}
ACCEPTED = {"status": "accepted", "key": "kill_switch", "engaged": True}


def run(
    runner: CliRunner, env: dict[str, str | None], *args: str, stdin: str | None = None
) -> Result:
    return runner.invoke(app, list(args), env=env, input=stdin)


def assert_no_token(result: Result) -> None:
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr


# --- reads --------------------------------------------------------------------------------------


def test_health_ok_prints_each_component_and_exits_0(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("GET", "/api/v2/health", (200, HEALTH))
    result = run(runner, env, "health")
    assert result.exit_code == 0, result.output
    assert "health: ok  trading state: ACTIVE" in result.stdout
    assert "kafka" in result.stdout
    assert "27 topics" in result.stdout


def test_health_down_shows_the_answer_and_exits_1(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("GET", "/api/v2/health", (503, {**HEALTH, "status": "down"}))
    result = run(runner, env, "health", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "down"


def test_status_json_is_the_safety_and_broker_answers(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    broker = {"status": "ok", "mode": "paper", "session_valid": True, "detail": "fine"}
    fake.answer("GET", "/api/v2/safety/status", (200, SAFE))
    fake.answer("GET", "/api/v2/broker/status", (200, broker))
    result = run(runner, env, "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"safety": SAFE, "broker": broker}
    human = run(runner, env, "status")
    assert "kill switch      off" in human.stdout
    assert "broker           paper: ok (fine)" in human.stdout


@pytest.mark.parametrize(("period", "reads_marks"), [("week", False), ("today", True)])
def test_pnl_asks_for_the_period_and_only_today_reads_the_marks(
    runner: CliRunner,
    env: dict[str, str | None],
    fake: FakeServices,
    period: str,
    reads_marks: bool,
) -> None:
    fake.answer(
        "GET",
        "/api/v2/performance/analytics",
        (200, {"period": period, "from": None, "overall": {"trades": 2, "net_pnl": "10.00"}}),
    )
    fake.answer("GET", "/api/v2/risk/metrics", (200, {"pnl_today": {"unrealized": "5.00"}}))
    result = run(runner, env, "pnl", "--period", period)
    assert result.exit_code == 0, result.output
    assert fake.calls("GET", "/api/v2/performance/analytics")[0].query == {"period": period}
    assert bool(fake.calls("GET", "/api/v2/risk/metrics")) is reads_marks
    assert "net P&L" in result.stdout
    assert "10.00" in result.stdout


def test_an_unknown_period_is_a_usage_error_before_any_call(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    result = run(runner, env, "pnl", "--period", "year")
    assert result.exit_code == 2
    assert fake.seen == []


def test_trades_passes_its_filters(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("GET", "/api/v2/trades", (200, {"count": 0, "trades": [], "next_cursor": None}))
    result = run(runner, env, "trades", "--status", "closed", "--signal", "S3", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "no trades" in result.stdout
    assert fake.seen[0].query == {"status": "closed", "signal": "S3", "limit": "5"}


def test_positions_empty(runner: CliRunner, env: dict[str, str | None], fake: FakeServices) -> None:
    fake.answer("GET", "/api/v2/trading/positions", (200, {"count": 0, "positions": []}))
    result = run(runner, env, "positions")
    assert result.exit_code == 0
    assert result.stdout.strip() == "no open positions"


# --- operator commands ----------------------------------------------------------------------------


def test_kill_switch_sends_reason_and_token_then_waits_for_the_monitor(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("POST", "/api/v2/safety/kill-switch", (200, ACCEPTED))
    fake.answer("GET", "/api/v2/safety/status", (200, SAFE), (200, SAFE), (200, HALTED))
    result = run(runner, env, "kill-switch", "on", "--reason", "feed is stale")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "kill switch on: accepted; trading state HALTED"
    (post,) = fake.calls("POST", "/api/v2/safety/kill-switch")
    assert post.body == {"reason": "feed is stale", "engaged": True}
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["x-operator"] == "desk-1"
    assert len(fake.calls("GET", "/api/v2/safety/status")) == 3
    assert_no_token(result)


def test_kill_switch_fails_when_the_monitor_never_shows_it(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("POST", "/api/v2/safety/kill-switch", (200, ACCEPTED))
    fake.answer("GET", "/api/v2/safety/status", (200, SAFE))
    result = run(runner, env, "kill-switch", "on", "--reason", "x" * 5, "--timeout", "1")
    assert result.exit_code == 1
    assert "monitor does not show the kill switch on after 1s" in result.stderr


def test_no_wait_returns_after_ingest_accepts(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("POST", "/api/v2/safety/kill-switch", (200, ACCEPTED))
    result = run(runner, env, "kill-switch", "off", "--reason", "clear", "--no-wait", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ACCEPTED
    assert fake.calls("POST", "/api/v2/safety/kill-switch")[0].body["engaged"] is False
    assert fake.calls("GET", "/api/v2/safety/status") == []


def test_a_missing_token_stops_before_any_call(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    env["STRIKEFLOW_OPERATOR_TOKEN"] = None
    result = run(runner, env, "square-off-all", "--reason", "end of day")
    assert result.exit_code == 2
    assert "no operator token" in result.stderr
    assert fake.seen == []


def test_the_token_option_wins_and_is_never_printed(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    given = "another-operator-token-91c2"
    fake.answer(
        "POST", "/api/v2/trading/square-off-all", (403, {"error": f"token {given} is wrong"})
    )
    result = run(runner, env, "square-off-all", "--reason", "end of day", "--token", given)
    assert result.exit_code == 1
    assert fake.seen[0].headers["authorization"] == f"Bearer {given}"
    assert "ingest answered 403: token *** is wrong" in result.stderr
    assert given not in result.output


def test_the_legacy_token_variable_is_read(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    env["STRIKEFLOW_OPERATOR_TOKEN"] = None
    env["OPERATOR_TOKEN"] = TOKEN
    fake.answer("POST", "/api/v2/trading/square-off-all", (200, {"status": "accepted"}))
    fake.answer("GET", "/api/v2/trading/positions", (200, {"count": 0, "positions": []}))
    result = run(runner, env, "square-off-all", "--reason", "end of day")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "square off all: accepted; open positions 0"
    assert fake.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_validation_errors_show_the_field_and_message(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    detail = [{"loc": ["body", "reason"], "msg": "String should have at least 3 characters"}]
    fake.answer("POST", "/api/v2/strategy/stop-automation", (422, {"detail": detail}))
    result = run(runner, env, "automation", "off", "--reason", "no")
    assert result.exit_code == 1
    assert "ingest answered 422: reason: String should have at least 3 characters" in (
        result.stderr
    )


def test_a_text_error_answer_is_shown_as_text(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("POST", "/api/v2/safety/circuit-breaker/reset", (502, "Bad Gateway from proxy"))
    result = run(runner, env, "breaker", "reset", "--reason", "morning")
    assert result.exit_code == 1
    assert "ingest answered 502: Bad Gateway from proxy" in result.stderr


def test_an_unreachable_service_exits_3(runner: CliRunner, env: dict[str, str | None]) -> None:
    env["STRIKEFLOW_MONITOR_URL"] = closed_port_url()
    result = run(runner, env, "risk")
    assert result.exit_code == 3
    assert f"monitor at {env['STRIKEFLOW_MONITOR_URL']} did not answer" in result.stderr


def test_the_switch_state_must_be_on_or_off(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    result = run(runner, env, "emergency-stop", "maybe", "--reason", "drill")
    assert result.exit_code == 2
    assert fake.seen == []


def test_emergency_stop_on_waits_for_flat_positions(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    answer = {"status": "accepted", "engaged": True, "square_off_command_id": "c1"}
    fake.answer("POST", "/api/v2/safety/emergency-stop", (200, answer))
    fake.answer("GET", "/api/v2/safety/status", (200, {**HALTED, "emergency_stop": True}))
    one = {"count": 1, "positions": [{"instrument": "X"}]}
    fake.answer(
        "GET", "/api/v2/trading/positions", (200, one), (200, {"count": 0, "positions": []})
    )
    result = run(runner, env, "emergency-stop", "on", "--reason", "drill")
    assert result.exit_code == 0, result.output
    assert "emergency stop on: accepted; trading state HALTED; open positions 0" in result.stdout
    assert len(fake.calls("GET", "/api/v2/trading/positions")) == 2


def test_mode_live_sends_the_confirmation_and_shows_the_refusal(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    refusal = {"error": "live trading is not available: no live broker session is configured"}
    fake.answer("POST", "/api/v2/trading/toggle-paper-mode", (409, refusal))
    result = run(runner, env, "mode", "live", "--confirm", "GO LIVE")
    assert result.exit_code == 1
    assert fake.seen[0].body == {"enabled": False, "confirm": "GO LIVE"}
    assert "ingest answered 409: live trading is not available" in result.stderr


def test_mode_paper(runner: CliRunner, env: dict[str, str | None], fake: FakeServices) -> None:
    fake.answer(
        "POST", "/api/v2/trading/toggle-paper-mode", (200, {"status": "unchanged", "mode": "paper"})
    )
    result = run(runner, env, "mode", "paper")
    assert result.exit_code == 0
    assert result.stdout.strip() == "mode: paper (unchanged)"
    assert fake.seen[0].body == {"enabled": True}


def test_approve_posts_to_the_signal_and_waits_until_it_is_no_longer_pending(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    sid = "4bb31458-4e51-523f-9f68-ab1a18ad82d8"
    fake.answer("POST", f"/api/v2/strategy/pending/{sid}/approve", (200, {"status": "accepted"}))
    waiting = {"count": 1, "pending": [{"signal_id": sid}]}
    fake.answer("GET", "/api/v2/strategy/pending", (200, waiting), (200, {"pending": []}))
    result = run(runner, env, "approvals", "approve", sid, "--reason", "looks right")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"signal {sid} approved"
    assert fake.calls("POST", f"/api/v2/strategy/pending/{sid}/approve")[0].body == {
        "reason": "looks right"
    }


# --- executor -----------------------------------------------------------------------------------


def test_session_paste_prompts_hidden_and_never_prints_the_value(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    value = "53177213"
    fake.answer(
        "POST", "/api/v2/broker/session", (422, {"detail": f"session {value} is not today's"})
    )
    result = run(runner, env, "session", "paste", stdin=f"{value}\n")
    assert result.exit_code == 1
    assert fake.seen[0].body == {"api_session": value}
    assert fake.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert value not in result.output
    assert "executor answered 422: session *** is not today's" in result.stderr
    assert_no_token(result)


def test_session_paste_accepted_shows_the_session(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    state = {
        "mode": "breeze",
        "session_valid": True,
        "reconciled": True,
        "accepted": True,
        "trading_resumes": True,
        "last_reconciliation": {"settled": 0, "refreshed": 2, "unsettled": 0, "mismatches": {}},
    }
    fake.answer("POST", "/api/v2/broker/session", (200, state))
    result = run(runner, env, "session", "paste", "99887766")
    assert result.exit_code == 0, result.output
    assert "trading resumes  yes" in result.stdout
    assert "99887766" not in result.output


def test_orders_adopt(runner: CliRunner, env: dict[str, str | None], fake: FakeServices) -> None:
    answer = {
        "client_order_id": "cid-1",
        "broker_order_id": "B-42",
        "status": "filled",
        "filled_quantity": 65,
    }
    fake.answer("POST", "/api/v2/broker/orders/cid-1/adopt", (200, answer))
    result = run(runner, env, "orders", "adopt", "cid-1", "B-42")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "order cid-1 adopted: broker order B-42, filled, filled 65"
    assert fake.seen[0].body == {"broker_order_id": "B-42"}


def test_limits_set_sends_only_the_given_limits_and_waits_for_the_overrides(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("POST", "/api/v2/risk/limits", (200, {"status": "accepted"}))
    fake.answer(
        "GET",
        "/api/v2/safety/status",
        (200, SAFE),
        (200, {**SAFE, "limit_overrides": {"max_lots_per_trade": "4", "max_margin": "900000"}}),
    )
    result = run(
        runner, env, "limits", "set", "--max-lots-per-trade", "4", "--max-margin", "900000",
        "--reason", "after the loss",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "limits set: max_lots_per_trade=4, max_margin=900000"
    assert fake.calls("POST", "/api/v2/risk/limits")[0].body == {
        "reason": "after the loss",
        "max_lots_per_trade": 4,
        "max_margin": 900000,
    }
    assert len(fake.calls("GET", "/api/v2/safety/status")) == 2


def test_limits_set_without_a_limit_is_a_usage_error(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    result = run(runner, env, "limits", "set", "--reason", "nothing")
    assert result.exit_code == 2
    assert fake.seen == []


def test_signals_lists_open_and_held_signals(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    held = {
        "signal_id": "sig-1",
        "signal": "S3",
        "trading_week": "2026-W48",
        "state": "pending_approval",
        "option_type": "CE",
        "strike": "25100.00",
        "received_at": "2026-11-24T05:45:00+00:00",
    }
    fake.answer("GET", "/api/v2/webhook/signals/active", (200, {"count": 1, "signals": [held]}))
    result = run(runner, env, "signals")
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.splitlines()[1].split()) == (
        "sig-1 S3 2026-W48 pending_approval CE 25100.00 2026-11-24T05:45:00"
    )


def test_a_narrow_terminal_never_cuts_ids_short(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    sid = "5f92fcd4-b490-51e5-90c3-47cf8c0f9616"
    held = {"signal_id": sid, "signal": "S3", "received_at": "2026-11-24T05:45:00+00:00"}
    fake.answer("GET", "/api/v2/strategy/pending", (200, {"count": 1, "pending": [held]}))
    env["COLUMNS"] = "40"
    result = run(runner, env, "approvals", "list")
    assert result.exit_code == 0, result.output
    assert sid in result.stdout
    assert "2026-11-24T05:45:00" in result.stdout
