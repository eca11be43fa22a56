"""A self-contained HTML report of one backtest document, with inline SVG charts.

No script, no external URL, no font or image download: the file opens offline. Charts: equity
curve, drawdown, per-signal P&L and win rates, and one index chart per trade (the trade's week or
weeks, with zones, stop, strikes, entry and exit marked).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from libs.strategy.bars import IST, Bar, week_start

GREEN = "#1a7f37"
RED = "#cf222e"
BLUE = "#0969da"
ORANGE = "#bc4c00"
GREY = "#6e7781"
INK = "#1f2328"

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: #1f2328; background: #f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #57606a; font-size: 12px; }
.banner { margin: 14px 0; padding: 10px 14px; border: 1px solid #d4a72c; background: #fff8c5;
  border-radius: 6px; }
.banner strong { color: #7d4e00; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; }
.card .k { color: #57606a; font-size: 12px; }
.card .v { font-size: 19px; font-weight: 600; }
.pos { color: #1a7f37; } .neg { color: #cf222e; }
.m { display: inline-block; font-size: 10px; font-weight: 600; color: #7d4e00;
  background: #fff8c5; border: 1px solid #d4a72c; border-radius: 3px; padding: 0 3px;
  vertical-align: middle; margin-left: 4px; }
.panel { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px;
  margin-bottom: 12px; }
.panel h3 { font-size: 14px; margin: 0 0 6px; }
.row2 { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
svg { display: block; width: 100%; height: auto; }
svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #57606a; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 12.5px; }
th, td { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: right;
  white-space: nowrap; }
th { background: #f6f8fa; position: sticky; top: 0; font-weight: 600; }
td.l, th.l { text-align: left; }
.tablewrap { max-height: 520px; overflow: auto; border: 1px solid #d0d7de; border-radius: 6px; }
.trades { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 12px; }
.trade { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; }
.trade h3 { font-size: 13px; margin: 0; display: flex; justify-content: space-between; }
.trade .facts { color: #57606a; font-size: 12px; margin: 2px 0 4px; }
.tag { font-size: 11px; padding: 0 5px; border-radius: 8px; border: 1px solid; }
.tag.STOP { color: #cf222e; border-color: #cf222e; }
.tag.EXPIRY { color: #1a7f37; border-color: #1a7f37; }
.tag.other { color: #0969da; border-color: #0969da; }
.legend { font-size: 11.5px; color: #57606a; }
.legend span { margin-right: 12px; }
.sw { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
a { color: #0969da; text-decoration: none; }
@media (max-width: 800px) { .row2 { grid-template-columns: 1fr; } }
"""


# --- formatting -------------------------------------------------------------------------------


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def inr(value: Any, decimals: int = 2) -> str:
    """Rupees with Indian digit grouping: ``-1,70,799.40``."""
    v = _d(value)
    sign = "-" if v < 0 else ""
    q = f"{abs(v):.{decimals}f}"
    whole, _, frac = q.partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        whole = ",".join([*groups, tail])
    return f"{sign}₹{whole}" + (f".{frac}" if frac else "")


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _sign_class(value: Any) -> str:
    v = _d(value)
    return "pos" if v > 0 else "neg" if v < 0 else ""


def _ist(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(IST)


def _ist_text(iso: str) -> str:
    return _ist(iso).strftime("%Y-%m-%d %H:%M")


def _f(x: float) -> str:
    """An SVG coordinate."""
    return f"{x:.1f}"


def _model_tag(flag: bool) -> str:
    return '<span class="m" title="computed from model prices">MODEL</span>' if flag else ""


# --- chart primitives -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Linear map from a data interval to a pixel interval."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.p0 + self.p1) / 2
        return self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _short_money(v: float) -> str:
    a = abs(v)
    if a >= 1e7:
        return f"{v / 1e7:.1f}Cr"
    if a >= 1e5:
        return f"{v / 1e5:.1f}L"
    if a >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )


def _y_axis(
    ticks: Iterable[float], y: Scale, x0: float, x1: float, fmt: Any = _short_money
) -> list[str]:
    out = []
    for t in ticks:
        py = y(t)
        out.append(
            f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(py)}" y2="{_f(py)}" '
            f'stroke="#eaeef2" stroke-width="1"/>'
            f'<text x="{_f(x0 - 4)}" y="{_f(py + 3.5)}" text-anchor="end">{escape(fmt(t))}</text>'
        )
    return out


def _year_ticks(days: Sequence[date], x: Scale, y_text: float, y0: float, y1: float) -> list[str]:
    out = []
    seen: set[int] = set()
    last = -1e9
    for i, d in enumerate(days):
        if d.year in seen:
            continue
        seen.add(d.year)
        px = x(i)
        if px - last < 36:
            continue
        last = px
        out.append(
            f'<line x1="{_f(px)}" x2="{_f(px)}" y1="{_f(y0)}" y2="{_f(y1)}" stroke="#eaeef2"/>'
            f'<text x="{_f(px + 3)}" y="{_f(y_text)}">{d.year}</text>'
        )
    return out


def equity_chart(curve: Sequence[Mapping[str, Any]], initial: Decimal, model: bool) -> str:
    """Daily equity (marked to market at 15:30) with the starting capital as a reference."""
    w, h, left, right, top, bottom = 1100, 300, 64, 12, 12, 24
    if not curve:
        return "<p>No equity data.</p>"
    days = [date.fromisoformat(p["date"]) for p in curve]
    vals = [float(p["equity"]) for p in curve]
    lo, hi = min([*vals, float(initial)]), max([*vals, float(initial)])
    pad = (hi - lo) * 0.05 or 1.0
    x = Scale(0, max(len(vals) - 1, 1), left, w - right)
    y = Scale(lo - pad, hi + pad, h - bottom, top)
    pts = " ".join(f"{_f(x(i))},{_f(y(v))}" for i, v in enumerate(vals))
    area = f"{_f(x(0))},{_f(y(lo - pad))} {pts} {_f(x(len(vals) - 1))},{_f(y(lo - pad))}"
    parts = [_svg_open(w, h, "equity curve")]
    parts += _y_axis(nice_ticks(lo - pad, hi + pad), y, left, w - right)
    parts += _year_ticks(days, x, h - 8, top, h - bottom)
    parts.append(
        f'<line x1="{left}" x2="{w - right}" y1="{_f(y(float(initial)))}" '
        f'y2="{_f(y(float(initial)))}" stroke="{GREY}" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<polygon points="{area}" fill="{BLUE}" fill-opacity="0.08"/>')
    parts.append(
        f'<polyline class="equity" points="{pts}" fill="none" stroke="{BLUE}" stroke-width="1.6"/>'
    )
    if model:
        parts.append(
            f'<text x="{w - right - 4}" y="{top + 12}" text-anchor="end" '
            f'style="fill:#7d4e00">model prices</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def drawdown_chart(curve: Sequence[Mapping[str, Any]], model: bool) -> str:
    """Drawdown from the running equity peak, in rupees (filled below zero)."""
    w, h, left, right, top, bottom = 1100, 170, 64, 12, 10, 24
    if not curve:
        return "<p>No equity data.</p>"
    days = [date.fromisoformat(p["date"]) for p in curve]
    vals = [-float(p["drawdown"]) for p in curve]
    lo = min([*vals, -1.0])
    x = Scale(0, max(len(vals) - 1, 1), left, w - right)
    y = Scale(lo * 1.08, 0, h - bottom, top)
    pts = " ".join(f"{_f(x(i))},{_f(y(v))}" for i, v in enumerate(vals))
    area = f"{_f(x(0))},{_f(y(0))} {pts} {_f(x(len(vals) - 1))},{_f(y(0))}"
    parts = [_svg_open(w, h, "drawdown")]
    parts += _y_axis(nice_ticks(lo * 1.08, 0, 4), y, left, w - right)
    parts += _year_ticks(days, x, h - 8, top, h - bottom)
    parts.append(
        f'<polygon class="drawdown" points="{area}" fill="{RED}" fill-opacity="0.25" '
        f'stroke="{RED}" stroke-width="1"/>'
    )
    if model:
        parts.append(
            f'<text x="{w - right - 4}" y="{h - bottom - 6}" text-anchor="end" '
            f'style="fill:#7d4e00">model prices</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def signal_pnl_chart(per_signal: Mapping[str, Mapping[str, Any]]) -> str:
    """Net P&L per signal as bars above or below zero, with the trade count."""
    w, h, left, right, top, bottom = 540, 240, 58, 10, 14, 36
    names = list(per_signal)
    vals = [float(per_signal[n]["total_pnl"]) for n in names]
    lo, hi = min([*vals, 0.0]), max([*vals, 0.0])
    pad = (hi - lo) * 0.08 or 1.0
    y = Scale(lo - pad, hi + pad, h - bottom, top)
    band = (w - left - right) / max(len(names), 1)
    parts = [_svg_open(w, h, "net P&L per signal")]
    parts += _y_axis(nice_ticks(lo - pad, hi + pad, 4), y, left, w - right)
    zero = y(0)
    parts.append(
        f'<line x1="{left}" x2="{w - right}" y1="{_f(zero)}" y2="{_f(zero)}" stroke="{GREY}"/>'
    )
    for i, (n, v) in enumerate(zip(names, vals, strict=True)):
        x0 = left + i * band + band * 0.2
        top_y, bot_y = (y(v), zero) if v >= 0 else (zero, y(v))
        colour = GREEN if v >= 0 else RED
        parts.append(
            f'<rect class="bar" x="{_f(x0)}" y="{_f(top_y)}" width="{_f(band * 0.6)}" '
            f'height="{_f(max(bot_y - top_y, 0.5))}" fill="{colour}" fill-opacity="0.8">'
            f"<title>{escape(n)}: {escape(inr(per_signal[n]['total_pnl']))}</title></rect>"
        )
        cx = left + i * band + band / 2
        parts.append(
            f'<text x="{_f(cx)}" y="{h - 20}" text-anchor="middle" '
            f'style="fill:{INK};font-weight:600">{escape(n)}</text>'
            f'<text x="{_f(cx)}" y="{h - 6}" text-anchor="middle">'
            f"{per_signal[n]['trades']} tr</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def signal_winrate_chart(per_signal: Mapping[str, Mapping[str, Any]]) -> str:
    """Index win rate and P&L win rate per signal, side by side."""
    w, h, left, right, top, bottom = 540, 240, 40, 10, 14, 36
    names = list(per_signal)
    y = Scale(0, 1, h - bottom, top)
    band = (w - left - right) / max(len(names), 1)
    parts = [_svg_open(w, h, "win rates per signal")]
    parts += _y_axis([0, 0.25, 0.5, 0.75, 1.0], y, left, w - right, lambda t: f"{t * 100:.0f}%")
    for i, n in enumerate(names):
        for j, (key, colour) in enumerate((("index_win_rate", BLUE), ("pnl_win_rate", ORANGE))):
            rate = per_signal[n][key]
            if rate is None:
                continue
            x0 = left + i * band + band * 0.15 + j * band * 0.35
            parts.append(
                f'<rect class="bar" x="{_f(x0)}" y="{_f(y(rate))}" width="{_f(band * 0.33)}" '
                f'height="{_f(max(y(0) - y(rate), 0.5))}" fill="{colour}" fill-opacity="0.8">'
                f"<title>{escape(n)} {key.replace('_', ' ')}: {_pct(rate)}</title></rect>"
            )
        cx = left + i * band + band / 2
        parts.append(
            f'<text x="{_f(cx)}" y="{h - 20}" text-anchor="middle" '
            f'style="fill:{INK};font-weight:600">{escape(n)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _trade_bars(trade: Mapping[str, Any], bars_by_week: Mapping[date, Sequence[Bar]]) -> list[Bar]:
    first = date.fromisoformat(trade["week_start"])
    last = week_start(_ist(trade["exit_time"]).date())
    out: list[Bar] = []
    wk = first
    while wk <= last:
        out.extend(bars_by_week.get(wk, ()))
        wk += timedelta(days=7)
    return out


def _time_x(t: datetime, bars: Sequence[Bar], x_of: Scale, slot: float) -> float:
    """x of a time on a bar-index axis: the matching bar's span, else the nearest edge."""
    for i, b in enumerate(bars):
        if b.start <= t <= b.close_time:
            span = (b.close_time - b.start).total_seconds() or 1.0
            frac = (t - b.start).total_seconds() / span
            return x_of(i) - slot / 2 + frac * slot
    if bars and t > bars[-1].close_time:
        return x_of(len(bars) - 1) + slot / 2
    return x_of(0) - slot / 2


def trade_chart(trade: Mapping[str, Any], bars: Sequence[Bar]) -> str:
    """Hourly candles of the trade's week(s) with zones, stop, strikes, entry and exit."""
    w, h, left, right, top, bottom = 540, 230, 52, 8, 8, 22
    if not bars:
        return '<p class="legend">No bars for this week in the data.</p>'
    stop, main_k = float(trade["stop_level"]), float(trade["main_strike"])
    entry_level, exit_level = float(trade["entry_level"]), float(trade["exit_level"])
    levels = [float(b.low) for b in bars] + [float(b.high) for b in bars]
    lo = min([*levels, stop, main_k, entry_level, exit_level])
    hi = max([*levels, stop, main_k, entry_level, exit_level])
    pad = (hi - lo) * 0.06 or 10.0
    lo, hi = lo - pad, hi + pad
    y = Scale(lo, hi, h - bottom, top)
    slot = (w - left - right) / len(bars)
    x_of = Scale(0, max(len(bars) - 1, 1), left + slot / 2, w - right - slot / 2)
    if len(bars) == 1:
        x_of = Scale(0, 1, left + slot / 2, left + slot / 2)
    parts = [_svg_open(w, h, f"index chart of trade {trade['signal']} {trade['entry_time']}")]
    parts += _y_axis(nice_ticks(lo, hi, 4), y, left, w - right, lambda t: f"{t:.0f}")
    zones = trade["zones"]
    for name, a, b, colour in (
        ("upper zone", zones["uzb"], zones["uzt"], RED),
        ("lower zone", zones["lzb"], zones["lzt"], GREEN),
    ):
        z0, z1 = sorted((float(a), float(b)))
        if z1 < lo or z0 > hi:
            continue
        y_top, y_bot = y(min(z1, hi)), y(max(z0, lo))
        parts.append(
            f'<rect x="{left}" y="{_f(y_top)}" width="{w - left - right}" '
            f'height="{_f(max(y_bot - y_top, 1.5))}" fill="{colour}" fill-opacity="0.10">'
            f"<title>{name} {z0:.2f}–{z1:.2f}</title></rect>"
        )
    # day separators and labels
    prev_day: date | None = None
    last_label = -1e9
    for i, b in enumerate(bars):
        if b.day != prev_day:
            px = x_of(i) - slot / 2
            parts.append(
                f'<line x1="{_f(px)}" x2="{_f(px)}" y1="{top}" y2="{h - bottom}" stroke="#eaeef2"/>'
            )
            if px - last_label >= 40:
                parts.append(f'<text x="{_f(px + 2)}" y="{h - 8}">{b.day.strftime("%a %d")}</text>')
                last_label = px
            prev_day = b.day
    wicks: list[str] = []
    up: list[str] = []
    down: list[str] = []
    body_w = max(slot * 0.6, 1.0)
    for i, b in enumerate(bars):
        cx = x_of(i)
        wicks.append(f"M{_f(cx)} {_f(y(float(b.high)))}V{_f(y(float(b.low)))}")
        o, c = y(float(b.open)), y(float(b.close))
        y0, hgt = min(o, c), max(abs(o - c), 0.8)
        rect = f"M{_f(cx - body_w / 2)} {_f(y0)}h{_f(body_w)}v{_f(hgt)}h{_f(-body_w)}Z"
        (up if b.close >= b.open else down).append(rect)
    parts.append(f'<path d="{"".join(wicks)}" stroke="{GREY}" stroke-width="1" fill="none"/>')
    parts.append(f'<path class="candles" d="{"".join(up)}" fill="{GREEN}"/>')
    parts.append(f'<path class="candles" d="{"".join(down)}" fill="{RED}"/>')

    def hline(level: float, colour: str, dash: str, label: str, at_right: bool) -> None:
        if not lo <= level <= hi:
            return
        py = y(level)
        tx, anchor = (w - right - 3, "end") if at_right else (left + 3, "start")
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{_f(py)}" y2="{_f(py)}" stroke="{colour}" '
            f'stroke-width="1.2" stroke-dasharray="{dash}"/><text x="{tx}" y="{_f(py - 3)}" '
            f'text-anchor="{anchor}" style="fill:{colour}">{escape(label)}</text>'
        )

    hline(stop, RED, "5 3", f"stop {stop:.2f}", at_right=False)
    hline(main_k, ORANGE, "2 3", f"sold {trade['main_strike']} {trade['option_type']}", True)
    if trade.get("hedge_strike") is not None:
        hline(float(trade["hedge_strike"]), GREY, "2 3", f"hedge {trade['hedge_strike']}", True)
    ex = _time_x(_ist(trade["entry_time"]), bars, x_of, slot)
    ey = y(entry_level)
    parts.append(
        f'<path class="entry" d="M{_f(ex)} {_f(ey)}l-6 -11h12Z" fill="{BLUE}">'
        f"<title>entry {_ist_text(trade['entry_time'])} at {entry_level:.2f}</title></path>"
    )
    xx = _time_x(_ist(trade["exit_time"]), bars, x_of, slot)
    xy = y(exit_level)
    colour = RED if trade["exit_reason"] == "STOP" else GREEN
    parts.append(
        f'<path class="exit" d="M{_f(xx - 5)} {_f(xy - 5)}l10 10M{_f(xx + 5)} {_f(xy - 5)}'
        f'l-10 10" stroke="{colour}" stroke-width="2.4"><title>exit {trade["exit_reason"]} '
        f"{_ist_text(trade['exit_time'])} at {exit_level:.2f}</title></path>"
    )
    parts.append("</svg>")
    return "".join(parts)


# --- sections ---------------------------------------------------------------------------------


def _cards(summary: Mapping[str, Any], model: bool) -> str:
    m = _model_tag(model)
    items = [
        ("Trades", str(summary["trades"]), ""),
        ("Net P&L" + m, inr(summary["total_pnl"]), _sign_class(summary["total_pnl"])),
        ("Return" + m, f"{summary['return_pct']:.2f}%", _sign_class(summary["return_pct"])),
        ("Index win rate", _pct(summary["index_win_rate"]), ""),
        ("P&L win rate" + m, _pct(summary["pnl_win_rate"]), ""),
        (
            "Max drawdown" + m,
            f"{inr(summary['max_drawdown'], 0)} ({summary['max_drawdown_pct']:.2f}%)",
            "neg",
        ),
        ("Sharpe" + m, _num(summary["sharpe"]), ""),
        ("Sortino" + m, _num(summary["sortino"]), ""),
        (
            "Expectancy" + m,
            inr(summary["expectancy"]) if summary["expectancy"] is not None else "–",
            "",
        ),
        ("Profit factor" + m, _num(summary["profit_factor"]), ""),
        ("Charges" + m, inr(summary["charges"]), ""),
        ("Slippage" + m, inr(summary["slippage"]), ""),
    ]
    cells = "".join(
        f'<div class="card"><div class="k">{k}</div><div class="v {cls}">{escape(v)}</div></div>'
        for k, v, cls in items
    )
    return f'<div class="cards">{cells}</div>'


def _config_section(config: Mapping[str, Any]) -> str:
    dev = config.get("deviations", {})
    if not dev:
        return "<p>All options at the specification defaults.</p>"
    rows = "".join(
        f'<tr><td class="l">{escape(k)}</td><td class="l">{escape(_show(v["value"]))}</td>'
        f'<td class="l">{escape(_show(v["default"]))}</td></tr>'
        for k, v in dev.items()
    )
    return (
        '<table><thead><tr><th class="l">Option (deviating from default)</th>'
        f'<th class="l">Value</th><th class="l">Default</th></tr></thead><tbody>{rows}</tbody>'
        "</table>"
    )


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _per_signal_table(per_signal: Mapping[str, Mapping[str, Any]], model: bool) -> str:
    m = _model_tag(model)
    head = (
        '<tr><th class="l">Signal</th><th>Trades</th><th>Index win</th><th>P&amp;L win</th>'
        f"<th>Total P&amp;L{m}</th><th>Average P&amp;L{m}</th><th>Profit factor{m}</th>"
        f"<th>Charges{m}</th></tr>"
    )
    rows = []
    for name, s in per_signal.items():
        avg = inr(s["average_pnl"]) if s["average_pnl"] is not None else "–"
        rows.append(
            f'<tr><td class="l">{escape(name)}</td><td>{s["trades"]}</td>'
            f"<td>{_pct(s['index_win_rate'])}</td><td>{_pct(s['pnl_win_rate'])}</td>"
            f'<td class="{_sign_class(s["total_pnl"])}">{escape(inr(s["total_pnl"]))}</td>'
            f"<td>{escape(avg)}</td><td>{_num(s['profit_factor'])}</td>"
            f"<td>{escape(inr(s['charges']))}</td></tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _trade_table(trades: Sequence[Mapping[str, Any]], model: bool) -> str:
    m = _model_tag(model)
    head = (
        '<tr><th>#</th><th class="l">Signal</th><th class="l">Dir</th>'
        '<th class="l">Entry (IST)</th>'
        '<th>Index</th><th>Stop</th><th class="l">Legs</th><th class="l">Exit (IST)</th>'
        f'<th class="l">Reason</th><th>Index</th><th>Charges{m}</th><th>Net P&amp;L{m}</th></tr>'
    )
    rows = []
    for i, t in enumerate(trades, 1):
        legs = f"S {t['main_strike']}{t['option_type']}"
        if t.get("hedge_strike") is not None:
            legs += f" / B {t['hedge_strike']}{t['option_type']}"
        rows.append(
            f'<tr><td><a href="#trade-{i}">{i}</a></td><td class="l">{t["signal"]}</td>'
            f'<td class="l">{t["direction"][:4].title()}</td>'
            f'<td class="l">{_ist_text(t["entry_time"])}</td><td>{t["entry_level"]}</td>'
            f'<td>{t["stop_level"]}</td><td class="l">{escape(legs)}</td>'
            f'<td class="l">{_ist_text(t["exit_time"])}</td>'
            f'<td class="l">{escape(t["exit_reason"])}</td><td>{t["exit_level"]}</td>'
            f"<td>{escape(inr(t['total_charges']))}</td>"
            f'<td class="{_sign_class(t["net_pnl"])}">{escape(inr(t["net_pnl"]))}</td></tr>'
        )
    return (
        f'<div class="tablewrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def _trade_card(i: int, trade: Mapping[str, Any], bars: Sequence[Bar]) -> str:
    reason = trade["exit_reason"]
    tag_cls = reason if reason in ("STOP", "EXPIRY") else "other"
    facts = (
        f"week {trade['week_start']} · bias {trade['bias']} · entry "
        f"{_ist_text(trade['entry_time'])} at {trade['entry_level']} · stop "
        f"{trade['stop_level']} · expiry {trade['expiry']} · {trade['lots']} lot × "
        f"{trade['lot_size']} · exit {_ist_text(trade['exit_time'])} at {trade['exit_level']}"
    )
    return (
        f'<div class="trade" id="trade-{i}"><h3><span>#{i} {trade["signal"]} '
        f"{trade['direction'].lower()} · sell {trade['main_strike']} {trade['option_type']}"
        f' <span class="tag {tag_cls}">{escape(reason)}</span></span>'
        f'<span class="{_sign_class(trade["net_pnl"])}">{escape(inr(trade["net_pnl"]))}'
        f"{_model_tag(bool(trade.get('uses_model_prices')))}</span></h3>"
        f'<div class="facts">{escape(facts)}</div>{trade_chart(trade, bars)}</div>'
    )


def _legend() -> str:
    return (
        '<p class="legend">'
        f'<span><i class="sw" style="background:{BLUE}"></i>▼ entry (signal bar close)</span>'
        f'<span><i class="sw" style="background:{RED}"></i>✕ exit by stop</span>'
        f'<span><i class="sw" style="background:{GREEN}"></i>✕ other exit</span>'
        f'<span><i class="sw" style="background:{RED}"></i>dashed: stop level</span>'
        f'<span><i class="sw" style="background:{ORANGE}"></i>dotted: sold strike</span>'
        f'<span><i class="sw" style="background:{GREY}"></i>dotted: hedge strike</span>'
        "<span>shaded: previous-week upper (red) and lower (green) zones</span></p>"
    )


def render_report(document: Mapping[str, Any], bars_by_week: Mapping[date, Sequence[Bar]]) -> str:
    """The HTML report of a `run_request` document; ``bars_by_week`` maps a week's Monday to
    its hourly bars (the trades' weeks at least)."""
    summary = document["summary"]
    flag = document.get("model_price_flag", {})
    model = bool(flag.get("uses_model_prices"))
    per_signal = document["per_signal"]
    trades = document["trades"]
    run = document.get("run", {})
    title = f"strikeflow backtest {summary['from_date']} – {summary['to_date']}"
    banner = ""
    if model:
        banner = (
            f'<div class="banner"><strong>{escape(str(flag.get("banner")))}</strong><br>'
            f"{escape(str(flag.get('note') or ''))} Legs by price source: "
            f"{escape(_show(flag.get('legs_by_source', {})))}. Figures marked "
            f"{_model_tag(True)} use model prices.</div>"
        )
    reasons = ", ".join(f"{k} {v}" for k, v in summary.get("exit_reasons", {}).items())
    cards = _cards(summary, model)
    skipped = summary.get("skipped_weeks", 0)
    rejected = summary.get("rejected_signals", 0)
    trade_cards = "".join(
        _trade_card(i, t, _trade_bars(t, bars_by_week)) for i, t in enumerate(trades, 1)
    )
    data = ", ".join(f"{k} {v[:19]}…" for k, v in run.get("data", {}).items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><main>
<h1>{escape(title)}</h1>
<div class="meta">run {escape(str(run.get("run_id", "–")))} · created
{escape(str(run.get("created_at", "–")))} · data {escape(str(run.get("source", "–")))}
({escape(data)}) · times shown in IST</div>
{banner}
<h2>Summary</h2>
{cards}
<p class="meta">Exit reasons: {escape(reasons or "–")} · average holding
{escape(_num(summary.get("average_holding_hours"), 1))} h · skipped weeks {skipped} · rejected
signals {rejected} · charges by type: {escape(_show(summary.get("charges_by_type", {})))}</p>
<h2>Configuration</h2>
{_config_section(document.get("config", {}))}
<h2>Equity and drawdown</h2>
<div class="panel"><h3>Daily equity at 15:30, open trades marked to market{_model_tag(model)}</h3>
{equity_chart(document["equity_curve"], Decimal(str(summary["initial_capital"])), model)}</div>
<div class="panel"><h3>Drawdown from the running peak{_model_tag(model)}</h3>
{drawdown_chart(document["equity_curve"], model)}</div>
<h2>Per signal</h2>
<div class="row2">
<div class="panel"><h3>Net P&amp;L by signal{_model_tag(model)}</h3>
{signal_pnl_chart(per_signal)}</div>
<div class="panel"><h3>Win rates: <span style="color:{BLUE}">index win</span> and
<span style="color:{ORANGE}">P&amp;L win</span>{_model_tag(model)}</h3>
{signal_winrate_chart(per_signal)}</div>
</div>
{_per_signal_table(per_signal, model)}
<h2>Trades ({len(trades)})</h2>
{_trade_table(trades, model)}
<h2>Trade charts</h2>
{_legend()}
<div class="trades">{trade_cards}</div>
</main></body></html>
"""
