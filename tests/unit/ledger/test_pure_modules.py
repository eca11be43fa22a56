"""The ledger's chain and trade arithmetic stay pure: no I/O library, no environment."""

from __future__ import annotations

import pytest

from tests.unit.test_architecture import IO_LIBRARIES, ROOT, imported

PURE = [ROOT / "services/ledger" / n for n in ("audit_chain.py", "trades.py", "positions.py")]


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_ledger_domain_module_imports_no_io_library(path: object) -> None:
    names = imported(path)  # type: ignore[arg-type]
    text = path.read_text()  # type: ignore[attr-defined]

    assert not {n.split(".")[0] for n in names} & IO_LIBRARIES
    assert "os.environ" not in text
    assert "getenv" not in text
