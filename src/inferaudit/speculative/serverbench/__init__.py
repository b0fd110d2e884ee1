"""``inferaudit spec bench``: baseline vs speculative OpenAI-compatible servers, per prompt class.

- :mod:`.client`: one streamed request, timed as bytes arrive;
- :mod:`.runner`: every endpoint, class by class, at each concurrency, with ``/metrics`` deltas;
- :mod:`.summary`: per-class medians, tok/s, speedup over the baseline, acceptance, greedy mismatches;
- :mod:`.output`: terminal table, JSON, one SVG chart per class;
- :mod:`.ledger`: each request as a Call with its speculative counters.
"""

from .client import RequestResult
from .runner import BenchConfig, BenchRun, Endpoint, run_bench
from .summary import ClassSummary, summarize

__all__ = ["BenchConfig", "BenchRun", "ClassSummary", "Endpoint", "RequestResult", "run_bench", "summarize"]
