"""Grouped-query attention for verify passes: the SDPA kernel reads the KV heads as they are cached.

In a model with fewer key/value heads than query heads (SmolLM2-135M: 9 query
heads over 3 KV heads), transformers' ``sdpa`` attention hands the grouping to
the kernel (``enable_gqa``) only when there is no attention mask, that is for
one-token decode steps and for a prefill from an empty cache. A verify pass
(several new tokens after a cache) has a mask, so transformers first copies
every cached key and value once per query head (``repeat_kv``). On the 2-core
CPU these numbers come from, the attention of a pass over 9 tokens after 1,500
tokens (30 layers, timed alone) took 28 ms with the copies and 12 ms with
``enable_gqa`` and the same mask; the whole pass went from 123 to 112 ms
(``bench/spec_gemm.py --context 300 1500``). The kernel computes the same
products either way. ``GROUPED_SDPA`` is transformers' ``sdpa`` with that one change,
registered under its own name; :func:`use_grouped_sdpa` switches a model to it.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

GROUPED_SDPA = "inferaudit_grouped_sdpa"


def grouped_sdpa(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, dropout: float = 0.0,
                 scaling: float | None = None, is_causal: bool | None = None, **kwargs: Any) -> tuple[Any, None]:
    """transformers' ``sdpa`` attention, with grouped KV heads passed to the kernel under a mask as well."""
    groups = getattr(module, "num_key_value_groups", 1)
    plain = (attention_mask is None or groups == 1 or query.shape[2] == 1 or key.shape[-1] != value.shape[-1]
             or any(kwargs.get(name) is not None for name in ("position_bias", "softcap")))
    if plain:  # transformers' own path is already copy-free (or the case is not a verify pass)
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=dropout,
                                                           scale=scaling, enable_gqa=True)
    return out.transpose(1, 2).contiguous(), None


def use_grouped_sdpa(model: Any) -> None:
    """Run ``model``'s attention through :func:`grouped_sdpa` (its masks are built as for ``sdpa``)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(GROUPED_SDPA, grouped_sdpa)
    AttentionMaskInterface.register(GROUPED_SDPA, sdpa_mask)
    model.set_attn_implementation(GROUPED_SDPA)
