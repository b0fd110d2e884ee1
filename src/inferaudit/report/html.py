"""The audit as one self-contained, offline HTML page.

``render_html(report)`` takes the audit's JSON-able dict and returns a single
HTML document: inline CSS, charts as inline SVG drawn here, and a small inline
script (hover tooltips, table sorting) allowed by hash in the page's
Content-Security-Policy, which also forbids every network load. Every string
that comes from the data is escaped; any field may be missing or ``None``.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from . import htmlfmt as fmt
from .htmlfmt import (
    BUCKET_NAMES,
    COST_BUCKETS,
    DASH,
    TOKEN_BUCKETS,
    as_dict,
    as_list,
    as_text,
    by_benchmark,
    esc,
    frontier_flags,
    num,
    triple_name,
)
from .sections import issues, sessions, table
from .waste_html import levers
from .svg import Bar, Point, duration_ticks, scatter, stacked_bars

HERE = Path(__file__).parent
MAX_BARS = 40
SECTIONS = (
    ("summary", "Summary"),
    ("levers", "Levers"),
    ("pareto", "Success vs cost"),
    ("buckets", "Cost by bucket"),
    ("triples", "Triples"),
    ("sessions", "Sessions"),
    ("issues", "Data quality"),
)


def _stat(label: str, value: str, note: str = "", cls: str = "") -> str:
    note_html = f'<div class="stat-note">{note}</div>' if note else ""
    return (
        f'<div class="stat {cls}"><div class="stat-label">{esc(label)}</div>'
        f'<div class="stat-value">{value}</div>{note_html}</div>'
    )


def _cost_note(tot: dict, unpriced: float) -> str:
    calls, reported = num(tot.get("cost_from_calls_usd")), num(tot.get("cost_reported_only_usd"))
    parts = []
    if calls is not None and reported:
        parts.append(f"{esc(fmt.usd(calls))} priced from calls, {esc(fmt.usd(reported))} as reported by result sets")
    if unpriced:
        parts.append("unpriced tokens excluded")
    return "; ".join(parts)


def _summary(r: dict) -> str:
    tot = as_dict(r.get("totals"))
    unpriced = num(tot.get("unpriced_tokens")) or 0
    stats = [
        _stat("Total cost", esc(fmt.usd(tot.get("cost_usd"))), _cost_note(tot, unpriced)),
        _stat("Cache hit rate", esc(fmt.pct(tot.get("cache_hit_rate")))),
        _stat("Calls", esc(fmt.integer(tot.get("calls")))),
        _stat("Runs", esc(fmt.integer(tot.get("runs")))),
        _stat("Unpriced tokens", esc(fmt.compact(unpriced)), "not in any cost" if unpriced else "", "warn" if unpriced else ""),
    ]
    counts = {b: max(0.0, num(tot.get(b)) or 0.0) for b in TOKEN_BUCKETS}
    billed = sum(counts[b] for b in COST_BUCKETS)
    mix = "".join(
        f'<span class="mix-seg s-{b}" style="width:{counts[b] / billed * 100:.3f}%" '
        f'data-tip="{esc(BUCKET_NAMES[b])}: {esc(fmt.integer(counts[b]))} tokens"></span>'
        for b in COST_BUCKETS if billed and counts[b]
    )
    cells = "".join(
        f'<div class="tok"><span class="swatch s-{b}"></span><span class="tok-name">{BUCKET_NAMES[b]}</span>'
        f'<span class="tok-val" title="{esc(fmt.integer(counts[b]))}">{esc(fmt.compact(counts[b]))}</span></div>'
        for b in TOKEN_BUCKETS
    )
    tokens = (
        f'<div class="tokens"><div class="tokens-head">Tokens by bucket <span class="muted">'
        f"{esc(fmt.compact(billed))} billed; reasoning is part of output</span></div>"
        f'<div class="mix">{mix}</div><div class="tok-grid">{cells}</div></div>'
    )
    return f'<section id="summary"><div class="stats">{"".join(stats)}</div>{tokens}{_headlines(r)}</section>'


def _headlines(r: dict) -> str:
    items = [h for h in as_list(r.get("headline")) if isinstance(h, dict)]
    if not items:
        return (
            '<div class="headline-none muted">No headline spread: no two triples of one benchmark are '
            "close enough in success to compare their costs.</div>"
        )
    cards = []
    for h in items:
        side = []
        for role in ("cheap", "expensive"):
            s = as_dict(h.get(role))
            side.append(
                f'<div class="hl-side hl-{role}"><div class="hl-role">{role}</div>'
                f'<div class="hl-name">{esc(triple_name(s, benchmark=False))}</div>'
                f'<div class="hl-nums">{esc(fmt.pct(s.get("success_rate")))} success \u00b7 '
                f'{esc(fmt.usd(s.get("cost_per_run")))}/run</div></div>'
            )
        ratio = num(h.get("ratio"))
        within = num(h.get("within_points"))
        bench = h.get("benchmark")
        ratio_text = f"{ratio:.1f}\u00d7" if ratio else DASH
        cards.append(
            f'<div class="headline"><div class="hl-ratio">{ratio_text}</div>'
            f'<div class="hl-body"><div class="hl-title">{esc(bench) if bench else "All benchmarks"}'
            f'<span class="muted"> \u00b7 cost spread within {esc(fmt.number(within, 0))} points of success</span></div>'
            f'<p class="hl-text">{esc(h.get("text"))}</p><div class="hl-sides">{"".join(side)}</div></div></div>'
        )
    return f'<div class="headlines">{"".join(cards)}</div>'


def _pareto(r: dict) -> str:
    triples = [t for t in as_list(r.get("triples")) if isinstance(t, dict)]
    groups = by_benchmark([t for t in triples if num(t.get("success_rate")) is not None])
    out = [
        '<section id="pareto"><h2>Success vs cost per run</h2><p class="lede">One point per triple with a known '
        "success rate. Frontier points (no other triple is both cheaper and at least as successful) are "
        'joined; dominated points are dimmed. Hover a point for its triple.</p><div class="legend">'
        '<span><svg class="key" viewBox="0 0 12 12"><circle class="pt frontier" cx="6" cy="6" r="5"/></svg>'
        "Pareto frontier</span>"
        '<span><svg class="key" viewBox="0 0 12 12"><circle class="pt dominated" cx="6" cy="6" r="4"/></svg>'
        "Dominated</span></div>"
    ]
    if not groups:
        out.append('<p class="empty">No triple has a known success rate.</p>')
    for bench, ts in groups:
        cost_flags = frontier_flags(ts, "cost", "cost_per_run")
        wall_flags = frontier_flags(ts, "wall_time", "wall_time_s")
        cost_pts, wall_pts, skipped = [], [], 0
        for t, cf, wf in zip(ts, cost_flags, wall_flags):
            s = num(t["success_rate"]) * 100
            name, cost, wall = triple_name(t), num(t.get("cost_per_run")), num(t.get("wall_time_s"))
            base = f"{name}\nsuccess {fmt.pct(t.get('success_rate'))} {fmt.ci(t.get('success_ci'))}"
            if cost is not None and cost > 0:
                tip = f"{base}\n{fmt.usd(cost)} per run" + ("\nPareto frontier" if cf else "")
                cost_pts.append(Point(cost, s, tip, as_text(t.get("model")), cf, name))
            else:
                skipped += 1
            if wall is not None and wall > 0:
                tip = f"{base}\n{fmt.duration(wall)} per run" + ("\nPareto frontier (time)" if wf else "")
                wall_pts.append(Point(wall, s, tip, as_text(t.get("model")), wf, name))
        note = f'<p class="note">{skipped} triple(s) with no positive cost per run are not plotted.</p>' if skipped else ""
        cost_chart = scatter(cost_pts, x_label="Cost per run (USD, log scale)", y_label="Success rate", x_fmt=fmt.usd_short)
        charts = [f'<figure class="fig-cost">{cost_chart}{note}</figure>']
        if wall_pts:
            wall_chart = scatter(
                wall_pts, x_label="Wall time per run (log scale)", y_label="Success rate", x_fmt=fmt.duration_short,
                x_ticks=duration_ticks, width=400, height=300, labels=False, css_class="chart scatter wall",
            )
            charts.append(f'<figure class="fig-wall"><figcaption>Success vs wall time per run</figcaption>{wall_chart}</figure>')
        title = esc(bench) if bench is not None else "No benchmark"
        out.append(
            f'<div class="bench" data-benchmark="{esc(bench)}"><h3>{title} <span class="muted">'
            f"{len(ts)} triple(s), {sum(cost_flags)} on the frontier</span></h3>"
            f'<div class="bench-charts">{"".join(charts)}</div></div>'
        )
    out.append("</section>")
    return "".join(out)


def _buckets(r: dict) -> str:
    triples = [t for t in as_list(r.get("triples")) if isinstance(t, dict)]
    split, bars = [], []
    for t in triples:
        cb = t.get("cost_by_bucket")
        if isinstance(cb, dict):
            values = {b: max(0.0, num(cb.get(b)) or 0.0) for b in COST_BUCKETS}
            split.append((sum(values.values()), values, t))
    split.sort(key=lambda item: -item[0])
    for total, values, t in split[:MAX_BARS]:
        name, whole = triple_name(t), num(t.get("cost_usd"))
        label = fmt.usd(total)
        if whole is not None and abs(whole - total) > 0.01 * max(whole, total):
            label += f" (of {fmt.usd(whole)})"
        bars.append(Bar(name, f"{name}\nsplit by bucket: {fmt.usd(total)}\ntotal cost: {fmt.usd(whole)}", values, label))
    notes = []
    if len(split) > MAX_BARS:
        notes.append(f"Showing the {MAX_BARS} most expensive of {len(split)} triples; the table lists them all.")
    rest = len(triples) - len(split)
    if rest:
        notes.append(
            f"{rest} triple(s) have no cost split by bucket (result sets that report only a total, "
            "unpriced models, or no calls) and are not shown."
        )
    note = "".join(f'<p class="note">{esc(n)}</p>' for n in notes)
    legend = "".join(f'<span><i class="swatch s-{b}"></i>{BUCKET_NAMES[b]}</span>' for b in COST_BUCKETS)
    chart = (
        stacked_bars(bars, [(b, BUCKET_NAMES[b]) for b in COST_BUCKETS], x_fmt=fmt.usd_short, value_fmt=fmt.usd)
        if bars else '<p class="empty">No triple has a cost split by bucket.</p>'
    )
    return (
        '<section id="buckets"><h2>Cost by bucket per triple</h2><p class="lede">USD per triple over all '
        f'its priced calls, split by token bucket, most expensive first.</p>{note}<div class="legend">{legend}</div>'
        f"{chart}</section>"
    )


def render_html(report: dict) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    r = as_dict(report)
    css = (HERE / "report.css").read_text(encoding="utf-8")
    js = (HERE / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    nav = "".join(f'<a href="#{sid}">{name}</a>' for sid, name in SECTIONS)
    meta = " \u00b7 ".join(
        x for x in (
            f"generated {esc(fmt.when(r.get('generated_at')))}" if r.get("generated_at") else "",
            f'ledger <code>{esc(r.get("ledger"))}</code>' if r.get("ledger") else "",
            f"inferaudit {esc(r.get('inferaudit_version'))}" if r.get("inferaudit_version") else "",
        ) if x
    )
    body = "".join((_summary(r), levers(r), _pareto(r), _buckets(r), table(r), sessions(r), issues(r)))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="inferaudit"><link rel="icon" href="data:,">'
        f"<title>Inference cost audit</title><style>{css}</style></head><body>"
        f'<header class="top"><div class="wrap"><h1>Inference cost audit</h1><div class="meta">{meta}</div>'
        f'<nav>{nav}</nav></div></header><main class="wrap">{body}</main>'
        f'<footer class="wrap muted">{meta or "inferaudit"}</footer>'
        f'<div id="tip" role="tooltip" hidden></div><script>{js}</script></body></html>\n'
    )
