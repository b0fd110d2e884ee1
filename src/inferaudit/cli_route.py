"""``inferaudit route eval``: which route is the cheapest that still meets the quality bar, per feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .ledger import ENV_VAR, LedgerError, default_path

route_app = typer.Typer(help="Quality-aware routing: evaluate candidate models per feature through the gateway.",
                        no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@route_app.command("eval")
def route_eval(
    evalset_path: Path = typer.Argument(..., metavar="EVALSET", help="Eval set (YAML or JSON Lines: items with a prompt and a verifier)"),
    candidates: Path = typer.Option(..., "--candidates", help="Candidates file (YAML: gateway, bar, candidates; see docs/route.md)"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=f"DuckDB ledger file for the Runs (and the calls, with gateway.config) [env {ENV_VAR}; default {default_path()}]"),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Price override file (YAML or JSON; see README)"),
    parallel: int = typer.Option(4, "--parallel", "-j", min=1, help="Requests in flight at once"),
    timeout_s: float = typer.Option(300.0, "--timeout", min=1, help="Seconds per request"),
    write_routes: Optional[Path] = typer.Option(None, "--write-routes", help="Set the recommended routes as model aliases in this gateway config (created with just models: when missing)"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (scores, recommendation, every item)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Run every item through every candidate, verify each answer, and recommend a route per feature.

    Exits 1 when some feature has no candidate over its bar.
    """
    from .pricing import PriceBook, PriceFileError
    from .route import RouteError, eval_report, load_candidates, load_evalset, recommend, route_table
    from .route import write_routes as write_table
    from .route.evaluate import evaluate
    from .report.route import render_route_terminal

    try:
        evalset = load_evalset(evalset_path)
        plan = load_candidates(candidates)
        book = PriceBook.load(prices)
    except (RouteError, PriceFileError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    total = len(evalset.items) * len(plan.candidates)
    with Progress(TextColumn("route eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=quiet or as_json, transient=True) as progress:
        bar = progress.add_task("eval", total=total)
        try:
            run = evaluate(evalset, plan, ledger=ledger_path, book=book, parallel=parallel, timeout_s=timeout_s,
                           source_file=str(evalset_path), on_result=lambda _: progress.advance(bar))
        except (RouteError, LedgerError) as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
    routes = recommend(run)
    report = eval_report(run, routes)
    if write_routes is not None:
        try:
            table = route_table(routes, plan)
            write_table(write_routes, table)
        except RouteError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        report["routes_written"] = {"file": str(write_routes), "models": table}
    if as_json:
        out.print_json(json.dumps(report))
    else:
        render_route_terminal(report, out)
        if write_routes is not None:
            out.print(f"wrote {len(report['routes_written']['models'])} route(s) to {write_routes}", highlight=False)
    if any(r.recommended is None for r in routes):
        raise typer.Exit(1)
