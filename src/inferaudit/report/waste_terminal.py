"""The terminal section "Where the money went, and what would change it"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .fmt import pct, tokens, usd

BASIS_STYLE = {"measured": "green", "estimate": "yellow", "upper bound": "magenta"}
MAX_CAP_GROUPS = 6


def render_waste(report: dict[str, Any], console: Console) -> None:
    waste = report.get("waste")
    if not waste:
        return
    console.print()
    console.rule("[bold]Where the money went, and what would change it")
    _levers(report.get("levers") or [], console)
    _cache(waste, console)
    _prices(waste["what_if"], console)
    _context(waste["context"], console)
    _retries(waste["retries"], console)
    _loop_caps(waste["loop_caps"], console)


def where(example: dict[str, Any]) -> str:
    """``file:line`` of an example, the file shortened to its last two parts."""
    file = example.get("file")
    if not file:
        return example.get("group") or ""
    short = str(Path(*Path(file).parts[-2:]))
    return f"{short}:{example['line']}" if example.get("line") else short


def _levers(levers: list[dict[str, Any]], console: Console) -> None:
    if not levers:
        console.print("No lever found: no cache miss, wasted write, retry, long loop or long context in these records.")
        return
    table = Table(title="Levers, most dollars first (they overlap: do not add them up)", title_justify="left",
                  header_style="bold")
    for col, justify in (("#", "right"), ("lever", "left"), ("USD", "right"), ("share", "right"), ("basis", "left"),
                         ("confidence", "left")):
        table.add_column(col, justify=justify, no_wrap=col != "lever")
    table.add_column("evidence (e.g. file:line)", ratio=1, overflow="fold")
    for i, lv in enumerate(levers, 1):
        ev = lv["evidence"]
        first = f"\n[dim]e.g. {where(ev['examples'][0])}[/]" if ev.get("examples") else ""
        style = BASIS_STYLE.get(lv["basis"], "")
        table.add_row(str(i), lv["name"], usd(lv["usd"]), _share(lv["share"]), f"[{style}]{lv['basis']}[/]",
                      lv["confidence"], ev["summary"].replace("[", "\\[") + first)
    console.print(table)


def _share(share: float | None) -> str:
    return "<0.1%" if share is not None and 0 < share < 0.001 else pct(share)


def _cache(waste: dict[str, Any], console: Console) -> None:
    cache = waste["cache"]
    if not cache["calls"]:
        return
    misses = cache["misses"]
    causes = ", ".join(f"{k} {v['count']} ({usd(v['usd'])})" for k, v in misses["by_cause"].items())
    wasted = cache["wasted_writes"]
    no_cache = waste["what_if"]["no_cache_all_calls"]
    console.print(
        f"[bold]Prompt cache[/]: hit rate {pct(cache['hit_rate'])} over {cache['calls']:,} calls; "
        f"{misses['count']} misses, {tokens(misses['tokens'])} tokens, {usd(misses['usd'])}"
        + (f" ({causes})" if causes else "")
        + f"; {wasted['count']} writes never read ({tokens(wasted['tokens'])} tokens, {usd(wasted['usd'])}); "
        f"caching saved {usd(no_cache['caching_saved_usd'])} against none.",
        highlight=False,
    )
    ttl = waste["what_if"]["cache_ttl"]
    if ttl["calls"]:
        options = ", ".join(f"{k} {usd(v['usd'])}" for k, v in ttl["policies"].items())
        console.print(f"[bold]TTL what-if[/] ({ttl['calls']:,} calls with cache writes, actual {ttl['actual_policy']} "
                      f"{usd(ttl['actual_usd'])}): {options}; cheapest: {ttl['best']}.", highlight=False)
    for e in cache.get("examples", [])[:3]:
        gap = f", {e['gap_s']:.0f}s after the cache's last use" if e.get("gap_s") is not None else ""
        console.print(f"  miss {where(e)}: {e['cause']}, {tokens(e['tokens'])} tokens, {usd(e['usd'])}{gap}",
                      highlight=False)


def _prices(what_if: dict[str, Any], console: Console) -> None:
    for m in what_if["models"][:3]:
        if m["alternatives"]:
            alts = ", ".join(f"{a['model']} {usd(a['usd'])}" for a in m["alternatives"])
            console.print(f"[bold]Model what-if[/] (upper bound: another model's tokens would differ): {m['model']} "
                          f"{usd(m['actual_usd'])} over {m['calls']:,} calls; at {alts}.", highlight=False)
    b = what_if["batch"]
    if b["calls"]:
        console.print(f"[bold]Batch what-if[/] (estimate, today's prices): {b['calls']:,} calls {usd(b['standard_usd_today'])}"
                      f" standard, {usd(b['batch_usd_today'])} as batches; {b['batchable']['calls']:,} of them are calls"
                      f" nothing waits on (saving {usd(b['batchable']['saving_usd'])}).", highlight=False)


def _context(ctx: dict[str, Any], console: Console) -> None:
    if not ctx["session_count"]:
        return
    top = ctx["sessions"][0]
    console.print(f"[bold]Context[/]: {ctx['session_count']} sessions; the largest prompt {tokens(top['prompt_max'])} tokens "
                  f"(grows {tokens(top['growth_per_call'])} per call); {ctx['compactions']} compaction(s).", highlight=False)
    for s in ctx["sessions"]:
        for c in s["compactions"]:
            console.print(f"  compaction {where(c)}: prompt {tokens(c['prompt_before'])} -> {tokens(c['prompt_after'])}"
                          f" tokens; cost per call {usd(c['cost_per_call_before'])} -> {usd(c['cost_per_call_after'])}"
                          f" ({c['calls_before']} calls before, {c['calls_after']} after)", highlight=False)


def _retries(r: dict[str, Any], console: Console) -> None:
    if not (r["failed_calls"] or r["retry_events"] or r["retried_calls"]):
        return
    console.print(f"[bold]Retries[/]: {r['failed_calls']} failed attempts billed {usd(r['failed_usd'])}; "
                  f"{r['retried_calls']} calls were retries; {r['retry_events']} retry events "
                  f"({r['retry_wait_s']:.0f}s waiting).", highlight=False)


def _loop_caps(groups: list[dict[str, Any]], console: Console) -> None:
    capped = [g for g in groups if g["caps"]][:MAX_CAP_GROUPS]
    if not capped:
        return
    table = Table(title="Loop-cap what-if (a cap of N turns per run)", title_justify="left", header_style="bold")
    for col in ("group", "runs", "turns p50/p90/max", "cap N", "runs capped", "successes lost", "saved", "saved on failed",
                "$/solved after", "basis"):
        table.add_column(col, justify="left" if col in ("group", "basis") else "right")
    for g in capped:
        name = f"{g['model']} / {g['harness']}" + (f" / {g['benchmark']}" if g["benchmark"] else "")
        t = g["turns"]
        for i, c in enumerate(g["caps"]):
            first = i == 0
            table.add_row(name if first else "", f"{g['runs']:,}" if first else "",
                          f"{t['p50']}/{t['p90']}/{t['max']}" if first else "", str(c["cap"]), str(c["runs_capped"]),
                          str(c["successes_lost"]), usd(c["saved_usd"]), usd(c["saved_on_failed_usd"]),
                          usd(c["cost_per_success_after"]), g["basis"].split(":")[0] if first else "")
    console.print(table)
