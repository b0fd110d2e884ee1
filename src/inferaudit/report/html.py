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
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import fmt
from .fmt import DASH, esc, num
from .svg import Bar, Point, line_chart, scatter, stacked_bars

HERE = Path(__file__).parent
TOKEN_BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
COST_BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
BUCKET_NAMES = {
    "input": "Input",
    "cache_read": "Cache read",
    "cache_write_5m": "Cache write 5m",
    "cache_write_1h": "Cache write 1h",
    "output": "Output",
    "reasoning": "Reasoning",
}
MAX_SESSIONS = 30
MAX_PROBLEMS = 50
SECTIONS = (
    ("summary", "Summary"),
    ("pareto", "Success vs cost"),
    ("buckets", "Cost by bucket"),
    ("triples", "Triples"),
    ("sessions", "Sessions"),
    ("issues", "Data quality"),
)


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def triple_name(t: dict, benchmark: bool = True) -> str:
    """``model · harness · cache_policy (benchmark)``."""
    name = " \u00b7 ".join(_s(t.get(k)) or "?" for k in ("model", "harness", "cache_policy"))
    return f"{name} ({t['benchmark']})" if benchmark and t.get("benchmark") else name


def _flags(triples: list[dict], axis: str, value_key: str) -> list[bool]:
    """Each triple's frontier flag on ``axis``: the audit's, or computed when it gave none."""
    given = [_d(t.get("pareto")).get(axis) for t in triples]
    if all(isinstance(g, bool) for g in given):
        return given  # type: ignore[return-value]
    pts = [(num(t.get(value_key)), num(t.get("success_rate"))) for t in triples]
    out = []
    for g, (c, s) in zip(given, pts):
        if isinstance(g, bool) or c is None or s is None:
            out.append(bool(g))
            continue
        out.append(not any(
            oc is not None and os_ is not None and oc <= c and os_ >= s and (oc < c or os_ > s) for oc, os_ in pts
        ))
    return out


def _by_benchmark(triples: list[dict]) -> list[tuple[str | None, list[dict]]]:
    groups: dict[str | None, list[dict]] = defaultdict(list)
    for t in triples:
        b = t.get("benchmark")
        groups[None if b is None else str(b)].append(t)
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))


def _stat(label: str, value: str, note: str = "", cls: str = "") -> str:
    note_html = f'<div class="stat-note">{note}</div>' if note else ""
    return f'<div class="stat {cls}"><div class="stat-label">{esc(label)}</div><div class="stat-value">{value}</div>{note_html}</div>'


def _summary(r: dict) -> str:
    tot = _d(r.get("totals"))
    unpriced = num(tot.get("unpriced_tokens")) or 0
    stats = [
        _stat("Total cost", esc(fmt.usd(tot.get("cost_usd"))), "priced tokens only" if unpriced else ""),
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
    items = [h for h in _l(r.get("headline")) if isinstance(h, dict)]
    if not items:
        return '<div class="headline-none muted">No headline spread: no two triples of one benchmark are close enough in success to compare their costs.</div>'
    cards = []
    for h in items:
        side = []
        for role in ("cheap", "expensive"):
            s = _d(h.get(role))
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
    triples = [t for t in _l(r.get("triples")) if isinstance(t, dict)]
    groups = _by_benchmark([t for t in triples if num(t.get("success_rate")) is not None])
    out = [
        '<section id="pareto"><h2>Success vs cost per run</h2><p class="lede">One point per triple with a known '
        "success rate. Frontier points (no other triple is both cheaper and at least as successful) are "
        'joined; dominated points are dimmed. Hover a point for its triple.</p><div class="legend">'
        '<span><svg class="key" viewBox="0 0 12 12"><circle class="pt frontier" cx="6" cy="6" r="5"/></svg>Pareto frontier</span>'
        '<span><svg class="key" viewBox="0 0 12 12"><circle class="pt dominated" cx="6" cy="6" r="4"/></svg>Dominated</span></div>'
    ]
    if not groups:
        out.append('<p class="empty">No triple has a known success rate.</p>')
    for bench, ts in groups:
        cost_flags = _flags(ts, "cost", "cost_per_run")
        wall_flags = _flags(ts, "wall_time", "wall_time_s")
        cost_pts, wall_pts, skipped = [], [], 0
        for t, cf, wf in zip(ts, cost_flags, wall_flags):
            s = num(t["success_rate"]) * 100
            name, cost, wall = triple_name(t), num(t.get("cost_per_run")), num(t.get("wall_time_s"))
            base = f"{name}\nsuccess {fmt.pct(t.get('success_rate'))} {fmt.ci(t.get('success_ci'))}"
            if cost is not None and cost > 0:
                tip = f"{base}\n{fmt.usd(cost)} per run" + ("\nPareto frontier" if cf else "")
                cost_pts.append(Point(cost, s, tip, _s(t.get("model")), cf, name))
            else:
                skipped += 1
            if wall is not None and wall > 0:
                tip = f"{base}\n{fmt.duration(wall)} per run" + ("\nPareto frontier (time)" if wf else "")
                wall_pts.append(Point(wall, s, tip, _s(t.get("model")), wf, name))
        note = f'<p class="note">{skipped} triple(s) with no positive cost per run are not plotted.</p>' if skipped else ""
        charts = [f'<figure class="fig-cost">{scatter(cost_pts, x_label="Cost per run (USD, log scale)", y_label="Success rate", x_fmt=fmt.usd_short)}{note}</figure>']
        if wall_pts:
            charts.append(
                f'<figure class="fig-wall"><figcaption>Success vs wall time per run</figcaption>'
                f'{scatter(wall_pts, x_label="Wall time per run (log scale)", y_label="Success rate", x_fmt=fmt.duration, width=400, height=300, labels=False, css_class="chart scatter wall")}</figure>'
            )
        title = esc(bench) if bench is not None else "No benchmark"
        out.append(
            f'<div class="bench" data-benchmark="{esc(bench)}"><h3>{title} <span class="muted">'
            f"{len(ts)} triple(s), {sum(cost_flags)} on the frontier</span></h3>"
            f'<div class="bench-charts">{"".join(charts)}</div></div>'
        )
    out.append("</section>")
    return "".join(out)


def _buckets(r: dict) -> str:
    triples = [t for t in _l(r.get("triples")) if isinstance(t, dict)]
    triples.sort(key=lambda t: -(num(t.get("cost_usd")) or -1.0))
    bars = []
    for t in triples:
        cb = t.get("cost_by_bucket")
        values = {b: num(cb.get(b)) or 0.0 for b in COST_BUCKETS} if isinstance(cb, dict) else None
        total = num(t.get("cost_usd"))
        if total is None and values is not None:
            total = sum(values.values())
        bars.append(Bar(triple_name(t), f"{triple_name(t)}\ntotal {fmt.usd(total)}", values, fmt.usd(total)))
    legend = "".join(
        f'<span><i class="swatch s-{b}"></i>{BUCKET_NAMES[b]}</span>' for b in COST_BUCKETS
    )
    chart = stacked_bars(bars, [(b, BUCKET_NAMES[b]) for b in COST_BUCKETS], x_fmt=fmt.usd_short, value_fmt=fmt.usd)
    return (
        '<section id="buckets"><h2>Cost by bucket per triple</h2><p class="lede">Total USD per triple over all '
        f'its runs, split by token bucket, most expensive first.</p><div class="legend">{legend}</div>{chart}</section>'
    )


COLUMNS = (  # header, type for sorting, tooltip
    ("Benchmark", "str", ""), ("Model", "str", ""), ("Harness", "str", ""), ("Cache policy", "str", ""),
    ("Runs", "num", ""), ("Resolved", "num", ""), ("Success", "num", "resolved / runs"),
    ("95% CI", "num", "confidence interval of the success rate, in percent"),
    ("Cost/run", "num", "mean USD per run"), ("Median/run", "num", "median USD per run"),
    ("Cost/success", "num", "USD per resolved run"), ("Total cost", "num", ""),
    ("Cache hit", "num", "cache_read / all prompt tokens"), ("Wall/run", "num", "wall time per run"),
    ("Calls/run", "num", ""), *((BUCKET_NAMES[b], "num", f"{b} tokens") for b in TOKEN_BUCKETS),
    ("Unpriced tok.", "num", "tokens of models with no known price"),
    ("Pareto", "str", "C: on the cost frontier; T: on the wall-time frontier"), ("Dominated by", "str", ""),
)


def _td(text: str, sort: Any = None, cls: str = "", title: str = "") -> str:
    v = num(sort)
    attrs = (f' data-v="{v!r}"' if v is not None else "") + (f' class="{cls}"' if cls else "")
    attrs += f' title="{esc(title)}"' if title else ""
    return f"<td{attrs}>{text}</td>"


def _dominated(t: dict) -> str:
    items = [d for d in _l(t.get("dominated_by")) if isinstance(d, dict)]
    lines = []
    for d in items[:3]:
        axis = "time" if d.get("axis") == "wall_time" else "cost"
        lines.append(f'<div><span class="tag">{axis}</span> {esc(triple_name(d, benchmark=False))}: {esc(d.get("text"))}</div>')
    if len(items) > 3:
        lines.append(f'<div class="muted">+{len(items) - 3} more</div>')
    return "".join(lines) or '<span class="muted">\u2014</span>'


def _table(r: dict) -> str:
    triples = [t for t in _l(r.get("triples")) if isinstance(t, dict)]
    head = "".join(
        f'<th data-type="{typ}"{f" title={chr(34)}{esc(tip)}{chr(34)}" if tip else ""}>{esc(h)}</th>'
        for h, typ, tip in COLUMNS
    )
    cost_flags, wall_flags = _flags(triples, "cost", "cost_per_run"), _flags(triples, "wall_time", "wall_time_s")
    rows = []
    for t, cf, wf in zip(triples, cost_flags, wall_flags):
        tok = _d(t.get("tokens"))
        ci_ = t.get("success_ci")
        mark = " ".join(m for m, f in (("C", cf), ("T", wf)) if f)
        cells = [
            _td(esc(t.get("benchmark")) or DASH), _td(esc(t.get("model")) or DASH, cls="name"),
            _td(esc(t.get("harness")) or DASH), _td(esc(t.get("cache_policy")) or DASH),
            _td(fmt.integer(t.get("runs")), t.get("runs")), _td(fmt.integer(t.get("resolved")), t.get("resolved")),
            _td(fmt.pct(t.get("success_rate")), t.get("success_rate")),
            _td(fmt.ci(ci_), ci_[0] if isinstance(ci_, (list, tuple)) and ci_ else None, "ci"),
            *(_td(esc(fmt.usd(t.get(k))), t.get(k)) for k in ("cost_per_run", "cost_per_run_median", "cost_per_success", "cost_usd")),
            _td(fmt.pct(t.get("cache_hit_rate")), t.get("cache_hit_rate")),
            _td(fmt.duration(t.get("wall_time_s")), t.get("wall_time_s")),
            _td(fmt.number(t.get("calls_per_run")), t.get("calls_per_run")),
            *(_td(fmt.compact(tok.get(b)), tok.get(b), title=fmt.integer(tok.get(b))) for b in TOKEN_BUCKETS),
            _td(fmt.compact(t.get("unpriced_tokens")), t.get("unpriced_tokens"), "warn" if num(t.get("unpriced_tokens")) else ""),
            _td(f'<span class="pareto-mark">{mark}</span>' if mark else "", cls="pareto"),
            _td(_dominated(t), cls="dom"),
        ]
        rows.append(f'<tr class="{"on-frontier" if cf else ""}">{"".join(cells)}</tr>')
    body = "".join(rows) or f'<tr><td colspan="{len(COLUMNS)}" class="empty">No triples.</td></tr>'
    return (
        '<section id="triples"><h2>Triples</h2><p class="lede">One row per (model, harness, cache policy, '
        "benchmark). Click a header to sort. Pareto: C = cost frontier, T = wall-time frontier.</p>"
        f'<div class="table-wrap"><table class="sortable triples"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _session_card(s: dict) -> str:
    raw = []
    for item in _l(s.get("timeline")):
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            t, v = fmt.parse_time(item[0]), num(item[1])
            if t is not None and v is not None:
                raw.append((t, v))
    raw.sort(key=lambda p: p[0])
    title = _s(s.get("id")) or "?"
    sub = " \u00b7 ".join(x for x in (_s(s.get("model")), _s(s.get("harness"))) if x)
    if raw:
        t0 = raw[0][0]
        pts = [((t - t0).total_seconds(), v) for t, v in raw]
        span = fmt.duration(pts[-1][0]) if pts[-1][0] else "0s"
        tip = f"{title}\n{fmt.usd(raw[-1][1])} after {span}"
        chart = line_chart(pts, start_text=fmt.when(t0.isoformat()), end_text=f"+{span}", y_fmt=fmt.usd_short, tip=tip)
    else:
        chart = '<p class="empty">No timeline.</p>'
    return (
        f'<div class="session"><div class="session-head"><span class="session-id" title="{esc(title)}">'
        f'{esc(fmt.truncate(title, 34))}</span><span class="session-cost">{esc(fmt.usd(s.get("cost_usd")))}</span></div>'
        f'<div class="session-sub muted">{esc(sub) or "&nbsp;"}</div>{chart}</div>'
    )


def _sessions(r: dict) -> str:
    sessions = [s for s in _l(r.get("sessions")) if isinstance(s, dict)]
    sessions.sort(key=lambda s: -(num(s.get("cost_usd")) or -1.0))
    shown = sessions[:MAX_SESSIONS]
    note = (
        f'<p class="note">Showing the {MAX_SESSIONS} most expensive of {len(sessions)} sessions.</p>'
        if len(sessions) > MAX_SESSIONS else ""
    )
    grid = "".join(_session_card(s) for s in shown) or '<p class="empty">No sessions.</p>'
    return (
        '<section id="sessions"><h2>Cost over time per session</h2><p class="lede">Cumulative USD over each '
        f'session, most expensive first.</p>{note}<div class="sessions">{grid}</div></section>'
    )


def _issues(r: dict) -> str:
    out = ['<section id="issues"><h2>Data quality</h2>']
    unpriced = [u for u in _l(r.get("unpriced")) if isinstance(u, dict)]
    out.append("<h3>Unpriced models</h3>")
    if unpriced:
        rows = "".join(
            f"<tr><td>{esc(u.get('provider')) or DASH}</td><td class='name'>{esc(u.get('model')) or DASH}</td>"
            f"{_td(fmt.integer(u.get('calls')))}"
            + "".join(_td(fmt.integer(_d(u.get("tokens")).get(b))) for b in TOKEN_BUCKETS)
            + "</tr>"
            for u in unpriced
        )
        heads = "".join(f"<th>{BUCKET_NAMES[b]}</th>" for b in TOKEN_BUCKETS)
        out.append(
            '<p class="lede warn-text">These models have no known price: their tokens are left out of every cost '
            "(never counted as $0), so totals above understate the bill.</p>"
            f'<div class="table-wrap"><table class="plain"><thead><tr><th>Provider</th><th>Model</th><th>Calls</th>{heads}'
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    else:
        out.append('<p class="empty">Every model was priced.</p>')
    warnings = [w for w in _l(r.get("warnings")) if isinstance(w, dict)]
    out.append(f"<h3>Warnings <span class='count'>{len(warnings)}</span></h3>")
    if warnings:
        rows = "".join(
            f"<tr><td><span class='tag'>{esc(w.get('kind')) or DASH}</span></td><td class='name'>{esc(w.get('group')) or DASH}</td>"
            f"<td>{esc(w.get('message'))}</td></tr>"
            for w in warnings
        )
        out.append(f'<div class="table-wrap"><table class="plain"><thead><tr><th>Kind</th><th>Group</th><th>Message</th></tr></thead><tbody>{rows}</tbody></table></div>')
    else:
        out.append('<p class="empty">No warnings.</p>')
    problems = [p for p in _l(r.get("problems")) if isinstance(p, dict)]
    total = int(num(r.get("problem_count")) or 0)
    total = max(total, len(problems))
    out.append(f"<h3>Problems <span class='count'>{total}</span></h3>")
    if problems:
        items = []
        for p in problems[:MAX_PROBLEMS]:
            line = num(p.get("line"))
            where = _s(p.get("file")) or "?"
            where += f":{int(line)}" if line is not None else ""
            items.append(f'<li><span class="where">{esc(where)}</span>: {esc(p.get("reason"))}</li>')
        more = (
            f'<p class="note">Showing the first {min(len(problems), MAX_PROBLEMS)} of {total} problems.</p>'
            if total > min(len(problems), MAX_PROBLEMS) else ""
        )
        out.append(f'<ol class="problems">{"".join(items)}</ol>{more}')
    elif total:
        out.append(f'<p class="note">{total} problems were counted; none is listed in this report.</p>')
    else:
        out.append('<p class="empty">No problems.</p>')
    out.append("</section>")
    return "".join(out)


def render_html(report: dict) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    r = _d(report)
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
    body = "".join((_summary(r), _pareto(r), _buckets(r), _table(r), _sessions(r), _issues(r)))
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
