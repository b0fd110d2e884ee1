"""Fixtures shared by the speculative tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny():
    """A 3-layer Llama with random weights (64 wide, 300-token vocabulary), a fresh one per test module."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=300, max_position_embeddings=512)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(cfg).eval()
