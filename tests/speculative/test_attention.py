"""Grouped-query attention for verify passes: the same logits as transformers' sdpa, without copied KV heads."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from inferaudit.speculative.backends.attention import GROUPED_SDPA, use_grouped_sdpa

pytestmark = pytest.mark.model


class _RecordedSDPA:
    """Wraps ``scaled_dot_product_attention``: the query and key head counts, mask and ``enable_gqa`` of each call."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[int, int, bool, bool]] = []
        self.real = torch.nn.functional.scaled_dot_product_attention
        monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", self)

    def __call__(self, query, key, value, attn_mask=None, **kwargs):
        self.calls.append((query.shape[1], key.shape[1], attn_mask is not None, kwargs.get("enable_gqa", False)))
        return self.real(query, key, value, attn_mask=attn_mask, **kwargs)


def verify_logits(loaded, prompt: list[int], draft: list[int]):
    backend = loaded.backend()
    backend.feed(prompt, logits_from=len(prompt))
    return backend.feed(draft)


def test_a_verify_pass_reads_the_cached_kv_heads_without_copies_and_gives_sdpas_logits(smollm2, monkeypatch):
    assert smollm2.model.config._attn_implementation == GROUPED_SDPA  # load() switches a CPU model to it
    prompt = smollm2.chat_ids([{"role": "user", "content": "Write a haiku about rolling back a KV cache."}])
    draft = prompt[-9:]  # any 9 tokens: a verify pass over 8 drafts
    config = smollm2.model.config
    try:
        smollm2.model.set_attn_implementation("sdpa")
        recorded = _RecordedSDPA(monkeypatch)
        stock = verify_logits(smollm2, prompt, draft)
        copied = recorded.calls[-1]
        use_grouped_sdpa(smollm2.model)
        recorded.calls.clear()
        grouped = verify_logits(smollm2, prompt, draft)
    finally:
        use_grouped_sdpa(smollm2.model)
    # transformers' sdpa under a mask: K/V repeated to one head per query head
    assert copied == (config.num_attention_heads, config.num_attention_heads, True, False)
    # grouped: every layer's verify pass hands the kernel the 3 cached KV heads and the mask
    verify_calls = recorded.calls[-config.num_hidden_layers:]
    assert set(verify_calls) == {(config.num_attention_heads, config.num_key_value_heads, True, True)}
    assert config.num_key_value_heads < config.num_attention_heads
    torch.testing.assert_close(grouped, stock, rtol=1e-5, atol=1e-5)
    assert torch.equal(grouped.argmax(-1), stock.argmax(-1))
