"""A benchmark run as a terminal table, a JSON document and one SVG chart per prompt class."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from ...providers.spec_counters import SpecCounters
from ...report.htmlfmt import esc
from ...report.svg import Scale, linear_ticks
from .runner import BenchRun
from .summary import ALL, ClassSummary

NO_DATA = "no acceptance data"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _rate(counters: SpecCounters | None) -> str:
    rate = counters.acceptance_rate if counters else None
    return "-" if rate is None else f"{rate:.2f}"


def _length(counters: SpecCounters | None) -> str:
    length = counters.mean_acceptance_length if counters else None
    return "-" if length is None else f"{length:.2f}"


def table(rows: list[ClassSummary], title: str) -> Table:
    out = Table(title=title, header_style="bold")
    heads = ("class", "endpoint", "conc", "ok/reqs", "TTFT p50 ms", "ITL p50 ms", "tok/s", "latency s", "speedup",
             "accept (req)", "accept len (req)", "accept (/metrics)", "greedy mismatches")
    for head in heads:
        out.add_column(head, justify="left" if head in ("class", "endpoint") else "right")
    previous = None
    for r in rows:
        if previous is not None and (r.cls, r.concurrency) != previous:
            out.add_section()
        previous = (r.cls, r.concurrency)
        no_data = r.spec_requests is None and r.spec_metrics is None
        out.add_row(
            r.cls, r.endpoint, str(r.concurrency), f"{r.requests - r.errors}/{r.requests}", _ms(r.ttft_p50),
            _ms(r.itl_p50), "-" if r.tokens_per_s is None else f"{r.tokens_per_s:.1f}",
            "-" if r.latency_mean is None else f"{r.latency_mean:.2f}",
            "-" if r.speedup is None else f"{r.speedup:.2f}x",
            f"[dim]{NO_DATA}[/]" if no_data else _rate(r.spec_requests), "" if no_data else _length(r.spec_requests),
            "" if no_data else _rate(r.spec_metrics),
            "" if not r.compared else (f"[red]{len(r.mismatches)}[/]/{r.compared}" if r.mismatches else f"0/{r.compared}"),
        )
    return out


def _counters(c: SpecCounters | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {**asdict(c), "acceptance_rate": c.acceptance_rate, "mean_acceptance_length": c.mean_acceptance_length}


def to_json(run: BenchRun, rows: list[ClassSummary]) -> dict[str, Any]:
    config = run.config
    return {
        "started_at": run.started_at.isoformat(), "wall_s": run.wall_s,
        "config": {"model": config.model, "max_tokens": config.max_tokens, "concurrency": config.concurrency,
                   "endpoints": [{"label": e.label, "url": e.url} for e in config.endpoints],
                   "baseline": config.endpoints[0].label, "extra_body": config.extra_body,
                   "prompts": [{"id": p.id, "class": p.cls} for p in config.prompts]},
        "summary": [{**{k: v for k, v in asdict(r).items() if k not in ("spec_requests", "spec_metrics")},
                     "spec_requests": _counters(r.spec_requests), "spec_metrics": _counters(r.spec_metrics),
                     "acceptance": None if r.spec_requests is None and r.spec_metrics is None else "reported"}
                    for r in rows],
        "metrics": [{"endpoint": b.endpoint, "concurrency": b.concurrency, "class": b.cls, "note": b.note,
                     "counters": _counters(b.counters)} for b in run.metrics],
        "requests": [{"prompt_id": r.prompt_id, "class": r.cls, "endpoint": r.endpoint, "concurrency": r.concurrency,
                      "started_at": r.started_at.isoformat(), "ttft_s": r.ttft, "itl_s": r.itl, "latency_s": r.latency,
                      "prompt_tokens": r.prompt_tokens, "output_tokens": r.output_tokens,
                      "content_chunks": r.content_chunks, "finish_reason": r.finish_reason,
                      "spec": _counters(r.spec), "error": r.error, "text": r.text} for r in run.results],
    }


_STYLE = ("text{font:11px sans-serif;fill:#333}.title{font-size:13px;font-weight:bold}.grid{stroke:#e5e5e5}"
          ".tick{fill:#777}.base{fill:#9aa5b1}.spec{fill:#2f7ed8}.val{font-size:10px}")


def chart(rows: list[ClassSummary], cls: str, baseline: str, width: int = 640) -> str:
    """Output tok/s per endpoint, grouped by concurrency, for one class; speedup and acceptance on each bar."""
    picked = [r for r in rows if r.cls == cls]
    levels = list(dict.fromkeys(r.concurrency for r in picked))
    labels = list(dict.fromkeys(r.endpoint for r in picked))
    bar_h, gap, group_gap, label_w, mt = 16, 4, 14, 150, 40
    height = mt + len(levels) * (len(labels) * (bar_h + gap) + group_gap) + 10
    hi = max([r.tokens_per_s or 0 for r in picked] + [1.0])
    ticks = linear_ticks(0, hi, 5)
    xs = Scale(0, max(hi, ticks[-1]), label_w, width - 110)
    title = f"{cls}: output tokens/s per endpoint (speedup vs {baseline})"
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
         f'role="img" aria-label="{esc(title)}"><style>{_STYLE}</style>',
         f'<text class="title" x="8" y="16">{esc(title)}</text>']
    for t in ticks:
        x = f"{xs(t):.1f}"
        o.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{mt - 8}" y2="{height - 10}"/>'
                 f'<text class="tick" x="{x}" y="{mt - 12}" text-anchor="middle">{t:g}</text>')
    y = mt
    for level in levels:
        for label in labels:
            row = next((r for r in picked if r.concurrency == level and r.endpoint == label), None)
            cy = y + bar_h / 2
            o.append(f'<text x="{label_w - 6}" y="{cy:.1f}" dy="0.32em" text-anchor="end">{esc(label)} · c={level}</text>')
            if row is not None and row.tokens_per_s:
                w = xs(row.tokens_per_s) - label_w
                counters = row.spec_requests or row.spec_metrics
                rate = counters.acceptance_rate if counters else None
                note = (f"{row.tokens_per_s:.1f} tok/s" + (f" · {row.speedup:.2f}x" if row.speedup else "")
                        + (f" · accept {rate:.2f}" if rate is not None else ""))
                kind = "base" if label == baseline else "spec"
                o.append(f'<rect class="{kind}" x="{label_w}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_h}">'
                         f'<title>{esc(note)}</title></rect>'
                         f'<text class="val" x="{label_w + w + 4:.1f}" y="{cy:.1f}" dy="0.32em">{esc(note)}</text>')
            else:
                o.append(f'<text class="val" x="{label_w + 4}" y="{cy:.1f}" dy="0.32em">no successful request</text>')
            y += bar_h + gap
        y += group_gap
    o.append("</svg>")
    return "".join(o)


def write_charts(rows: list[ClassSummary], baseline: str, directory: Path) -> list[Path]:
    """One ``spec-bench-<class>.svg`` per class (and one for all classes together)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for cls in dict.fromkeys(r.cls for r in rows):
        path = directory / f"spec-bench-{cls if cls != ALL else 'all'}.svg"
        path.write_text(chart(rows, cls, baseline))
        paths.append(path)
    return paths
