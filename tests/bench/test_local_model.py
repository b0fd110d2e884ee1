"""The real local model (SmolLM2-135M behind serve-model's server) as a bench model: outcomes recorded as they are.

A 135M model cannot drive a coding agent; the point is that its attempts
run through the gateway like any other, are verified by the hidden tests,
and land in the ledger with the calls' real token counts, failures included.
"""

from __future__ import annotations

import pytest

from inferaudit.bench import RunOptions, plan_from_dict, run_bench
from inferaudit.ledger import Ledger
from inferaudit.speculative.server import ModelServer
from inferaudit.testing.app_thread import AppThread

pytestmark = pytest.mark.model


def test_smollm2_attempts_are_run_verified_and_recorded(starter, smollm2, tmp_path):
    suite = starter.only(["fix-median", "fix-paginate"])
    with AppThread(ModelServer(smollm2).app()) as local:
        plan = plan_from_dict({
            "gateway": {"config": {"providers": {"local": {"base_url": local.url, "protocol": "openai-chat"}},
                                   "default_providers": {"openai-chat": "local"}}},
            "harnesses": {"agent": {"adapter": "builtin", "max_turns": 3, "max_tokens": 64}},
            "triples": [{"model": "smollm2-135m-instruct", "harness": "agent", "cache_policy": "none"}]})
        summary = run_bench(suite, plan, RunOptions(ledger=tmp_path / "l.duckdb"))
    assert summary.planned == 2 and len(summary.reports) == 2
    with Ledger(tmp_path / "l.duckdb", read_only=True) as opened:
        runs = opened.con.execute("SELECT run_id, outcome, verified_by FROM runs ORDER BY task_id").fetchall()
        calls = opened.con.execute("SELECT run_id, harness, model, status, input, output FROM calls").fetchall()
    assert len(runs) == 2
    for report, (run_id, outcome, verified_by) in zip(sorted(summary.reports, key=lambda r: r.plan.task.id), runs):
        # what the hidden tests said, or the limit that stopped it: never a guess
        assert (outcome, verified_by) == (report.run.outcome, report.run.verified_by)
        if report.result.stop == "finished":
            assert verified_by == "hidden-tests" and outcome in ("resolved", "failed")
        elif report.result.stop in ("max_turns", "wall", "cost"):
            assert (outcome, verified_by) == ("failed", f"limit:{report.result.stop}")
        mine = [c for c in calls if c[0] == run_id]
        assert mine and all(h == "agent" and m == "smollm2-135m-instruct" for _, h, m, *_ in mine)
        assert all(status == "ok" and tokens_in > 0 and tokens_out > 0 for *_, status, tokens_in, tokens_out in mine)
        assert len(mine) == report.result.calls
