"""libs/analytics is domain code: no I/O library, no environment, no wall clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_architecture import IO_LIBRARIES, ROOT, imported

MODULES = sorted((ROOT / "libs/analytics").glob("*.py"))


def test_the_package_has_modules() -> None:
    assert len(MODULES) >= 4


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_analytics_module_imports_no_io_library_and_reads_no_environment(path: Path) -> None:
    names = imported(path)
    text = path.read_text()

    assert not {n.split(".")[0] for n in names} & IO_LIBRARIES
    assert not {n for n in names if n.startswith("services")}
    assert "os.environ" not in text
    assert "getenv" not in text
    assert "datetime.now(" not in text
