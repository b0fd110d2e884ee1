"""Inline-SVG charts for the HTML report: scales, ticks, scatter, stacked bars, lines.

Each chart is a string of SVG markup meant to be inlined in HTML5 (no XML
namespace needed). Styling is by CSS class (see ``report.css``); every text
that comes from data is escaped here; tooltips are ``data-tip`` attributes
plus a ``<title>`` for browsers without the report's script.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .htmlfmt import esc, truncate

CHAR_W = 6.4  # estimated width of one character of 11px sans-serif text


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Scale:
    """Maps a data domain onto a pixel range, linearly or in log10."""

    d0: float
    d1: float
    r0: float
    r1: float
    log: bool = False

    def _t(self, v: float) -> float:
        return math.log10(v) if self.log else v

    def __call__(self, v: float) -> float:
        a, b = self._t(self.d0), self._t(self.d1)
        if b == a:
            return (self.r0 + self.r1) / 2
        return self.r0 + (self._t(v) - a) / (b - a) * (self.r1 - self.r0)

    def ticks(self, count: int = 5) -> list[float]:
        return log_ticks(self.d0, self.d1) if self.log else linear_ticks(self.d0, self.d1, count)


def nice_step(span: float, count: int) -> float:
    raw = span / max(1, count)
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def linear_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    step = nice_step(hi - lo, count)
    start = math.ceil(lo / step - 1e-9) * step
    out, v = [], start
    while v <= hi + step * 1e-9 and len(out) < 50:
        out.append(round(v, 10))
        v += step
    return out


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks inside ``[lo, hi]``; denser when the range is narrow."""
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5, 7), tuple(range(1, 10))):
        ticks = [
            m * 10.0**k
            for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            for m in mantissas
            if lo <= m * 10.0**k <= hi
        ]
        if len(ticks) >= 4:
            break
    if len(ticks) > 9:  # a very wide range: decades only
        ticks = [t for t in ticks if math.isclose(10 ** round(math.log10(t)), t)]
    return ticks or [lo, hi]


DURATIONS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def duration_ticks(lo: float, hi: float) -> list[float]:
    """Round durations (seconds) inside ``[lo, hi]``: 30s, 1m, 5m, 10m, 1h...; decade-like steps on a wide range."""
    ticks = [float(d) for d in DURATIONS if lo <= d <= hi]
    if len(ticks) > 6:
        coarse = [float(d) for d in (1, 10, 60, 600, 3600, 36000) if lo <= d <= hi]
        ticks = coarse if len(coarse) >= 3 else ticks[::2]
    return ticks or log_ticks(lo, hi)


def log_domain(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi / lo < 1.5:
        mid = math.sqrt(lo * hi)
        return mid / 1.6, mid * 1.6
    return lo / 1.35, hi * 1.35


def pct_domain(values: Sequence[float]) -> tuple[float, float]:
    """A 0..100 domain around ``values``, on multiples of 10, at least 20 wide."""
    lo = max(0.0, math.floor((min(values) - 4) / 10) * 10)
    hi = min(100.0, math.ceil((max(values) + 4) / 10) * 10)
    while hi - lo < 20:
        lo, hi = max(0.0, lo - 10), min(100.0, hi + 10)
    return lo, hi


@dataclass(slots=True)
class Point:
    x: float
    y: float  # percent, 0..100
    tip: str  # full tooltip text
    label: str = ""  # short label drawn next to frontier points
    frontier: bool = False
    key: str = ""


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_labels(points: list[tuple[float, float, str]], box: tuple[float, float, float, float]) -> list[str]:
    """Greedy label placement: right, left, above, below; skip a label that fits nowhere."""
    placed: list[tuple[float, float, float, float]] = []
    dots = [(px - 5, py - 5, px + 5, py + 5) for px, py, _ in points]
    out = []
    for px, py, text in points:
        w = len(text) * CHAR_W
        for dx, dy, anchor in ((9, 4, "start"), (-9, 4, "end"), (0, -10, "middle"), (0, 17, "middle")):
            x0 = px + dx if anchor == "start" else px + dx - w if anchor == "end" else px - w / 2
            rect = (x0, py + dy - 10, x0 + w, py + dy + 2)
            inside = rect[0] >= box[0] and rect[2] <= box[2] and rect[1] >= box[1] and rect[3] <= box[3]
            if inside and not any(_overlaps(rect, r) for r in placed + dots):
                placed.append(rect)
                out.append(
                    f'<text class="pt-label" x="{_f(px + dx)}" y="{_f(py + dy)}" '
                    f'text-anchor="{anchor}">{esc(text)}</text>'
                )
                break
    return out


def scatter(
    points: Sequence[Point],
    *,
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str],
    width: int = 560,
    height: int = 340,
    x_log: bool = True,
    x_ticks: Callable[[float, float], list[float]] | None = None,
    labels: bool = True,
    css_class: str = "chart scatter",
) -> str:
    """Success (y, %) against a cost-like x; frontier points joined, dominated points dimmed."""
    pts = [p for p in points if p.x > 0 or not x_log]
    if not pts:
        return '<p class="empty">Nothing to plot.</p>'
    ml, mr, mt, mb = 52, 16, 14, 42
    x0, x1, y0, y1 = ml, width - mr, mt, height - mb
    if x_log:
        dlo, dhi = log_domain([p.x for p in pts])
    else:
        dlo, dhi = 0.0, max(p.x for p in pts) * 1.1 or 1.0
    xs = Scale(dlo, dhi, x0, x1, log=x_log)
    ylo, yhi = pct_domain([p.y for p in pts])
    ys = Scale(ylo, yhi, y1, y0)
    o = [
        f'<svg class="{esc(css_class)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(y_label)} against {esc(x_label)}">',
        f'<rect class="plot-bg" x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/>',
    ]
    for t in ys.ticks(5):
        y = _f(ys(t))
        o.append(f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y}" y2="{y}"/>')
        o.append(f'<text class="tick" x="{x0 - 6}" y="{y}" dy="0.32em" text-anchor="end">{t:g}%</text>')
    right = -1e9  # right edge of the last tick label drawn: the next must clear it
    for t in x_ticks(dlo, dhi) if x_ticks else xs.ticks(5):
        x, text = xs(t), x_fmt(t)
        o.append(f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{y0}" y2="{y1}"/>')
        half = len(text) * CHAR_W * 0.85 / 2
        if x - half > right + 6:
            o.append(f'<text class="tick" x="{_f(x)}" y="{y1 + 15}" text-anchor="middle">{esc(text)}</text>')
            right = x + half
    o.append(f'<text class="axis-label" x="{(x0 + x1) / 2:.0f}" y="{height - 6}" text-anchor="middle">{esc(x_label)}</text>')
    o.append(
        f'<text class="axis-label" transform="translate(13 {(y0 + y1) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    front = sorted((p for p in pts if p.frontier), key=lambda p: (p.x, p.y))
    if len(front) > 1:
        coords = " ".join(f"{_f(xs(p.x))},{_f(ys(p.y))}" for p in front)
        o.append(f'<polyline class="frontier-line" points="{coords}"/>')
    for p in sorted(pts, key=lambda p: p.frontier):  # frontier drawn last, on top
        cls = "pt frontier" if p.frontier else "pt dominated"
        r = 6 if p.frontier else 4.5
        o.append(
            f'<circle class="{cls}" cx="{_f(xs(p.x))}" cy="{_f(ys(p.y))}" r="{r}" '
            f'data-key="{esc(p.key)}" data-tip="{esc(p.tip)}" tabindex="0">'
            f"<title>{esc(p.tip)}</title></circle>"
        )
    if labels:
        o += _place_labels(
            [(xs(p.x), ys(p.y), truncate(p.label, 30)) for p in front if p.label], (x0 + 2, y0 + 2, x1 - 2, y1 - 2)
        )
    o.append("</svg>")
    return "".join(o)


@dataclass(slots=True)
class Bar:
    label: str
    tip: str
    values: dict[str, float] | None  # None: no priced value (``note`` is drawn instead)
    total_text: str
    note: str = "not priced"


def stacked_bars(
    bars: Sequence[Bar],
    series: Sequence[tuple[str, str]],
    *,
    x_fmt: Callable[[float], str],
    value_fmt: Callable[[float], str],
    width: int = 980,
    label_w: int = 340,
    bar_h: int = 14,
    gap: int = 7,
) -> str:
    """Horizontal stacked bars; ``series`` is (key, display name), colored ``.s-<key>``."""
    if not bars:
        return '<p class="empty">No triples.</p>'
    mt, mr, mb = 24, 90, 8
    x0, x1 = label_w + 10, width - mr
    totals = [sum(max(0.0, v) for v in (b.values or {}).values()) for b in bars]
    hi = max(totals) or 1.0
    ticks = linear_ticks(0, hi, 5)
    hi = max(hi, ticks[-1])
    xs = Scale(0, hi, x0, x1)
    height = mt + len(bars) * (bar_h + gap) + mb
    o = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="cost by bucket per triple">']
    for t in ticks:
        x = _f(xs(t))
        o.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{mt - 4}" y2="{height - mb}"/>')
        o.append(f'<text class="tick" x="{x}" y="{mt - 9}" text-anchor="middle">{esc(x_fmt(t))}</text>')
    max_chars = int(label_w / CHAR_W)
    for i, b in enumerate(bars):
        y = mt + i * (bar_h + gap)
        cy = _f(y + bar_h / 2)
        o.append(
            f'<text class="bar-label" x="{label_w}" y="{cy}" dy="0.32em" text-anchor="end">'
            f"<title>{esc(b.tip)}</title>{esc(truncate(b.label, max_chars))}</text>"
        )
        if b.values is None:
            o.append(f'<text class="bar-note" x="{x0 + 4}" y="{cy}" dy="0.32em">{esc(b.note)}</text>')
            continue
        cx = float(x0)
        for key, name in series:
            v = max(0.0, b.values.get(key) or 0.0)
            w = xs(v) - x0
            if v <= 0:
                continue
            tip = f"{b.tip}\n{name}: {value_fmt(v)}"
            o.append(
                f'<rect class="seg s-{esc(key)}" x="{_f(cx)}" y="{y}" width="{max(0.5, w):.2f}" height="{bar_h}" '
                f'data-tip="{esc(tip)}"><title>{esc(tip)}</title></rect>'
            )
            cx += w
        o.append(f'<text class="bar-total" x="{_f(max(cx, x0) + 5)}" y="{cy}" dy="0.32em">{esc(b.total_text)}</text>')
    o.append("</svg>")
    return "".join(o)


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    start_text: str,
    end_text: str,
    y_fmt: Callable[[float], str],
    tip: str = "",
    width: int = 300,
    height: int = 110,
) -> str:
    """A small cumulative-cost line: x in seconds since the first point, y in USD from 0."""
    if len(points) < 1:
        return '<p class="empty">No timeline.</p>'
    ml, mr, mt, mb = 44, 10, 8, 20
    x0, x1, y0, y1 = ml, width - mr, mt, height - mb
    xmax = max(p[0] for p in points) or 1.0
    ymax = max(max(p[1] for p in points), 0.0)
    ticks = linear_ticks(0, ymax or 1.0, 2)
    ytop = max(ymax, ticks[-1]) or 1.0
    xs, ys = Scale(0, xmax, x0, x1), Scale(0, ytop, y1, y0)
    o = [f'<svg class="chart spark" viewBox="0 0 {width} {height}" role="img" aria-label="cumulative cost over time">']
    for t in ticks:
        y = _f(ys(t))
        o.append(f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y}" y2="{y}"/>')
        o.append(f'<text class="tick" x="{x0 - 5}" y="{y}" dy="0.32em" text-anchor="end">{esc(y_fmt(t))}</text>')
    pts = list(points) if len(points) > 1 else [(0.0, points[0][1]), (xmax, points[0][1])]
    coords = " ".join(f"{_f(xs(x))},{_f(ys(y))}" for x, y in pts)
    o.append(f'<polygon class="area" points="{_f(x0)},{_f(y1)} {coords} {_f(xs(pts[-1][0]))},{_f(y1)}"/>')
    o.append(f'<polyline class="line" points="{coords}"/>')
    lx, ly = pts[-1]
    o.append(
        f'<circle class="end" cx="{_f(xs(lx))}" cy="{_f(ys(ly))}" r="3" data-tip="{esc(tip)}"><title>{esc(tip)}</title></circle>'
    )
    o.append(f'<text class="tick" x="{x0}" y="{height - 5}">{esc(start_text)}</text>')
    o.append(f'<text class="tick" x="{x1}" y="{height - 5}" text-anchor="end">{esc(end_text)}</text>')
    o.append("</svg>")
    return "".join(o)
