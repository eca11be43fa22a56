"""``strikeflow logs``: the services' warnings and errors, counted and listed.

The services write one JSON object a line (structlog) with ``level``, ``event``, ``service`` and
``timestamp``; other lines (Kafka's, PostgreSQL's) are not read. The folder is ``--dir``, else
``STRIKEFLOW_LOG_DIR``, else the local stack's ``.state/logs``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.ops.render import JsonOpt, emit, fail, rows, say

LEVELS = ("debug", "info", "warning", "error", "critical")


class Level(StrEnum):
    warning = "warning"
    error = "error"


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def default_dir() -> Path:
    return Path(os.environ.get("STRIKEFLOW_LOG_DIR") or Path.cwd() / ".state" / "logs")


def records(folder: Path) -> Iterator[dict[str, Any]]:
    """Every JSON log record of the ``*.log`` files in ``folder``."""
    for path in sorted(folder.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.startswith("{"):
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and "level" in record:
                    record.setdefault("service", path.stem)
                    yield record


def select(found: Iterator[dict[str, Any]], least: Level, since: datetime) -> list[dict[str, Any]]:
    """Records at ``least`` or above, stamped at or after ``since``."""
    floor = LEVELS.index(least.value)
    chosen = []
    for record in found:
        level = str(record.get("level", "")).lower()
        if level not in LEVELS or LEVELS.index(level) < floor:
            continue
        try:
            stamp = datetime.fromisoformat(str(record.get("timestamp")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        if stamp >= since:
            chosen.append(record)
    return chosen


def logs(
    level: Annotated[Level, typer.Option("--level", help="The lowest level shown")] = Level.error,
    hours: Annotated[
        float, typer.Option("--hours", min=0.01, help="Only the last this many hours")
    ] = 24.0,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="The log folder; default: STRIKEFLOW_LOG_DIR, then ./.state/logs",
            show_default=False,
        ),
    ] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="List at most this many")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Count and list the services' log records at --level or above in the last --hours."""
    where = folder or default_dir()
    if not where.is_dir():
        fail(f"no log folder at {where} (pass --dir or set STRIKEFLOW_LOG_DIR)", 2)
    since = datetime.now(UTC) - timedelta(hours=hours)
    chosen = select(records(where), level, since)
    body = {
        "folder": str(where),
        "level": level.value,
        "since": since.isoformat(timespec="seconds"),
        "count": len(chosen),
        "by_event": dict(
            Counter(f"{r.get('service')} {r.get('level')} {r.get('event')}" for r in chosen)
        ),
        "records": chosen[-show:] if show else [],
    }
    emit(body, as_json, _show)


def _show(body: dict[str, Any]) -> None:
    say(f"{body['count']} {body['level']}+ records in the last window (since {body['since']})")
    counts: dict[str, int] = body["by_event"]
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    rows(
        ["service level event", "count"],
        ranked,
        f"no {body['level']} or worse logged",
    )
    for record in body["records"]:
        say(
            f"{record.get('timestamp')} {record.get('service')} {record.get('level')} "
            f"{record.get('event')}"
        )
