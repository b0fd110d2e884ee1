"""Benchmark requests as Calls in the ledger, with their speculative counters.

Each request becomes one Call (source ``spec-bench``): its token buckets from the server's
usage, its client-side timestamps, and ``spec_draft_tokens`` / ``spec_accepted_tokens`` /
``spec_steps`` when the server reported them, so ``inferaudit spec alerts`` and
``spec advise --from-ledger`` read benchmark traffic like live traffic. The prompt class is
the Call's ``feature`` (the slice the alerts group by); the endpoint is a tag.
Call ids are ``spec-bench:<run>:<endpoint>:c<concurrency>:<prompt>``, so recording one run
twice changes nothing.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from ...ledger import Ledger
from ...ledger.staging import StageWriter, load_staged
from ...providers.openai_chat import map_usage
from ...usage import Call, Tokens
from .client import RequestResult
from .runner import BenchRun

SOURCE = "spec-bench"


def to_call(result: RequestResult, run_id: str, model: str, url: str) -> Call:
    started = result.started_at
    at = lambda t: None if t is None else started + timedelta(seconds=t - result.start)  # noqa: E731
    try:
        tokens = map_usage(result.usage) if result.usage else Tokens()
    except (TypeError, ValueError):
        tokens = Tokens()
    spec = result.spec.call_fields() if result.spec else {}
    return Call(
        call_id=f"{SOURCE}:{run_id}:{result.endpoint}:c{result.concurrency}:{result.prompt_id}",
        source=SOURCE, provider="self-hosted", model=model, harness=None, tokens=tokens, run_id=run_id,
        started_at=started, first_token_at=at(result.first_token), ended_at=at(result.end),
        status="ok" if result.ok else "error", feature=result.cls,
        tags={"endpoint": result.endpoint, "url": url, "concurrency": str(result.concurrency), "prompt_id": result.prompt_id},
        spec_draft_tokens=spec.get("spec_draft_tokens"), spec_accepted_tokens=spec.get("spec_accepted_tokens"),
        spec_steps=spec.get("spec_steps"),
    )


def record(run: BenchRun, ledger_path: str | Path | None) -> int:
    """Write every request of ``run`` as a Call; returns the number of calls written."""
    run_id = run.started_at.strftime("%Y%m%dT%H%M%S%fZ")
    urls = {e.label: e.url for e in run.config.endpoints}
    with tempfile.TemporaryDirectory(prefix="spec-bench-") as stage, Ledger(ledger_path) as ledger:
        writer = StageWriter(Path(stage), "bench")
        for result in run.results:
            writer.add(to_call(result, run_id, run.config.model, urls[result.endpoint]))
        writer.close()
        ledger.con.execute("BEGIN")
        try:
            written = load_staged(ledger.con, Path(stage))["calls"]
            ledger.bump_generation()
            ledger.con.execute("COMMIT")
        except Exception:
            ledger.con.execute("ROLLBACK")
            raise
    return written
