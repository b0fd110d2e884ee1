"""The bench: run (model, harness, cache policy) triples on a verified task suite; outcomes land in the ledger.

::

    suite (suite.py, folders.py, humaneval.py)     what to attempt, and how it is judged
    triples file (triples.py)                      which triples, which harness knobs, which gateway
    harness adapters (harness.py, agent/)          one Protocol: run(Attempt) -> HarnessResult
    runner (runner.py, attempt.py)                 work trees, pool, limits, verifier, Runs, resume

Every model call goes through the gateway with the attempt's run id, task
and harness in attribution headers, so Calls and Runs meet in the ledger and
``inferaudit audit`` reports benchmarked triples beside imported logs.
Format and commands: ``docs/bench.md``.
"""

from .errors import BenchError, HarnessError, SuiteError, TriplesError
from .harness import ADAPTERS, CACHE_POLICIES, Attempt, Harness, HarnessResult
from .runner import RunOptions, Summary, run_bench
from .suite import Limits, Suite, Task, Verifier, load_suite
from .triples import Plan, Triple, load_triples, plan_from_dict

__all__ = [
    "ADAPTERS", "CACHE_POLICIES", "Attempt", "BenchError", "Harness", "HarnessError", "HarnessResult", "Limits",
    "Plan", "RunOptions", "Suite", "SuiteError", "Summary", "Task", "Triple", "TriplesError", "Verifier",
    "load_suite", "load_triples", "plan_from_dict", "run_bench",
]
