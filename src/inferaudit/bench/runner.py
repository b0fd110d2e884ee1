"""``inferaudit bench run``: every (triple, task, attempt) of a plan, in a bounded pool, resumable.

Attempts already recorded in the ledger are skipped. Each attempt runs in
its own work tree on a worker thread; limits are enforced by the harness
(turns, wall time, cost) and checked again here. Runs are written from this
thread as attempts finish; the model calls reach the ledger through the
gateway. Interrupted (Ctrl-C): running attempts stop at their next step and
are not recorded, so the next run does them again.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..ledger import Ledger
from ..pricing import PriceBook
from . import results
from .attempt import AttemptPlan, AttemptReport, run_attempt
from .errors import BenchError
from .executors import make_executor
from .harness import Harness, adapter_class
from .local_gateway import LocalGateway
from .suite import Suite
from .triples import Plan, Triple


@dataclass(frozen=True)
class RunOptions:
    attempts: int = 1
    """Attempts per (triple, task)."""
    parallel: int = 1
    """Attempts running at once."""
    ledger: Path | None = None
    """Where Runs (and, with an in-process gateway, Calls) are written; None: the default ledger."""
    work_dir: Path | None = None
    """Where attempt work trees are made (default: a temporary folder)."""
    keep_trees: bool = False
    out: Path | None = None
    """When set, each attempt's patch, transcript and verifier output are kept here."""
    executor: str = "threads"
    """Where attempts run: ``threads`` (this process) or ``ray`` (an existing Ray cluster)."""
    ray_address: str | None = None
    """The Ray cluster (``--executor ray``): default ``RAY_ADDRESS``, else ``auto``."""


@dataclass
class Summary:
    planned: int = 0
    skipped: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Per-attempt trouble (harness errors, verifier errors), one line each."""
    reports: list[AttemptReport] = field(default_factory=list)


def plan_attempts(suite: Suite, plan: Plan, attempts: int) -> list[AttemptPlan]:
    return [AttemptPlan(suite.name, task, triple, n) for triple in plan.triples for task in suite.tasks
            for n in range(1, attempts + 1)]


def run_bench(suite: Suite, plan: Plan, options: RunOptions, *,
              started: Callable[[int, int], None] | None = None,
              finished: Callable[[AttemptReport], None] | None = None) -> Summary:
    """Run what is not yet in the ledger; ``started(todo, skipped)`` then ``finished(report)`` per attempt."""
    if options.attempts < 1 or options.parallel < 1:
        raise BenchError("attempts and parallel must be at least 1")
    harnesses = {name: adapter_class(spec.adapter, f"{plan.source}: harnesses.{name}").from_options(
        spec.options, f"{plan.source}: harnesses.{name}") for name, spec in plan.harnesses.items()}
    summary = Summary()
    everything = plan_attempts(suite, plan, options.attempts)
    summary.planned = len(everything)
    with ExitStack() as stack:
        ledger = stack.enter_context(Ledger(options.ledger))
        stack.callback(ledger.bump_generation)  # once, after the pool and the gateway are done (LIFO)
        done = results.finished_keys(ledger, suite.name)
        todo = [a for a in everything if a.key not in done]
        summary.skipped = len(everything) - len(todo)
        if started:
            started(len(todo), summary.skipped)
        if not todo:
            return summary
        gateway_url = plan.gateway_url
        if plan.gateway_config is not None:
            gateway_url = stack.enter_context(LocalGateway(plan.gateway_config, ledger.path)).url
        work = options.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="inferaudit-bench-")))
        in_process = options.executor == "threads"
        cancel = threading.Event() if in_process else None  # a Ray worker makes its own
        pool = make_executor(options.executor, options.parallel, options.ray_address)
        stack.callback(pool.close)
        pending: set[Future] = {
            pool.submit(_one, a, harnesses[a.triple.harness], _url(a.triple, gateway_url), work / "trees",
                        plan.api_key, cancel, options.keep_trees, options.out) for a in todo}
        try:
            while pending:
                finished_now, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished_now:
                    report = future.result()
                    _record(ledger, report, summary)
                    if finished:
                        finished(report)
        except BaseException:
            if cancel is not None:
                cancel.set()
            pool.cancel()
            raise
    return summary


def _one(a: AttemptPlan, harness: Harness, base_url: str, trees: Path, api_key: str, cancel: threading.Event | None,
         keep_tree: bool, out: Path | None) -> AttemptReport:
    """One attempt, in a worker thread or a Ray worker process (everything it gets is picklable)."""
    model = a.triple.model
    return run_attempt(a, harness, base_url=base_url, trees=trees, api_key=api_key,
                       price=lambda tokens: _price_book().cost(None, model, tokens),
                       cancel=cancel if cancel is not None else threading.Event(), keep_tree=keep_tree, out=out)


@functools.lru_cache(maxsize=1)
def _price_book() -> PriceBook:
    return PriceBook.load()


def _url(triple: Triple, gateway_url: str | None) -> str:
    url = triple.base_url or gateway_url
    if not url:
        raise BenchError(f"triple {triple.label}: no gateway URL")
    return url


def _record(ledger: Ledger, report: AttemptReport, summary: Summary) -> None:
    summary.reports.append(report)
    summary.outcomes[report.outcome] = summary.outcomes.get(report.outcome, 0) + 1
    if report.run is None:
        return
    results.write(ledger, report.run, report.event, bump=False)
    result, verdict = report.result, report.verdict
    if result.stop == "error":
        summary.problems.append(f"{report.plan.key}: harness error: {result.message}")
    elif verdict is not None and verdict.error:
        summary.problems.append(f"{report.plan.key}: verifier: {verdict.error}")
