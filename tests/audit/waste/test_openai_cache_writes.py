"""OpenAI's billed cache writes (GPT-5.6 and later) live 30 minutes, not Anthropic's 5, and have no TTL what-if."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inferaudit.audit.waste.cache import analyse_thread
from inferaudit.audit.waste.calls import CallView
from inferaudit.audit.waste.replay import ttl_what_if
from inferaudit.pricing import PriceBook
from inferaudit.usage import Tokens

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
MODELS = {"openai": "gpt-5.6-terra", "anthropic": "claude-sonnet-4-5"}


def thread(provider: str, *calls: tuple[float, Tokens]) -> list[CallView]:
    """Calls of one thread: (minutes after T0, tokens), each lasting 2 seconds."""
    rates = PriceBook.load().rates(provider, MODELS[provider]).for_prompt(0)
    views = []
    for i, (minutes, tokens) in enumerate(calls):
        start = T0 + timedelta(minutes=minutes)
        views.append(CallView(f"c{i}", "run", "", provider, MODELS[provider], "h", start, start + timedelta(seconds=2),
                              tokens, rates.cost(tokens), rates, "ok", 1, {}, "f.jsonl", i + 1))
    return views


WRITE = Tokens(input=10, cache_write_5m=20_000, output=100)
MISS = Tokens(input=20, cache_write_5m=20_000, output=100)  # the prefix was written again, not read


@pytest.mark.parametrize("provider, cause, wasted", [("openai", "prefix_change", 20_000), ("anthropic", "ttl_expiry", 20_000)])
def test_a_miss_twenty_minutes_on(provider, cause, wasted):
    first, second = analyse_thread(thread(provider, (0, WRITE), (20, MISS)), [])
    assert (second.expected, second.missed, second.cause) == (20_000, 20_000, cause)
    assert first.wasted == wasted  # never read, whatever its TTL


@pytest.mark.parametrize("provider, read", [("openai", 20_000), ("anthropic", 0)])
def test_a_write_read_twenty_minutes_on_counts_as_read_only_within_its_ttl(provider, read):
    hit = Tokens(input=10, cache_read=20_000, output=100)
    first, _ = analyse_thread(thread(provider, (0, WRITE), (20, hit)), [])
    assert first.wasted == 20_000 - read


def test_openai_misses_past_thirty_minutes_are_expiry():
    *_, late = analyse_thread(thread("openai", (0, WRITE), (31, MISS)), [])
    assert (late.cause, late.ttl_s, late.gap_s) == ("ttl_expiry", 1800, 31 * 60 - 2)


def test_the_ttl_what_if_replays_anthropic_threads_only():
    steps = analyse_thread(thread("openai", (0, WRITE), (20, MISS)), [])
    assert ttl_what_if(steps)["calls"] == 0
    steps = analyse_thread(thread("anthropic", (0, WRITE), (20, MISS)), [])
    assert ttl_what_if(steps)["calls"] == 2
