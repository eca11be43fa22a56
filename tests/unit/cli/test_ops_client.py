"""Where the commands look for the services and the token."""

from __future__ import annotations

from cli.ops.client import Endpoints, operator_name, resolve_token


def test_endpoints_default_to_the_local_stack_and_follow_the_environment() -> None:
    assert Endpoints.from_env({}) == Endpoints(
        monitor="http://127.0.0.1:18000",
        ingest="http://127.0.0.1:18001",
        executor="http://127.0.0.1:18003",
    )
    moved = Endpoints.from_env({"STRIKEFLOW_INGEST_URL": "http://desk:9001/"})
    assert moved.ingest == "http://desk:9001"
    assert moved.monitor == "http://127.0.0.1:18000"


def test_the_token_comes_from_the_option_then_each_variable_in_turn() -> None:
    both = {"STRIKEFLOW_OPERATOR_TOKEN": "new", "OPERATOR_TOKEN": "old"}
    assert resolve_token("given", both) == "given"
    assert resolve_token(None, both) == "new"
    assert resolve_token(None, {"OPERATOR_TOKEN": "old"}) == "old"
    assert resolve_token(None, {"STRIKEFLOW_OPERATOR_TOKEN": ""}) is None


def test_the_operator_name_is_bounded_for_the_audit_header() -> None:
    assert operator_name({"STRIKEFLOW_OPERATOR": "x" * 100}) == "x" * 64
