"""Token buckets: disjoint, additive, and mapped at the boundary per provider convention."""

import pytest

from inferaudit.usage import Run, Tokens


def test_tokens_add_bucket_by_bucket_and_sum_works():
    a = Tokens(input=1, cache_read=2, cache_write_5m=3, cache_write_1h=4, output=5, reasoning=1)
    b = Tokens(input=10, cache_read=20, cache_write_5m=30, cache_write_1h=40, output=50, reasoning=5)
    assert a + b == Tokens(11, 22, 33, 44, 55, 6)
    assert sum([a, b]) == a + b
    assert (a + b).prompt == 11 + 22 + 33 + 44


def test_cache_hit_rate_counts_every_prompt_token_once():
    t = Tokens(input=100, cache_read=800, cache_write_5m=50, cache_write_1h=50, output=10)
    assert t.cache_hit_rate == pytest.approx(800 / 1000)
    assert Tokens().cache_hit_rate is None


def test_anthropic_usage_excludes_cache_and_splits_writes_by_ttl():
    # a real-shaped Messages API usage block (Claude Code v2.1.39 log line)
    usage = {
        "input_tokens": 3, "cache_creation_input_tokens": 15005, "cache_read_input_tokens": 11442,
        "cache_creation": {"ephemeral_5m_input_tokens": 12005, "ephemeral_1h_input_tokens": 3000},
        "output_tokens": 9, "service_tier": "standard",
    }
    t = Tokens.from_anthropic(usage)
    assert t == Tokens(input=3, cache_read=11442, cache_write_5m=12005, cache_write_1h=3000, output=9)


def test_anthropic_usage_without_split_counts_writes_as_5m():
    t = Tokens.from_anthropic({"input_tokens": 5, "cache_creation_input_tokens": 700, "output_tokens": 1})
    assert (t.cache_write_5m, t.cache_write_1h) == (700, 0)


def test_openai_style_prompt_includes_cached_tokens():
    # OpenAI chat: prompt_tokens 2006 with cached_tokens 1920; completion 300 with 200 reasoning
    t = Tokens.from_prompt_including_cached(2006, 1920, 300, 200)
    assert t == Tokens(input=86, cache_read=1920, output=300, reasoning=200)


def test_gemini_thoughts_are_output_beside_candidates():
    t = Tokens.from_prompt_including_cached(1000, 400, 50, 120, reasoning_in_output=False)
    assert (t.input, t.cache_read, t.output, t.reasoning) == (600, 400, 170, 120)


@pytest.mark.parametrize("bad", [{"input": -1}, {"output": 1.5}, {"output": 1, "reasoning": 2}])
def test_invalid_buckets_are_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        Tokens(**bad)


def test_cached_beyond_prompt_is_refused():
    with pytest.raises(ValueError, match="exceed"):
        Tokens.from_prompt_including_cached(10, 11, 0)


def test_run_outcome_is_checked():
    with pytest.raises(ValueError, match="outcome"):
        Run(run_id="r", source="s", harness=None, model=None, outcome="passed")
