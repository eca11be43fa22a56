"""The layout's rules, checked on the code's own imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = {
    "aiokafka",
    "asyncpg",
    "httpx",
    "fastapi",
    "prometheus_client",
    "uvicorn",
    "psycopg",
}
DOMAIN = [
    *sorted((ROOT / "libs/market").glob("*.py")),
    *sorted((ROOT / "libs/strategy").glob("*.py")),
    *sorted((ROOT / "libs/analytics").glob("*.py")),
    *sorted((ROOT / "libs/notify").glob("*.py")),
    *(ROOT / "libs/common" / name for name in ("control.py", "messages.py", "topics.py")),
    *(ROOT / "services/risk" / n for n in ("checks.py", "breaker.py", "squareoff.py")),
    ROOT / "services/ledger/positions.py",
    ROOT / "services/ledger/audit_chain.py",
    ROOT / "services/ledger/trades.py",
    ROOT / "services/executor/adapters/call_guard.py",
    ROOT / "services/monitor/health.py",
]
SERVICES = ("ingest", "risk", "executor", "ledger", "monitor")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_io_library_and_reads_no_environment(path: Path) -> None:
    names = imported(path)
    text = path.read_text()

    assert not {n.split(".")[0] for n in names} & IO_LIBRARIES
    assert "os.environ" not in text
    assert "getenv" not in text
    assert "datetime.now(" not in text


@pytest.mark.parametrize("service", SERVICES)
def test_service_imports_no_other_service(service: str) -> None:
    others = {f"services.{s}" for s in SERVICES if s != service}
    for path in (ROOT / "services" / service).rglob("*.py"):
        names = imported(path)

        assert not {n for n in names if any(n.startswith(o) for o in others)}, path
