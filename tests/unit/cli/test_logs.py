"""``strikeflow logs``: which records count, and the exits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def line(level: str, event: str, age: timedelta) -> str:
    stamp = (datetime.now(UTC) - age).isoformat().replace("+00:00", "Z")
    return json.dumps({"event": event, "level": level, "service": "risk", "timestamp": stamp})


def test_counts_recent_records_at_the_level_or_above(tmp_path: Path) -> None:
    (tmp_path / "risk.log").write_text(
        "\n".join(
            [
                line("error", "publish_failed", timedelta(minutes=5)),
                line("error", "publish_failed", timedelta(minutes=1)),
                line("critical", "lost_partition", timedelta(minutes=1)),
                line("warning", "control_applied", timedelta(minutes=1)),
                line("error", "old_failure", timedelta(hours=30)),
                "[2026-11-24 09:00:00] ERROR kafka text line is not read",
                "{not json",
            ]
        )
    )
    result = CliRunner().invoke(app, ["logs", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["count"] == 3
    assert body["by_event"] == {"risk error publish_failed": 2, "risk critical lost_partition": 1}
    warned = CliRunner().invoke(app, ["logs", "--dir", str(tmp_path), "--level", "warning"])
    assert warned.stdout.startswith("4 warning+ records")


def test_nothing_logged_says_so(tmp_path: Path) -> None:
    (tmp_path / "ingest.log").write_text(line("info", "started", timedelta(0)) + "\n")
    result = CliRunner().invoke(app, ["logs", "--dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "no error or worse logged" in result.stdout


def test_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["logs", "--dir", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "no log folder at" in result.stderr
