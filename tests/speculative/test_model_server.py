"""The local model server: token-identical to transformers' greedy generate, exact usage, behind the gateway."""

from __future__ import annotations

import openai
import pytest

from inferaudit.ledger import Ledger
from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.server import ModelServer

from inferaudit.gateway import GatewayConfig
from inferaudit.testing.app_thread import AppThread
from inferaudit.testing.gateway import GatewayThread

pytestmark = pytest.mark.model
PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


class ServerThread(AppThread):
    def __init__(self, loaded, drafter=None, policy=None):
        from inferaudit.speculative.engine import KPolicy

        super().__init__(ModelServer(loaded, drafter, policy or KPolicy()).app())


@pytest.mark.parametrize("prompt", [PROMPT, [{"role": "user", "content": "Write a short poem about the sea."}]])
def test_greedy_decode_is_token_identical_to_transformers_generate(smollm2, prompt):
    ids = smollm2.chat_ids(prompt)
    eos = smollm2.model.generation_config.eos_token_id
    stop = set(eos) if isinstance(eos, list) else {eos}
    ours = list(decode(smollm2.backend(), ids, Sampling(max_tokens=48), stop_ids=stop))
    import torch

    theirs = smollm2.model.generate(torch.tensor([ids]), max_new_tokens=48, do_sample=False)[0, len(ids):].tolist()
    assert ours == theirs and len(ours) > 5


def test_openai_sdk_through_gateway_to_the_real_model(smollm2, tmp_path):
    ledger = tmp_path / "model.duckdb"
    with ServerThread(smollm2) as server:
        config = GatewayConfig.from_dict({
            "ledger": str(ledger),
            "providers": {"local": {"base_url": server.url, "protocol": "openai-chat"}},
            "models": {"smol": [{"provider": "local", "model": "smollm2-135m-instruct"}]},
            "ledger_flush_s": 0.05,
        })
        with GatewayThread(config) as gateway:
            client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
            reply = client.chat.completions.create(model="smol", messages=PROMPT, max_tokens=16)
            streamed = list(client.chat.completions.create(model="smol", messages=PROMPT, max_tokens=16, stream=True,
                                                           stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert "Paris" in reply.choices[0].message.content and text == reply.choices[0].message.content
    prompt_len = len(smollm2.chat_ids(PROMPT))
    assert reply.usage.prompt_tokens == prompt_len == streamed[-1].usage.prompt_tokens
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT model, input, cache_read, output, status FROM calls ORDER BY started_at").fetchall()
    assert rows == [("smollm2-135m-instruct", prompt_len, 0, reply.usage.completion_tokens, "ok")] * 2


def test_anthropic_sdk_through_gateway_translated_to_the_real_model(smollm2, tmp_path):
    """An Anthropic-format client (as Claude Code is) answered by the OpenAI-compatible local model."""
    import anthropic

    ledger = tmp_path / "model.duckdb"
    with ServerThread(smollm2) as server:
        config = GatewayConfig.from_dict({
            "ledger": str(ledger),
            "providers": {"local": {"base_url": server.url, "protocol": "openai-chat"}},
            "default_providers": {"anthropic-messages": "local"},
            "ledger_flush_s": 0.05,
        })
        with GatewayThread(config) as gateway:
            client = anthropic.Anthropic(base_url=gateway.url, api_key="x", max_retries=0)
            msg = client.messages.create(model="smollm2-135m-instruct", max_tokens=16, messages=PROMPT)
            with client.messages.stream(model="smollm2-135m-instruct", max_tokens=16, messages=PROMPT) as stream:
                final = stream.get_final_message()
    assert "Paris" in msg.content[0].text and final.content[0].text == msg.content[0].text
    prompt_len = len(smollm2.chat_ids(PROMPT))
    assert msg.usage.input_tokens == prompt_len and final.usage.output_tokens == msg.usage.output_tokens
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT input, output, status FROM calls ORDER BY started_at").fetchall()
    assert rows == [(prompt_len, msg.usage.output_tokens, "ok")] * 2


def test_speculative_server_reports_vllm_metrics_that_reach_the_ledger(smollm2, tmp_path):
    from inferaudit.speculative.drafters import NGramDrafter
    from inferaudit.speculative.engine import KPolicy

    prompt = [{"role": "user", "content": "Repeat exactly: one two three four, one two three four, one two three four."}]
    ledger = tmp_path / "spec.duckdb"
    with ServerThread(smollm2, NGramDrafter(3), KPolicy(k=4)) as server:
        config = GatewayConfig.from_dict({
            "ledger": str(ledger), "providers": {"local": {"base_url": server.url, "protocol": "openai-chat"}},
            "default_providers": {"openai-chat": "local"}, "ledger_flush_s": 0.05})
        with GatewayThread(config) as gateway:
            client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
            raw = client.chat.completions.with_raw_response.create(model="smollm2-135m-instruct", messages=prompt, max_tokens=30)
    spec = raw.http_response.json()["metrics"]["speculative_decoding"]
    assert spec["num_draft_tokens"] > 0 and spec["num_accepted_draft_tokens"] <= spec["num_draft_tokens"]
    assert spec["mean_acceptance_length"] == pytest.approx(1 + spec["num_accepted_draft_tokens"] / spec["num_spec_steps"])
    with Ledger(ledger, read_only=True) as opened:
        row = opened.con.execute("SELECT spec_draft_tokens, spec_accepted_tokens, spec_steps FROM calls").fetchone()
    assert row == (spec["num_draft_tokens"], spec["num_accepted_draft_tokens"], spec["num_spec_steps"])


def test_serve_model_answers_from_its_own_process_and_stops_on_sigterm(smollm2, tmp_path):
    # the real command: HTTP on a background thread, generation on the thread that loaded the model
    from inferaudit.testing.servers import serve_model, wait_ready

    log = tmp_path / "serve-model.log"
    with serve_model(log, "--backend", "transformers", "--draft", "ngram:32:3", "--k", "4") as (proc, url):
        wait_ready([(proc, url, log)])
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused")
        for _ in range(2):  # a second request runs on the same generation thread
            stream = client.chat.completions.create(model="smollm2", messages=PROMPT, max_tokens=24, stream=True,
                                                    temperature=0, stream_options={"include_usage": True})
            chunks = list(stream)
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            ours = list(decode(smollm2.backend(), smollm2.chat_ids(PROMPT), Sampling(max_tokens=24), smollm2.stop_ids))
            assert text == smollm2.tokenizer.decode([t for t in ours if t not in smollm2.stop_ids], skip_special_tokens=True)
            assert chunks[-1].usage.completion_tokens == len(ours)
        proc.terminate()
        proc.wait(timeout=30)  # raises TimeoutExpired if SIGTERM left it hanging


def test_a_failed_generation_is_reported_and_the_next_one_still_runs(capsys):
    import queue

    from inferaudit.speculative.server import run_jobs

    jobs, done = queue.SimpleQueue(), []

    def fails():
        raise ValueError("context full")

    for job in (fails, lambda: done.append("second")):
        jobs.put(job)
    run_jobs(jobs, lambda: not done, poll_s=0.01)
    assert done == ["second"]
    assert "ValueError: context full" in capsys.readouterr().err
