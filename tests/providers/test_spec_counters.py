"""Speculative counters per server family, read from recorded responses (see data/README.md)."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.spec_counters import READERS, SpecCounters, positions_from_histogram, read_spec

CHAT = PROTOCOLS["openai-chat"]


def _last_chunk(data, name: str) -> dict:
    chunks = [json.loads(e.data) for e in data.events(data.bytes(name)) if e.data != "[DONE]"]
    return chunks[-1]


def test_vllm_final_stream_chunk(data):
    found = read_spec(_last_chunk(data, "openai-chat-stream-vllm-spec.sse"))
    assert found == SpecCounters("vllm", 129, 10, 43, (4, 3, 3))
    # the server's own derived figures, recomputed from the counts
    assert found.acceptance_rate == pytest.approx(0.07751937984496124)
    assert found.mean_acceptance_length == pytest.approx(1.2325581395348837)


def test_vllm_cpu_json_body_and_stream_agree(data):
    body = read_spec(data.json("openai-chat-vllm-cpu-ngram.json"))
    spec = data.json("openai-chat-vllm-cpu-ngram.json")["metrics"]["speculative_decoding"]
    assert body.source == "vllm" and body.draft_tokens == spec["num_draft_tokens"] > 0
    assert body.acceptance_rate == pytest.approx(spec["draft_acceptance_rate"])
    assert body.mean_acceptance_length == pytest.approx(spec["mean_acceptance_length"])
    assert sum(body.accepted_per_position) == body.accepted_tokens
    streamed = read_spec(_last_chunk(data, "openai-chat-stream-vllm-cpu-ngram.sse"))
    assert streamed == body  # same prompt, greedy: the same drafts and acceptances


def test_llamacpp_timings_have_no_step_count(data):
    found = read_spec(_last_chunk(data, "openai-chat-stream-llamacpp-spec.sse"))
    assert found == SpecCounters("llama.cpp", 604, 515, None)
    assert found.acceptance_rate == pytest.approx(515 / 604)
    assert found.mean_acceptance_length is None  # no steps: not guessed


def test_sglang_openai_sglext_spec_tokens_details(data):
    found = read_spec(data.json("openai-chat-sglang-spec-tokens-details.json"))
    assert found == SpecCounters("sglang", 215, 63, 43, (32, 18, 7, 3, 3))
    assert found.acceptance_rate == pytest.approx(0.2930232558139535)
    assert found.mean_acceptance_length == pytest.approx(2.4651162790697674)  # SGLang's completion / verify


def test_sglang_generate_meta_info_with_counts(data):
    found = read_spec(data.json("native/sglang-generate-meta-info-accept-counts.json"))
    assert (found.draft_tokens, found.accepted_tokens, found.steps) == (144, 81, 36)
    assert found.acceptance_rate == pytest.approx(0.5625)
    assert found.mean_acceptance_length == pytest.approx(3.25)


def test_sglang_verify_count_only_derives_accepted_but_not_drafted(data):
    found = read_spec(data.json("native/sglang-generate-meta-info-verify-only.json"))
    assert (found.draft_tokens, found.accepted_tokens, found.steps) == (None, 512 - 160, 160)
    assert found.acceptance_rate is None  # no draft count: no rate, never a made-up one
    assert found.mean_acceptance_length == pytest.approx(512 / 160)


def test_sglext_zero_filled_counts_beside_verify_steps_are_not_zero_acceptance():
    # SGLang's sglext fills counts it lacks with 0; with verify steps that means "not given"
    body = {"sglext": {"spec_tokens_details": {"spec_accept_length": 3.0, "spec_num_correct_drafts": 0,
                                               "spec_num_proposed_drafts": 0, "spec_verify_ct": 10}}}
    found = read_spec(body)
    assert (found.draft_tokens, found.accepted_tokens, found.steps) == (None, 20, 10)


@pytest.mark.parametrize("name", ["openai-chat-azure-gpt-4o-tool-call-cached.json"])
def test_a_response_without_counters_has_no_acceptance_data(data, name):
    assert read_spec(data.json(name)) is None
    assert "spec_draft_tokens" not in CHAT.usage(data.json(name)).extra


def test_vllm_plain_server_metrics_null_is_no_data(data):
    body = data.json("openai-chat-vllm-cpu-plain.json")
    assert body["metrics"] is None and read_spec(body) is None


def test_zero_drafts_give_no_rate():
    zero = SpecCounters("llama.cpp", 0, 0, None)
    assert zero.acceptance_rate is None and zero.call_fields() == {"spec_draft_tokens": 0, "spec_accepted_tokens": 0}


def test_sums_keep_unknown_parts_unknown():
    total = SpecCounters("vllm", 10, 5, 2, (3, 2)) + SpecCounters("vllm", 20, 10, 4, (6, 3, 1))
    assert total == SpecCounters("vllm", 30, 15, 6, (9, 5, 1))
    mixed = SpecCounters("vllm", 10, 5, 2) + SpecCounters("llama.cpp", 20, 10, None)
    assert (mixed.draft_tokens, mixed.steps, mixed.source) == (30, None, "vllm+llama.cpp")


@pytest.mark.parametrize("histogram, positions", [
    ([39, 1, 0, 3], (4, 3, 3)),
    ({"0": 39, "1": 1, "3": 3}, (4, 3, 3)),  # the sparse form of an early vLLM draft of the field
    ([5], ()),
    ([], None), ("bad", None), ([1, "x"], None),
])
def test_histogram_to_accepted_per_position(histogram, positions):
    assert positions_from_histogram(histogram) == positions


def test_gateway_and_bench_read_the_same_registry(data):
    """The gateway's usage report fills the Call fields from the same readers."""
    report = CHAT.usage(data.json("openai-chat-sglang-spec-tokens-details.json"))
    assert (report.extra["spec_draft_tokens"], report.extra["spec_accepted_tokens"], report.extra["spec_steps"]) == (215, 63, 43)
    assert list(READERS) == ["vllm", "sglang", "llama.cpp"]


@pytest.mark.parametrize("junk", [None, [], "x", {"metrics": "x"}, {"metrics": {"speculative_decoding": []}},
                                  {"timings": {"predicted_n": 3}}, {"choices": "x", "meta_info": 3},
                                  {"metrics": {"speculative_decoding": {"num_draft_tokens": True}}}])
def test_malformed_shapes_are_no_data_not_errors(junk):
    assert read_spec(junk) is None
