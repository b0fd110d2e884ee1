"""The routing evaluation (``inferaudit route eval``) in the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from . import fmt


def _verdict(score: dict[str, Any], recommended: str | None) -> str:
    if score["candidate"] == recommended:
        return "[green]recommended[/]"
    if score["dominated_by"]:
        return f"[red]dominated[/] by {', '.join(score['dominated_by'])}"
    if not score["meets_bar"]:
        return "[yellow]below bar[/]"
    if score["cost_usd"] is None:
        return "unpriced"
    return "fallback"


def _latency(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render_route_terminal(report: dict[str, Any], console: Console) -> None:
    for feature in report["features"]:
        table = Table(title=f"Feature {feature['feature']}: quality bar {fmt.pct(feature['bar'])}", title_justify="left")
        for name in ("candidate", "model", "tier"):
            table.add_column(name)
        for name in ("quality", "passed", "errors", "$ / item", "p50 latency", "p95 latency"):
            table.add_column(name, justify="right")
        table.add_column("verdict")
        for s in sorted(feature["scores"], key=lambda s: (-s["quality"], s["cost_per_item_usd"] or 0)):
            cost = "unpriced" if s["cost_per_item_usd"] is None else f"${s['cost_per_item_usd']:.6f}"
            table.add_row(s["candidate"], s["model"], s["tier"] or "", fmt.pct(s["quality"]),
                          f"{s['passed']}/{s['items']}", str(s["errors"]), cost, _latency(s["latency_p50_s"]),
                          _latency(s["latency_p95_s"]), _verdict(s, feature["recommended"]))
        console.print(table)
        route = feature["recommended"] or "none"
        fallbacks = f", then {', '.join(feature['fallbacks'])}" if feature["fallbacks"] else ""
        console.print(f"route for {feature['feature']} (alias {feature['alias']}): [bold]{route}[/]{fallbacks}: "
                      f"{feature['why']}", highlight=False)
    errors = [i for i in report["items"] if i["outcome"] == "error"]
    if errors:
        console.print(f"[yellow]{len(errors)} request(s) failed[/], counted as not passed; first: "
                      f"{errors[0]['candidate']}/{errors[0]['item']}: {errors[0]['detail']}", highlight=False)
    for problem in report["left_out"]:
        console.print(f"[yellow]left out:[/] {problem}", highlight=False)
