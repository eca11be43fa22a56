"""The HTML report: self-contained, well formed, with the charts a trader needs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser

import pytest

from libs.backtest.report import inr, nice_ticks, render_report
from libs.backtest.runner import BacktestRequest, BacktestSession
from tests.unit.backtest.synthetic import SyntheticSource

VOID = {"meta", "br", "hr", "img", "input", "link"}
SVG_NS = "{http://www.w3.org/2000/svg}"


class TagBalance(HTMLParser):
    """Checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.errors.append(f"external reference {name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


@pytest.fixture(scope="module")
def html() -> str:
    session = BacktestSession(SyntheticSource())
    req = BacktestRequest(from_date=date(2024, 1, 15), to_date=date(2024, 4, 30))
    document = session.document(req)
    return render_report(document, session.bars_by_week(req))


def test_render_report_when_document_given_is_balanced_html_without_external_refs(
    html: str,
) -> None:
    assert html.startswith("<!DOCTYPE html>")
    parser = TagBalance()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert "script" not in parser.tags
    assert "link" not in parser.tags
    assert not re.search(r"url\(|@import|https://", html)


def test_render_report_when_document_given_contains_wellformed_svg_charts(html: str) -> None:
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    roots = [ET.fromstring(s) for s in svgs]  # noqa: S314 - our own output
    labels = [r.get("aria-label", "") for r in roots]
    for wanted in ("equity curve", "drawdown", "net P&L per signal", "win rates per signal"):
        assert wanted in labels
    trade_charts = [r for r in roots if r.get("aria-label", "").startswith("index chart")]
    assert len(trade_charts) == html.count('class="trade" id="trade-')
    assert trade_charts
    for chart in trade_charts:
        classes = {el.get("class") for el in chart.iter()}
        assert {"candles", "entry", "exit"} <= classes


def test_render_report_when_model_prices_used_shows_banner_and_tags(html: str) -> None:
    assert "Model prices (Black–Scholes on India VIX), not market data" in html
    assert html.count('class="m"') > 10


def test_inr_when_large_amount_uses_indian_grouping() -> None:
    assert inr("170799.4") == "₹1,70,799.40"
    assert inr("-12345678.9") == "-₹1,23,45,678.90"
    assert inr("999") == "₹999.00"


def test_nice_ticks_when_range_given_are_round_and_cover_it() -> None:
    assert nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(10612, 10988, 4) == [10700, 10800, 10900]
