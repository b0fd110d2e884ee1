"""One eval end to end: the gateway (a running one, or one started here), the requests, the Runs in the ledger."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from ..bench.local_gateway import LocalGateway
from ..bench.results import write_records
from ..ledger import Ledger
from ..pricing import PriceBook
from .candidates import CandidatesPlan
from .evalset import EvalSet
from .runner import EvalRun, ItemResult, run_eval, runs_of


def evaluate(evalset: EvalSet, plan: CandidatesPlan, *, ledger: Path | None = None, book: PriceBook | None = None,
             parallel: int = 4, timeout_s: float = 300.0, source_file: str | None = None,
             on_result: Callable[[ItemResult], None] | None = None) -> EvalRun:
    """Run the eval and write its Runs to ``ledger`` (a gateway started from a config records its calls there)."""
    book = book or PriceBook.load()
    with ExitStack() as stack:
        opened = stack.enter_context(Ledger(ledger))
        stack.callback(opened.bump_generation)  # once, after the gateway has flushed its calls (LIFO)
        url = plan.gateway_url
        if plan.gateway_config is not None:
            url = stack.enter_context(LocalGateway(plan.gateway_config, opened.path)).url
        assert url is not None  # the candidates file names a gateway (checked when it is read)
        run = run_eval(evalset, plan, url, book=book, parallel=parallel, timeout_s=timeout_s, on_result=on_result)
        write_records(opened, runs_of(run, source_file), bump=False)
    return run
