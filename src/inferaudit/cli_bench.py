"""``inferaudit bench``: run (model, harness, cache policy) triples on a task suite; check and list suites."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .ledger import ENV_VAR, LedgerError, default_path

bench_app = typer.Typer(help="Benchmark triples on a verified task suite; outcomes land in the ledger.",
                        no_args_is_help=True)
out = Console()
err = Console(stderr=True)

SUITE_HELP = "A suite folder (with suite.yaml) or a bundled suite: starter, humaneval"


def _suite(suite: str, tasks: Optional[str], limit: Optional[int]):
    from .bench import load_suite

    loaded = load_suite(suite)
    for problem in loaded.problems:
        err.print(f"[yellow]skipped:[/] {problem}", highlight=False)
    if tasks:
        loaded = loaded.only([t.strip() for t in tasks.split(",") if t.strip()])
    if limit:
        loaded.tasks = loaded.tasks[:limit]
    return loaded


@bench_app.command("run")
def bench_run(
    suite: str = typer.Argument(..., help=SUITE_HELP),
    triples: Path = typer.Option(..., "--triples", help="Triples file (YAML: gateway, harnesses, triples; see docs/bench.md)"),
    attempts: int = typer.Option(1, "--attempts", "-k", min=1, help="Attempts per (triple, task)"),
    parallel: int = typer.Option(1, "--parallel", "-j", min=1, help="Attempts running at once"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=f"DuckDB ledger file [env {ENV_VAR}; default {default_path()}]"),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Only these task ids (comma-separated)"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N tasks"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Keep each attempt's patch, transcript and verifier output here"),
    keep_trees: bool = typer.Option(False, "--keep-trees", help="Keep the attempts' work trees (with --work-dir)"),
    work_dir: Optional[Path] = typer.Option(None, "--work-dir", help="Where work trees are made [default: a temporary folder]"),
    executor: str = typer.Option("threads", "--executor", help="Where attempts run: threads (this process) or ray (an existing Ray cluster)"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address for --executor ray [env RAY_ADDRESS; default auto]"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Run every triple on every task, K attempts each; finished attempts are skipped on a re-run."""
    from .bench import BenchError, RunOptions, load_triples, run_bench

    try:
        loaded = _suite(suite, tasks, limit)
        plan = load_triples(triples)
    except BenchError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    options = RunOptions(attempts=attempts, parallel=parallel, ledger=ledger_path, work_dir=work_dir,
                         keep_trees=keep_trees, out=out_dir, executor=executor, ray_address=ray_address)
    counts: Counter[str] = Counter()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[outcomes]}"), console=err, disable=quiet, transient=False) as bar:
        task = bar.add_task(f"bench {loaded.name}", total=None, outcomes="")

        def started(todo: int, skipped: int) -> None:
            bar.update(task, total=todo)
            if skipped:
                err.print(f"{skipped} attempt(s) already in the ledger: skipped", highlight=False)

        def finished(report) -> None:
            counts[report.outcome] += 1
            bar.update(task, advance=1, outcomes=" ".join(f"{k} {v}" for k, v in sorted(counts.items())))

        try:
            summary = run_bench(loaded, plan, options, started=started, finished=finished)
        except BenchError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except LedgerError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
    for problem in summary.problems:
        err.print(f"[yellow]problem:[/] {problem}", highlight=False)
    _print_outcomes(summary)
    where = f" --ledger {ledger_path}" if ledger_path else ""
    err.print(f"ran {len(summary.reports)} attempt(s), skipped {summary.skipped}; "
              f"report: inferaudit audit{where} --no-import --benchmark {loaded.name}", highlight=False)


def _print_outcomes(summary) -> None:
    if not summary.reports:
        return
    rows: dict[str, Counter] = defaultdict(Counter)
    for report in summary.reports:
        rows[report.plan.triple.label][report.outcome] += 1
    table = Table("triple (model/harness/cache)", "resolved", "failed", "unknown", "cancelled")
    for label, c in sorted(rows.items()):
        table.add_row(label, *(str(c[k]) for k in ("resolved", "failed", "unknown", "cancelled")))
    out.print(table)


@bench_app.command("check")
def bench_check(
    suite: str = typer.Argument(..., help=SUITE_HELP),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Only these task ids (comma-separated)"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N tasks"),
    parallel: int = typer.Option(2, "--parallel", "-j", min=1),
) -> None:
    """Check that every task's hidden tests fail on its snapshot and pass with its reference solution."""
    from .bench import BenchError
    from .bench.check import check_suite

    try:
        loaded = _suite(suite, tasks, limit)
    except BenchError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    results = check_suite(loaded, parallel=parallel)
    bad = [r for r in results if not r.ok]
    for r in bad:
        err.print(f"[red]{r.task_id}:[/] {r.reason()}", highlight=False)
    err.print(f"{len(results) - len(bad)} of {len(results)} task(s) ok", highlight=False)
    if bad or loaded.problems:
        raise typer.Exit(1)


@bench_app.command("list")
def bench_list(suite: str = typer.Argument(..., help=SUITE_HELP)) -> None:
    """The tasks of a suite: id, kind, difficulty, limits."""
    from .bench import BenchError

    try:
        loaded = _suite(suite, None, None)
    except BenchError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    table = Table("task", "kind", "difficulty", "max turns", "wall s", "max $", title=f"{loaded.name}: {len(loaded.tasks)} tasks")
    for t in loaded.tasks:
        cost = f"{t.limits.max_cost_usd:g}" if t.limits.max_cost_usd is not None else "-"
        table.add_row(t.id, t.kind or "-", t.difficulty or "-", str(t.limits.max_turns), f"{t.limits.wall_s:g}", cost)
    out.print(table)
