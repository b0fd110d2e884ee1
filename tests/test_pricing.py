"""The price book: genai-prices underneath, overrides on top, tiers, and nothing priced at zero by accident."""

from datetime import date

import pytest

from inferaudit.pricing import PriceBook, PriceFileError
from inferaudit.usage import Tokens

DAY = date(2026, 2, 12)


def test_anthropic_rates_include_both_cache_write_ttls():
    rates = PriceBook.load().rates("anthropic", "claude-haiku-4-5-20251001", DAY)
    base = rates.tiers[0]
    assert (base.input, base.cache_read, base.cache_write_5m, base.cache_write_1h, base.output) == (1, 0.1, 1.25, 2, 5)
    assert "genai-prices" in rates.origin


def test_cost_by_bucket_matches_hand_computation():
    rates = PriceBook.load().rates("anthropic", "claude-haiku-4-5-20251001", DAY)
    t = Tokens(input=1_000, cache_read=100_000, cache_write_5m=10_000, cache_write_1h=5_000, output=2_000)
    hand = (1_000 * 1 + 100_000 * 0.1 + 10_000 * 1.25 + 5_000 * 2 + 2_000 * 5) / 1e6
    assert rates.cost(t) == pytest.approx(hand, rel=1e-12)


def test_long_context_tier_is_a_cliff_on_the_whole_prompt():
    rates = PriceBook.load().rates("anthropic", "claude-sonnet-4-5-20250929", DAY)
    assert [t.above for t in rates.tiers] == [-1, 200_000]
    small = Tokens(input=100, cache_read=199_900, output=1_000)  # prompt exactly 200k: base rates
    big = Tokens(input=101, cache_read=199_900, output=1_000)  # one token over: every token at tier rates
    assert rates.cost(small) == pytest.approx((100 * 3 + 199_900 * 0.3 + 1_000 * 15) / 1e6)
    assert rates.cost(big) == pytest.approx((101 * 6 + 199_900 * 0.6 + 1_000 * 22.5) / 1e6)


def test_openai_model_without_write_prices_bills_writes_at_input():
    rates = PriceBook.load().rates("openai", "gpt-5.3-codex", DAY).tiers[0]
    assert (rates.input, rates.cache_read, rates.output) == (1.75, 0.175, 14)
    assert rates.cache_write_5m == rates.input


def test_unknown_model_is_unpriced_not_free():
    book = PriceBook.load()
    assert book.rates("anthropic", "claude-imaginary-9", DAY) is None
    assert book.cost("anthropic", "claude-imaginary-9", Tokens(input=10), DAY) is None


def test_override_file_adds_models_and_beats_the_library(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  - model: my-finetune-*\n    input: 2\n    cache_read: 0.2\n    output: 8\n"
        "    tiers:\n      - above: 1000\n        input: 4\n        output: 16\n"
        "  - model: claude-haiku-4-5*\n    provider: anthropic\n    input: 0.5\n    cache_write_5m: 0.6\n    output: 2.5\n"
    )
    book = PriceBook.load(path)
    mine = book.rates(None, "my-finetune-v3", DAY)
    assert mine.origin.startswith("override")
    assert mine.cost(Tokens(input=500, output=100)) == pytest.approx((500 * 2 + 100 * 8) / 1e6)
    assert mine.cost(Tokens(input=1001, output=100)) == pytest.approx((1001 * 4 + 100 * 16) / 1e6)
    haiku = book.rates("anthropic", "claude-haiku-4-5-20251001", DAY).tiers[0]
    # negotiated rate wins; the 1h write falls back to the 5m write price, cache read to input
    assert (haiku.input, haiku.cache_write_5m, haiku.cache_write_1h, haiku.cache_read) == (0.5, 0.6, 0.6, 0.5)


def test_override_validity_window(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"models": [{"model": "x", "input": 1, "output": 1, "from": "2026-03-01"}]}')
    book = PriceBook.load(path)
    assert book.rates(None, "x", date(2026, 2, 28)) is None
    assert book.rates(None, "x", date(2026, 3, 1)) is not None


@pytest.mark.parametrize("text, message", [
    ("models: 3", "top-level 'models:' list"),
    ("models:\n  - input: 1", "needs a 'model'"),
    ("models:\n  - model: x\n    output: 1", "'input'"),
    ("models:\n  - model: x\n    input: -1", "non-negative"),
    ("models:\n  - model: x\n    input: 1\n    imput: 2", "unknown field"),
    ("models: [", "not valid YAML"),
])
def test_bad_override_file_names_file_and_entry(tmp_path, text, message):
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(PriceFileError, match=message) as info:
        PriceBook.load(path)
    assert str(path) in str(info.value)


def test_batch_rates_are_genai_prices_batch_variant_where_it_applies(tmp_path):
    book = PriceBook.load()
    batch = book.batch_rates("anthropic", "claude-haiku-4-5-20251001", date(2026, 11, 1)).tiers[0]
    assert (batch.input, batch.cache_read, batch.cache_write_5m, batch.cache_write_1h, batch.output) == (0.5, 0.05, 0.625, 1, 2.5)
    assert book.batch_rates("anthropic", "claude-haiku-4-5-20251001", DAY) is None  # not modelled before 2026-10-14
    assert book.batch_rates("openai", "gpt-5.3-codex", date(2026, 11, 1)) is None  # no batch price published
    prices = tmp_path / "p.yaml"
    prices.write_text("models:\n  - model: claude-haiku-4-5*\n    input: 0.8\n")
    assert PriceBook.load(prices).batch_rates("anthropic", "claude-haiku-4-5-20251001", date(2026, 11, 1)) is None
