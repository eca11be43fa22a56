"""The 2019-2025 backtest HTML report opens in headless Chromium, without errors, with charts.

Needs the real data (skipped when absent) and /usr/bin/chromium (a failure when
REQUIRE_SERVICES=1, else skipped). The screenshot is kept at artifacts/backtest-report.png.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import date
from pathlib import Path

import pytest

from libs.backtest.report import render_report
from libs.backtest.runner import BacktestRequest, BacktestSession
from libs.backtest.sources import CsvBarSource

pytestmark = pytest.mark.data

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "backtest-report.png"
WIDTH, HEIGHT = 1280, 3400
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("chromium unavailable and REQUIRE_SERVICES=1")
        pytest.skip("chromium unavailable")
    return path


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def report_file(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    session = BacktestSession(CsvBarSource(data_dir))
    request = BacktestRequest(from_date=date(2019, 1, 1), to_date=date(2025, 12, 31))
    document = session.document(request)
    html = render_report(document, session.bars_by_week(request))
    path = tmp_path_factory.mktemp("report") / "backtest-2019-2025.html"
    path.write_text(html, encoding="utf-8")
    return path


@pytest.mark.timeout(600)
def test_report_when_opened_in_chromium_screenshot_shows_charts(
    report_file: Path, tmp_path: Path
) -> None:
    binary = chromium()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    proc = run_chromium(
        binary,
        tmp_path / "profile",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        f"--screenshot={SCREENSHOT}",
        report_file.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = SCREENSHOT.read_bytes()
    assert len(data) > 50_000
    width, height, pixels = png_pixels(data)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(pixels[: 4 * 1024 * 1024])) > 64


@pytest.mark.timeout(600)
def test_report_when_dom_dumped_contains_chart_svgs_and_no_script_errors(
    report_file: Path, tmp_path: Path
) -> None:
    binary = chromium()
    proc = run_chromium(
        binary,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        report_file.as_uri(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    for label in ("equity curve", "drawdown", "net P&amp;L per signal", "win rates per signal"):
        assert f'aria-label="{label}"' in dom
    trade_charts = len(re.findall(r'aria-label="index chart of trade', dom))
    assert trade_charts > 200
    assert dom.count("<svg") >= trade_charts + 4
    console_errors = [
        line
        for line in proc.stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line
    ]
    assert console_errors == []
