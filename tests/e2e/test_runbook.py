"""docs/operations.md, run step by step against the whole stack.

Every ```console block of the runbook holds steps: a ``$ strikeflow ...`` line, then the lines it
is expected to print. Each step runs with the stack's URLs and operator token in the environment
and must exit 0 and print its expected lines in order (runs of spaces are one space; ``…`` stands
for any text; ``$VARIABLE`` is expanded as a shell would). A step written
``$ strikeflow ...  # not run here: <why>`` cannot run against the local paper stack; it is
reported as skipped with that reason, never dropped silently.

Before the first step one TradingView alert opens a trade, so that the market-hours steps see
positions and the post-market square-off has something to close.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.stack import LOCAL_OPERATOR_TOKEN
from tests.e2e.conftest import entry_alert
from tests.waiting import eventually

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
NOT_RUN = "# not run here:"
WILDCARD = "…"
COLUMNS = "100"


@dataclass(frozen=True)
class Step:
    """One runbook command and what it must print."""

    line: int
    command: str
    expected: tuple[str, ...]
    not_run: str | None

    @property
    def name(self) -> str:
        return f"L{self.line}: {self.command}"


def parse(text: str) -> list[Step]:
    """The steps of every ```console block, in document order."""
    steps: list[Step] = []
    in_block = False
    current: tuple[int, str, str | None] | None = None
    expected: list[str] = []

    def close() -> None:
        nonlocal current, expected
        if current is not None:
            steps.append(Step(current[0], current[1], tuple(expected), current[2]))
        current, expected = None, []

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            if in_block:
                close()
            in_block = line.strip() == "```console"
            continue
        if not in_block:
            continue
        if line.startswith("$ "):
            close()
            command, _, why = line[2:].partition(NOT_RUN)
            current = (number, command.strip(), why.strip() or None)
        elif current is not None and line.strip():
            expected.append(line)
    return steps


def _normal(line: str) -> str:
    return " ".join(line.split())


def first_missing(expected: tuple[str, ...], output: str) -> str | None:
    """The first expected line not found (in order) in ``output``, or None."""
    lines = [_normal(x) for x in output.splitlines()]
    at = 0
    for want in expected:
        pattern = re.compile(".*?".join(re.escape(p) for p in _normal(want).split(WILDCARD)))
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


STEPS = parse(DOC.read_text(encoding="utf-8"))


# --- the runbook's form (no stack needed) -------------------------------------------------------


def test_the_runbook_has_steps_for_every_part_of_the_day() -> None:
    text = DOC.read_text(encoding="utf-8")
    for heading in ("## Pre-market", "## Market hours", "## Post-market", "## Emergency"):
        assert heading in text
    runnable = [s for s in STEPS if s.not_run is None]
    assert len(runnable) >= 25
    for step in STEPS:
        assert step.command.startswith("strikeflow "), step.name
    for step in runnable:
        assert step.expected, f"{step.name} shows no expected output"


def test_matching_is_in_order_with_wildcards() -> None:
    output = "health: ok  trading state: ACTIVE\nkafka   ok   27 topics\nrisk ok heartbeat 0.4s\n"
    assert (
        first_missing(("health: ok trading state: ACTIVE", "risk ok heartbeat …"), output) is None
    )
    assert first_missing(("risk ok …", "kafka ok 27 topics"), output) == "kafka ok 27 topics"
    assert first_missing(("kafka ok 28 topics",), output) == "kafka ok 28 topics"


def test_the_parser_reads_commands_expectations_and_manual_steps() -> None:
    doc = (
        "text\n```console\n$ strikeflow health\nhealth: ok …\n\n$ strikeflow session paste"
        "  # not run here: live only\n```\n```bash\n$ strikeflow ignored\n```\n"
    )
    assert parse(doc) == [
        Step(3, "strikeflow health", ("health: ok …",), None),
        Step(6, "strikeflow session paste", (), "live only"),
    ]


# --- the runbook against the stack --------------------------------------------------------------


@pytest.fixture(scope="module")
def stack_env(ingest_url: str, monitor_url: str, supervisor_conf: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "STRIKEFLOW_OPERATOR_TOKEN": os.environ.get("OPERATOR_TOKEN") or LOCAL_OPERATOR_TOKEN,
            "STRIKEFLOW_OPERATOR": "desk-1",
            "STRIKEFLOW_LOG_DIR": str(Path(supervisor_conf).parent / "logs"),
            "COLUMNS": COLUMNS,
        }
    )
    return env


async def _open_a_trade(ingest_url: str, monitor_url: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert())
        assert answer.is_success, answer.text
        assert answer.json()["status"] == "accepted", answer.text

        async def open_positions() -> int:
            body: dict[str, Any] = (
                await client.get(f"{monitor_url}/api/v2/trading/positions")
            ).json()
            return int(body["count"])

        await eventually(open_positions, lambda n: n >= 2, 30, "the alert's two legs open")


@pytest.fixture(scope="module")
def a_trade_is_open(ingest_url: str, monitor_url: str) -> None:
    asyncio.run(_open_a_trade(ingest_url, monitor_url))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runbook")


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_step(step: Step, stack_env: dict[str, str], workdir: Path, a_trade_is_open: None) -> None:
    if step.not_run is not None:
        pytest.skip(f"runbook step not run against the local paper stack: {step.not_run}")
    # As a shell would: $DATABASE_URL and the like come from the stack's environment.
    argv = shlex.split(os.path.expandvars(step.command))
    strikeflow = Path(sys.executable).parent / "strikeflow"
    done = subprocess.run(
        [str(strikeflow), *argv[1:]],
        env=stack_env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    shown = f"$ {step.command}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    assert done.returncode == 0, f"exit {done.returncode}\n{shown}"
    missing = first_missing(step.expected, done.stdout)
    assert missing is None, f"expected line not printed: {missing!r}\n{shown}"


async def test_the_runbook_leaves_the_desk_normal(monitor_url: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        safety = (await client.get(f"{monitor_url}/api/v2/safety/status")).json()
    assert safety["kill_switch"] is False
    assert safety["emergency_stop"] is False
    assert safety["automation"] is True
    assert safety["trading_state"] == "ACTIVE"
    assert safety["circuit_breaker"] == "closed"
