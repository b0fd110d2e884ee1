"""``spec bench`` against two loopback servers that speak vLLM's shapes: one plain, one speculative.

The doubles stream OpenAI chunks and a final usage chunk (with vLLM's per-request
``metrics.speculative_decoding`` on the speculative one) and serve vLLM's ``/metrics``
counters, so the runner, the summary, the outputs and the ledger are checked without a model.
The real servers are in test_serverbench_model.py (serve-model) and test_vllm_cpu.py (vLLM).
"""

from __future__ import annotations

import asyncio
import json

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.ledger import Ledger
from inferaudit.providers.spec_counters import SpecCounters
from inferaudit.speculative.prompts import prompt_mix
from inferaudit.speculative.serverbench import BenchConfig, Endpoint, run_bench, summarize
from inferaudit.speculative.serverbench.ledger import record
from inferaudit.speculative.serverbench.output import chart, to_json
from inferaudit.testing.app_thread import AppThread

DRAFTS, ACCEPTED, STEPS = 10, 6, 3  # per speculative request


class FakeServer:
    """Streams ``words`` one chunk each; ``spec`` adds vLLM's per-request metrics and /metrics counters."""

    def __init__(self, spec: bool, delay: float, differ_on: str | None = None):
        self.spec, self.delay, self.differ_on = spec, delay, differ_on
        self.served = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        assert body["stream"] and body["stream_options"] == {"include_usage": True} and body["temperature"] == 0
        text = body["messages"][0]["content"][:40]
        words = (text + (" DIFFERENT" if self.differ_on and self.differ_on in text else "")).split()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
        for word in words:
            await asyncio.sleep(self.delay)
            delta = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
            await response.write(b"data: " + orjson.dumps({**base, **delta}) + b"\n\n")
        final = {**base, "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": len(words),
                                                  "total_tokens": 50 + len(words)}}
        if self.spec:
            final["metrics"] = {"speculative_decoding": {
                "mean_acceptance_length": 1 + ACCEPTED / STEPS, "draft_acceptance_rate": ACCEPTED / DRAFTS,
                "acceptance_histogram": [0, 1, 1, 1], "num_spec_steps": STEPS,
                "num_accepted_draft_tokens": ACCEPTED, "num_draft_tokens": DRAFTS, "num_spec_tokens": 3}}
        self.served += 1
        await response.write(b"data: " + orjson.dumps(final) + b"\n\n" + b"data: [DONE]\n\n")
        return response

    async def metrics(self, request: web.Request) -> web.Response:
        if not self.spec:
            return web.Response(status=404)
        n = self.served
        lines = ["# TYPE vllm:spec_decode_num_drafts counter",
                 f'vllm:spec_decode_num_drafts_total{{engine="0",model_name="smol"}} {float(n * STEPS)}',
                 "# TYPE vllm:spec_decode_num_draft_tokens counter",
                 f'vllm:spec_decode_num_draft_tokens_total{{engine="0",model_name="smol"}} {float(n * DRAFTS)}',
                 "# TYPE vllm:spec_decode_num_accepted_tokens counter",
                 f'vllm:spec_decode_num_accepted_tokens_total{{engine="0",model_name="smol"}} {float(n * ACCEPTED)}',
                 "# TYPE vllm:spec_decode_num_accepted_tokens_per_pos counter"]
        lines += [f'vllm:spec_decode_num_accepted_tokens_per_pos_total{{engine="0",model_name="smol",position="{p}"}} '
                  f'{float(n * c)}' for p, c in enumerate((3, 2, 1))]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


async def _serve(*servers: FakeServer):
    started = [TestServer(s.app(), host="127.0.0.1") for s in servers]
    for s in started:
        await s.start_server()
    return started


@pytest.fixture
async def endpoints():
    prompts = prompt_mix(2, classes=("chat", "edit"))
    base, spec = FakeServer(False, 0.008), FakeServer(True, 0.001, differ_on=prompts[0].messages[0]["content"][:20])
    started = await _serve(base, spec)
    yield prompts, [Endpoint("plain", str(started[0].make_url("/v1"))), Endpoint("ngram", str(started[1].make_url("")))]
    for s in started:
        await s.close()


async def test_bench_measures_each_class_reads_acceptance_both_ways_and_counts_mismatches(endpoints, tmp_path):
    prompts, eps = endpoints
    seen = []
    run = await run_bench(BenchConfig(eps, "smol", prompts, concurrency=[1, 2], max_tokens=32), seen.append)
    assert len(run.results) == len(seen) == 2 * len(prompts) * 2 and all(r.ok for r in run.results)
    rows = summarize(run)
    assert [(r.concurrency, r.cls, r.endpoint) for r in rows][:6] == [
        (1, "chat", "plain"), (1, "chat", "ngram"), (1, "edit", "plain"), (1, "edit", "ngram"),
        (1, "all", "plain"), (1, "all", "ngram")]
    chat_plain, chat_spec = rows[0], rows[1]
    assert chat_plain.spec_requests is None and chat_plain.spec_metrics is None  # no acceptance data
    assert "no /metrics (HTTP 404)" in chat_plain.metrics_note
    assert chat_spec.spec_requests.acceptance_rate == pytest.approx(ACCEPTED / DRAFTS)
    assert chat_spec.spec_requests == SpecCounters("vllm", 2 * DRAFTS, 2 * ACCEPTED, 2 * STEPS, (6, 4, 2))
    assert (chat_spec.spec_metrics.draft_tokens, chat_spec.spec_metrics.accepted_tokens) == (2 * DRAFTS, 2 * ACCEPTED)
    assert chat_spec.spec_metrics.accepted_per_position == (6, 4, 2)
    assert chat_spec.compared == 2 and chat_spec.mismatches == [prompts[0].id]
    assert rows[3].mismatches == [] and rows[3].compared == 2  # edit: identical outputs
    assert chat_spec.speedup == pytest.approx(chat_spec.tokens_per_s / chat_plain.tokens_per_s)
    assert chat_spec.speedup > 1  # 8 ms against 1 ms per token
    assert chat_plain.ttft_p50 > 0 and chat_plain.itl_p50 > 0 and chat_plain.tokens_per_s > 0
    rendered = json.loads(json.dumps(to_json(run, rows)))
    assert rendered["summary"][0]["acceptance"] is None and rendered["summary"][1]["acceptance"] == "reported"
    assert len(rendered["requests"]) == len(run.results)
    svg = chart(rows, "chat", "plain")
    assert svg.startswith("<svg") and "ngram" in svg and "x</text>" in svg


async def test_each_request_becomes_a_call_with_its_counters_once(endpoints, tmp_path):
    prompts, eps = endpoints
    run = await run_bench(BenchConfig(eps, "smol", prompts, max_tokens=32))
    path = tmp_path / "ledger.duckdb"
    assert record(run, path) == len(run.results)
    record(run, path)  # again: nothing doubles
    with Ledger(path, read_only=True) as ledger:
        rows = ledger.con.execute("""SELECT tags->>'endpoint', feature, count(*), sum(spec_draft_tokens),
                                            sum(spec_accepted_tokens), sum(spec_steps), min(output)
                                     FROM calls WHERE source = 'spec-bench' GROUP BY ALL ORDER BY ALL""").fetchall()
    assert rows == [("ngram", "chat", 2, 2 * DRAFTS, 2 * ACCEPTED, 2 * STEPS, rows[0][6]),
                    ("ngram", "edit", 2, 2 * DRAFTS, 2 * ACCEPTED, 2 * STEPS, rows[1][6]),
                    ("plain", "chat", 2, None, None, None, rows[2][6]),
                    ("plain", "edit", 2, None, None, None, rows[3][6])]


async def test_warm_up_prompts_reach_every_endpoint_before_the_run_and_are_not_recorded():
    prompts, warm = prompt_mix(2, classes=("chat",)), prompt_mix(1, classes=("edit",))
    servers = FakeServer(False, 0.001), FakeServer(True, 0.001)
    started = await _serve(*servers)
    try:
        eps = [Endpoint(label, str(s.make_url("/v1"))) for label, s in zip(("plain", "ngram"), started)]
        run = await run_bench(BenchConfig(eps, "smol", prompts, max_tokens=8, warmup_prompts=warm))
    finally:
        for s in started:
            await s.close()
    # the start-up request, the warm-up prompt, one short request before the batch, the measured two
    assert [s.served for s in servers] == [1 + 1 + 1 + 2] * 2
    assert sorted(r.prompt_id for r in run.results) == sorted(p.id for p in prompts * 2)
    spec_batches = [m for m in run.metrics if m.endpoint == "ngram"]
    assert spec_batches[0].counters.draft_tokens == 2 * DRAFTS  # /metrics deltas leave the warm-up out


async def test_an_endpoint_that_is_down_fails_the_warm_up_with_its_name(endpoints):
    prompts, eps = endpoints
    with pytest.raises(ConnectionError, match="endpoint gone"):
        await run_bench(BenchConfig([*eps, Endpoint("gone", "http://127.0.0.1:9")], "smol", prompts))


@pytest.mark.parametrize("args, message", [
    (["--endpoint", "nolabel"], "expected LABEL=http://host:port"),
    (["--base-url", "http://127.0.0.1:1", "--concurrency", "0"], "at least 1"),
    (["--base-url", "http://127.0.0.1:1", "--per-class", "99"], "fewer than per_class=99"),
    (["--base-url", "http://127.0.0.1:1", "--warm-per-class", "-1"], "0 or more"),
    (["--base-url", "http://127.0.0.1:1", "--extra-body", "{bad"], "Expecting property name"),
    (["--base-url", "http://a", "--endpoint", "base=http://b"], "labels must differ"),
])
def test_cli_bad_options_say_what_is_wrong(args, message):
    result = CliRunner().invoke(app, ["spec", "bench", "--model", "m", *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_end_to_end_writes_table_json_and_charts(tmp_path):
    with AppThread(FakeServer(False, 0.002).app()) as base, AppThread(FakeServer(True, 0.001).app()) as spec:
        result = CliRunner().invoke(app, [
            "spec", "bench", "--base-url", base.url, "--spec-url", spec.url + "/v1", "--model", "smol",
            "--per-class", "1", "--out", str(tmp_path), "--ledger", str(tmp_path / "l.duckdb")])
    assert result.exit_code == 0, result.output
    assert "no acceptance data" in result.output and "0.60" in result.output
    assert sorted(p.name for p in tmp_path.glob("*.svg")) == [f"spec-bench-{c}.svg" for c in ("all", "chat", "code", "context", "edit")]
    assert json.loads((tmp_path / "spec-bench.json").read_text())["config"]["baseline"] == "base"
    assert "recorded 8 calls" in result.output


@pytest.mark.parametrize("draft", ["ngram:2:3", "ngram:x", "ngram:4:4:4", "ngram:0", "early-exit:x", "medusa"])
def test_serve_model_refuses_a_draft_it_cannot_build_before_loading_anything(draft):
    result = CliRunner().invoke(app, ["serve-model", "--draft", draft, "--port", "1"])
    assert result.exit_code == 2 and "ngram[:MAX[:MIN]]" in " ".join(result.output.split())


@pytest.mark.parametrize(("args", "message"), [(["--k", "0"], "use 1..32"), (["--k", "33"], "use 1..32"),
                                               (["--cost-aware", "--adaptive-k"], "pick one"),
                                               (["--draft", "none", "--cost-aware"], "need a drafter"),
                                               (["--draft", "none", "--adaptive-k"], "need a drafter")])
def test_serve_model_refuses_a_k_policy_it_cannot_apply_before_loading_anything(args, message):
    result = CliRunner().invoke(app, ["serve-model", "--draft", "ngram", "--port", "1", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_ngram_sizes_are_vllms_prompt_lookup_max_and_min():
    from inferaudit.speculative.drafters import NGramDrafter

    context = [7, 1, 2, 3, 9, 9, 3, 5, 1, 2, 3]  # suffix 1 2 3 occurred before; suffix 3 also after "9 9"
    assert NGramDrafter(3, 3).propose(context, 2, 0.0).tokens == [9, 9]
    assert NGramDrafter(4, 4).propose(context, 2, 0.0).tokens == []  # no earlier 4-gram "3 5 1 2 3": no draft
    assert NGramDrafter(1, 1).propose(context, 2, 0.0).tokens == [5, 1]  # latest earlier "3"
