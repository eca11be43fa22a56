"""The pieces of `strikeflow backup`/`restore` that need no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.backup_cmd import split_password, tool_path


def test_split_password_moves_the_password_out_of_the_dsn() -> None:
    dsn, password = split_password("postgresql://desk:s%40cret@db.local:5433/strikeflow")

    assert dsn == "postgresql://desk@db.local:5433/strikeflow"
    assert password == "s@cret"


def test_split_password_leaves_a_dsn_without_password_alone() -> None:
    url = "postgresql://strikeflow@127.0.0.1:15432/strikeflow"

    assert split_password(url) == (url, None)


def _install(root: Path, major: int, tool: str) -> None:
    path = root / str(major) / "bin" / tool
    path.parent.mkdir(parents=True)
    path.write_text("")


def test_tool_path_picks_the_server_major_or_the_nearest_newer(tmp_path: Path) -> None:
    for major in (13, 15, 17):
        _install(tmp_path, major, "pg_dump")

    assert tool_path("pg_dump", 15, tmp_path) == tmp_path / "15/bin/pg_dump"
    assert tool_path("pg_dump", 14, tmp_path) == tmp_path / "15/bin/pg_dump"


def test_tool_path_when_only_older_tools_exist_says_what_it_found(tmp_path: Path) -> None:
    _install(tmp_path, 13, "pg_restore")

    with pytest.raises(FileNotFoundError, match=r"PostgreSQL 15 or newer .*found: 13"):
        tool_path("pg_restore", 15, tmp_path)
