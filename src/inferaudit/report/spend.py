"""Spend views (``inferaudit spend``) in the terminal and as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from . import htmlfmt as fmt

HERE = Path(__file__).parent


def _label(value: Any) -> str:
    return "(none)" if value is None else str(value)


def render_spend_terminal(result: dict[str, Any], console: Console) -> None:
    by = result["by"]
    table = Table(title=f"Spend per {result['period']} by {', '.join(by)}", title_justify="left")
    for name in ("period", *by):
        table.add_column(name)
    for name in ("calls", "input", "cache read", "output", "cost"):
        table.add_column(name, justify="right")
    for row in result["rows"]:
        cost = fmt.usd(row["cost_usd"]) if row["cost_usd"] is not None else "unpriced"
        if row["unpriced_calls"] and row["cost_usd"] is not None:
            cost += f" (+{row['unpriced_calls']} unpriced)"
        table.add_row(row["period"], *(_label(row[b]) for b in by), f"{row['calls']:,}", fmt.compact(row["input"]),
                      fmt.compact(row["cache_read"]), fmt.compact(row["output"]), cost)
    console.print(table)
    note = f"; {result['unpriced_calls']:,} call(s) of unknown models, not counted as $0" if result["unpriced_calls"] else ""
    if result.get("undated_calls"):
        note += f"; {result['undated_calls']:,} call(s) without a time, not in any period"
    console.print(f"total {fmt.usd(result['total_usd'])} over {sum(r['calls'] for r in result['rows']):,} calls{note}",
                  highlight=False)


def render_spend_html(result: dict[str, Any]) -> str:
    by = result["by"]
    head = "".join(f"<th>{fmt.esc(h)}</th>" for h in ("period", *by)) + \
        "".join(f'<th class="num">{h}</th>' for h in ("calls", "input", "cache read", "output", "cost"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{fmt.esc(_label(r[c]))}</td>" for c in ("period", *by))
        + f'<td class="num">{fmt.integer(r["calls"])}</td><td class="num">{fmt.compact(r["input"])}</td>'
        f'<td class="num">{fmt.compact(r["cache_read"])}</td><td class="num">{fmt.compact(r["output"])}</td>'
        f'<td class="num">{fmt.usd(r["cost_usd"]) if r["cost_usd"] is not None else "unpriced"}</td></tr>'
        for r in result["rows"])
    css = (HERE / "report.css").read_text(encoding="utf-8")
    title = f"Spend per {fmt.esc(result['period'])} by {fmt.esc(', '.join(by))}"
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{title}</title><style>{css}</style></head><body><main class=\"wrap\"><h1>{title}</h1>"
            f'<p class="lede">Total {fmt.usd(result["total_usd"])}; {fmt.integer(result["unpriced_calls"])} call(s) of '
            f"models without prices (not counted as $0).</p><table><thead><tr>{head}</tr></thead><tbody>{rows}"
            "</tbody></table></main></body></html>")
