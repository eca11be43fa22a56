"""Fixtures for the market-domain tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """STRIKEFLOW_DATA_DIR, defaulting to the shared data folder beside the repository."""
    configured = os.environ.get("STRIKEFLOW_DATA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real market data folder; tests using it skip when it is absent."""
    path = shared_data_dir()
    if not (path / "nifty_expiries_2019_2025.csv").is_file():
        pytest.skip(f"market data not found under {path}")
    return path
