"""``spec bench`` end to end against ``inferaudit serve-model`` on loopback: plain vs the n-gram drafter."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.ledger import Ledger
from inferaudit.speculative.drafters import NGramDrafter
from inferaudit.speculative.engine import KPolicy
from inferaudit.speculative.policy import CostAwareK, measure_verify_cost
from inferaudit.speculative.server import ModelServer
from inferaudit.testing.app_thread import AppThread

pytestmark = pytest.mark.model


def test_spec_bench_reads_serve_models_counters_and_outputs_match(smollm2, tmp_path):
    plain = ModelServer(smollm2).app()
    ngram = ModelServer(smollm2, NGramDrafter(3), KPolicy(k=5)).app()
    calibration = smollm2.chat_ids([{"role": "user", "content": "Count from one to twenty, in words, one per line."}])
    cost_aware = ModelServer(smollm2, NGramDrafter(32, 3), CostAwareK(measure_verify_cost(smollm2.backend(), calibration, 6, 3))).app()
    with AppThread(plain) as base, AppThread(ngram) as spec, AppThread(cost_aware) as cost:
        result = CliRunner().invoke(app, [
            "spec", "bench", "--endpoint", f"plain={base.url}", "--endpoint", f"ngram={spec.url}/v1",
            "--endpoint", f"cost-aware={cost.url}/v1",
            "--model", "smollm2-135m-instruct", "--per-class", "1", "--max-tokens", "48",
            "--out", str(tmp_path), "--ledger", str(tmp_path / "bench.duckdb")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "spec-bench.json").read_text())
    rows = {(r["endpoint"], r["cls"]): r for r in report["summary"]}
    for cls in ("chat", "code", "context", "edit"):
        base_row, spec_row = rows["plain", cls], rows["ngram", cls]
        assert base_row["errors"] == spec_row["errors"] == 0
        assert base_row["acceptance"] is None  # the plain server sends no counters: no acceptance data
        counters = spec_row["spec_requests"]
        assert counters["source"] == "vllm" and counters["draft_tokens"] > 0 and counters["steps"] > 0
        assert 0 <= counters["accepted_tokens"] <= counters["draft_tokens"]
        assert spec_row["compared"] == 1 and spec_row["mismatches"] == []  # greedy: token-identical output
        assert spec_row["output_tokens"] == base_row["output_tokens"]
        assert spec_row["metrics_note"] == "no /metrics (HTTP 404)" and spec_row["spec_metrics"] is None
        assert rows["cost-aware", cls]["compared"] == 1 and rows["cost-aware", cls]["mismatches"] == []
    # the edit class copies its input: the n-gram drafter gets long accepted runs there
    assert rows["ngram", "edit"]["spec_requests"]["mean_acceptance_length"] > 1.5
    with Ledger(tmp_path / "bench.duckdb", read_only=True) as ledger:
        drafted = ledger.con.execute("""SELECT feature, spec_draft_tokens FROM calls
                                        WHERE tags->>'endpoint' = 'ngram' ORDER BY feature""").fetchall()
    by_class = {cls: rows["ngram", cls]["spec_requests"]["draft_tokens"] for cls in ("chat", "code", "context", "edit")}
    assert drafted == sorted(by_class.items())
