"""The triple table, the session charts and the data-quality lists of the HTML report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import htmlfmt as fmt
from .htmlfmt import (
    BUCKET_NAMES,
    DASH,
    TOKEN_BUCKETS,
    as_dict,
    as_list,
    as_text,
    esc,
    frontier_flags,
    num,
    triple_name,
)
from .svg import line_chart

MAX_SESSIONS = 30
MAX_PROBLEMS = 50
USD_FIELDS = ("cost_per_run", "cost_per_run_median", "cost_per_success", "cost_usd")


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
    """Per axis, the triple that dominates this one by the largest factor; all of them in the hover text."""
    items = [d for d in as_list(t.get("dominated_by")) if isinstance(d, dict)]
    lines, seen = [], set()
    for d in items:
        axis = "time" if d.get("axis") == "wall_time" else "cost"
        if axis in seen:
            continue
        seen.add(axis)
        who = esc(triple_name(d, benchmark=False))
        lines.append(f'<div><span class="tag">{axis}</span> {esc(d.get("text"))} vs <b>{who}</b></div>')
    if len(items) > len(lines):
        lines.append(f'<div class="muted">+{len(items) - len(lines)} more (hover)</div>')
    return "".join(lines) or '<span class="muted">\u2014</span>'


def _dominated_tip(t: dict) -> str:
    return "\n".join(
        f"{'time' if d.get('axis') == 'wall_time' else 'cost'}: {triple_name(d, benchmark=False)}: {as_text(d.get('text'))}"
        for d in as_list(t.get("dominated_by")) if isinstance(d, dict)
    )


def table(r: dict) -> str:
    triples = [t for t in as_list(r.get("triples")) if isinstance(t, dict)]
    head = "".join(
        f'<th data-type="{typ}"' + (f' title="{esc(tip)}"' if tip else "") + f">{esc(h)}</th>" for h, typ, tip in COLUMNS
    )
    cost_flags, wall_flags = frontier_flags(triples, "cost", "cost_per_run"), frontier_flags(triples, "wall_time", "wall_time_s")
    rows = []
    for t, cf, wf in zip(triples, cost_flags, wall_flags):
        tok = as_dict(t.get("tokens"))
        ci_ = t.get("success_ci")
        mark = " ".join(m for m, f in (("C", cf), ("T", wf)) if f)
        cells = [
            _td(esc(t.get("benchmark")) or DASH), _td(esc(t.get("model")) or DASH, cls="name"),
            _td(esc(t.get("harness")) or DASH), _td(esc(t.get("cache_policy")) or DASH),
            _td(fmt.integer(t.get("runs")), t.get("runs")), _td(fmt.integer(t.get("resolved")), t.get("resolved")),
            _td(fmt.pct(t.get("success_rate")), t.get("success_rate")),
            _td(fmt.ci(ci_), ci_[0] if isinstance(ci_, (list, tuple)) and ci_ else None, "ci"),
            *(_td(esc(fmt.usd(t.get(k))), t.get(k)) for k in USD_FIELDS),
            _td(fmt.pct(t.get("cache_hit_rate")), t.get("cache_hit_rate")),
            _td(fmt.duration(t.get("wall_time_s")) + ("*" if t.get("wall_time_source") == "published" else ""),
                t.get("wall_time_s"), title="published by the benchmark" if t.get("wall_time_source") == "published" else ""),
            _td(fmt.number(t.get("calls_per_run")), t.get("calls_per_run")),
            *(_td(fmt.compact(tok.get(b)), tok.get(b), title=fmt.integer(tok.get(b))) for b in TOKEN_BUCKETS),
            _td(fmt.compact(t.get("unpriced_tokens")), t.get("unpriced_tokens"), "warn" if num(t.get("unpriced_tokens")) else ""),
            _td(f'<span class="pareto-mark">{mark}</span>' if mark else "", cls="pareto"),
            _td(_dominated(t), cls="dom", title=_dominated_tip(t)),
        ]
        rows.append(f'<tr class="{"on-frontier" if cf else ""}">{"".join(cells)}</tr>')
    body = "".join(rows) or f'<tr><td colspan="{len(COLUMNS)}" class="empty">No triples.</td></tr>'
    return (
        '<section id="triples"><h2>Triples</h2><p class="lede">One row per (model, harness, cache policy, '
        "benchmark). Click a header to sort. Pareto: C = cost frontier, T = wall-time frontier. "
        "Wall times marked * are the benchmark's published figures.</p>"
        f'<div class="table-wrap"><table class="sortable triples"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _session_card(s: dict) -> str:
    raw = []
    for item in as_list(s.get("timeline")):
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            t, v = fmt.parse_time(item[0]), num(item[1])
            if t is not None and v is not None:
                raw.append((t, v))
    raw.sort(key=lambda p: p[0])
    title = as_text(s.get("id")) or "?"
    sub = " \u00b7 ".join(x for x in (as_text(s.get("model")), as_text(s.get("harness"))) if x)
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


def sessions(r: dict) -> str:
    sessions = [s for s in as_list(r.get("sessions")) if isinstance(s, dict)]
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


def issues(r: dict) -> str:
    out = ['<section id="issues"><h2>Data quality</h2>']
    unpriced = [u for u in as_list(r.get("unpriced")) if isinstance(u, dict)]
    out.append("<h3>Unpriced models</h3>")
    if unpriced:
        rows = "".join(
            f"<tr><td>{esc(u.get('provider')) or DASH}</td><td class='name'>{esc(u.get('model')) or DASH}</td>"
            f"{_td(fmt.integer(u.get('calls')))}"
            + "".join(_td(fmt.integer(as_dict(u.get("tokens")).get(b))) for b in TOKEN_BUCKETS)
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
    warnings = [w for w in as_list(r.get("warnings")) if isinstance(w, dict)]
    out.append(f"<h3>Warnings <span class='count'>{len(warnings)}</span></h3>")
    kinds = Counter(as_text(w.get("kind")) or "?" for w in warnings)
    if len(kinds) > 1:
        chips = " ".join(f'<span class="tag">{esc(k)} {n}</span>' for k, n in kinds.most_common())
        out.append(f'<p class="kinds">{chips}</p>')
    if warnings:
        rows = "".join(
            f"<tr><td><span class='tag'>{esc(w.get('kind')) or DASH}</span></td>"
            f"<td class='name'>{esc(w.get('group')) or DASH}</td><td>{esc(w.get('message'))}</td></tr>"
            for w in warnings
        )
        out.append(
            '<div class="table-wrap"><table class="plain text"><thead><tr><th>Kind</th><th>Group</th><th>Message</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    else:
        out.append('<p class="empty">No warnings.</p>')
    problems = [p for p in as_list(r.get("problems")) if isinstance(p, dict)]
    total = int(num(r.get("problem_count")) or 0)
    total = max(total, len(problems))
    out.append(f"<h3>Problems <span class='count'>{total}</span></h3>")
    if problems:
        items = []
        for p in problems[:MAX_PROBLEMS]:
            line = num(p.get("line"))
            where = as_text(p.get("file")) or "?"
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
