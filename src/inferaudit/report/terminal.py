"""The rich terminal summary of an audit."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .fmt import duration, pct, tokens, usd
from .waste_terminal import render_waste

MAX_TRIPLES_PER_BENCHMARK = 15
MAX_SESSIONS = 10
MAX_WARNINGS = 8
MAX_PROBLEMS = 8


def render_terminal(report: dict[str, Any], console: Console, *, all_rows: bool = False) -> None:
    _totals(report, console)
    _headline(report, console)
    _triples(report, console, all_rows)
    _sessions(report, console, all_rows)
    render_waste(report, console)
    _unpriced(report, console)
    _warnings(report, console)
    _problems(report, console)


def _totals(report: dict[str, Any], console: Console) -> None:
    t = report["totals"]
    console.rule("[bold]inferaudit: where the money went")
    grid = Table.grid(padding=(0, 2))
    grid.add_row("cost", f"[bold]{usd(t['cost_usd'])}[/]",
                 f"({usd(t['cost_from_calls_usd'])} priced from {t['calls']:,} calls, "
                 f"{usd(t['cost_reported_only_usd'])} as reported by result sets)")
    grid.add_row("runs", f"{t['runs']:,}", "")
    for b in ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output"):
        note = f"reasoning {tokens(t['reasoning'])} inside" if b == "output" else ""
        grid.add_row(f"tokens: {b}", tokens(t[b]), note)
    grid.add_row("cache hit rate", pct(t["cache_hit_rate"]), "cache_read / all prompt tokens")
    if t["unpriced_tokens"]:
        grid.add_row("[yellow]unpriced[/]", f"[yellow]{tokens(t['unpriced_tokens'])} tokens[/]", "see 'Unpriced models'")
    console.print(grid)


def _headline(report: dict[str, Any], console: Console) -> None:
    if not report["headline"]:
        return
    console.print()
    console.print("[bold]Headline spread[/] (largest cost ratio among triples within "
                  f"{report['headline'][0]['within_points']:g} points of success):")
    for h in report["headline"]:
        console.print(Text(f"  {h['ratio']:.1f}x  ", style="bold red"), Text(h["text"]))


def _triples(report: dict[str, Any], console: Console, all_rows: bool) -> None:
    by_bench: dict[Any, list] = defaultdict(list)
    for t in report["triples"]:
        by_bench[t["benchmark"]].append(t)
    for bench, rows in sorted(by_bench.items(), key=lambda kv: str(kv[0])):
        shown = rows if all_rows else rows[:MAX_TRIPLES_PER_BENCHMARK]
        cells = [_triple_cells(t) for t in shown]
        # a column with nothing in it for this benchmark is left out, to keep the table readable
        keep = [i for i, (name, _) in enumerate(_TRIPLE_COLUMNS) if i < 3 or any(c[i] not in ("-", "") for c in cells)]
        table = Table(title=f"Triples: {bench or 'logs (no benchmark)'}", title_justify="left", header_style="bold")
        for i in keep:
            name, justify = _TRIPLE_COLUMNS[i]
            table.add_column(name, justify=justify, no_wrap=True, min_width=len(name))
        for c in cells:
            table.add_row(*(c[i] for i in keep))
        if len(rows) > len(shown):
            table.caption = f"{len(rows) - len(shown)} more: use --all or --json"
        console.print()
        console.print(table)


_TRIPLE_COLUMNS = (("model", "left"), ("harness", "left"), ("cache", "left"), ("runs", "right"),
                   ("success [95% CI]", "right"), ("$/run", "right"), ("$/solved", "right"), ("cache hit", "right"),
                   ("wall/run", "right"), ("calls/run", "right"), ("Pareto (success, $/run)", "left"))


def _triple_cells(t: dict[str, Any]) -> list[str]:
    return [
        t["model"], t["harness"], t["cache_policy"], f"{t['runs']:,}", _success(t),
        usd(t["cost_per_run"]) if t["cost_per_run"] is not None else _unpriced_mark(t),
        usd(t["cost_per_success"]), pct(t["cache_hit_rate"]), duration(t["wall_time_s"]),
        f"{t['calls_per_run']:.1f}" if t["calls_per_run"] is not None else "-", _verdict(t),
    ]


def _success(t: dict[str, Any]) -> str:
    if t["success_rate"] is None:
        return "-"
    lo, hi = t["success_ci"]
    return f"{t['success_rate']:.1%} [{lo:.0%}-{hi:.0%}]"


def _unpriced_mark(t: dict[str, Any]) -> str:
    return "[yellow]unpriced[/]" if t["unpriced_tokens"] else "-"


def _verdict(t: dict[str, Any]) -> str:
    if t["pareto"]["cost"]:
        return "[green]frontier[/]"
    cost_doms = [d for d in t["dominated_by"] if d["axis"] == "cost"]
    if cost_doms:
        d = cost_doms[0]
        return f"[dim]{d['factor']:.1f}x the cost of {d['model']} ({d['harness']})[/]"
    return ""


def _sessions(report: dict[str, Any], console: Console, all_rows: bool) -> None:
    sessions = report["sessions"]
    if not sessions:
        return
    table = Table(title="Sessions (most expensive first)", title_justify="left", header_style="bold")
    for col in ("session", "harness", "model", "cache", "calls", "cost", "cache hit", "wall", "start"):
        table.add_column(col, justify="right" if col in ("calls", "cost", "cache hit", "wall") else "left")
    shown = sessions if all_rows else sessions[:MAX_SESSIONS]
    for s in shown:
        tk = s["tokens"]
        prompt = tk["input"] + tk["cache_read"] + tk["cache_write_5m"] + tk["cache_write_1h"]
        table.add_row(str(s["id"])[:36], s["harness"], s["model"], s["cache_policy"], f"{s['calls']:,}",
                      usd(s["cost_usd"]), pct(tk["cache_read"] / prompt if prompt else None),
                      duration(s["wall_time_s"]), (s["start"] or "-")[:16])
    if len(sessions) > len(shown):
        table.caption = f"{len(sessions) - len(shown)} more sessions: use --all or --json"
    console.print()
    console.print(table)


def _unpriced(report: dict[str, Any], console: Console) -> None:
    if not report["unpriced"]:
        return
    console.print()
    console.print("[bold yellow]Unpriced models[/] (not in genai-prices or --prices; never counted as $0):")
    for u in report["unpriced"]:
        total = sum(v for k, v in u["tokens"].items() if k != "reasoning")
        console.print(f"  {u['provider'] or '?'}/{u['model']}: {u['calls']:,} calls, {tokens(total)} tokens "
                      f"(input {tokens(u['tokens']['input'])}, cache_read {tokens(u['tokens']['cache_read'])}, "
                      f"output {tokens(u['tokens']['output'])})")


def _warnings(report: dict[str, Any], console: Console) -> None:
    warnings = report["warnings"]
    if not warnings:
        return
    kinds = Counter(w["kind"] for w in warnings)
    console.print()
    console.print(f"[bold yellow]Data-quality warnings[/]: {len(warnings)} "
                  f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())})")
    for w in warnings[:MAX_WARNINGS]:
        console.print(f"  [yellow]{w['kind']}[/] {w['group']}: {w['message']}", highlight=False)
    if len(warnings) > MAX_WARNINGS:
        console.print(f"  ... {len(warnings) - MAX_WARNINGS} more in --json / the HTML report")


def _problems(report: dict[str, Any], console: Console) -> None:
    if not report["problem_count"]:
        return
    console.print()
    console.print(f"[bold yellow]Input problems[/]: {report['problem_count']} (the rest of each file was read)")
    for p in report["problems"][:MAX_PROBLEMS]:
        where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
        console.print(f"  {where}: {p['reason']}", highlight=False, soft_wrap=True)
    if report["problem_count"] > MAX_PROBLEMS:
        console.print(f"  ... {report['problem_count'] - MAX_PROBLEMS} more in --json / the HTML report")
