"""The PyTorch backend over any Hugging Face causal LM, with its dynamic KV cache (CPU or CUDA)."""

from __future__ import annotations

from typing import Any


class HFBackend:
    def __init__(self, model: Any, name: str = "transformers", device: str | None = None):
        import inspect

        self.model, self.name = model, name
        self.device = device or str(next(model.parameters()).device)
        self.cache = None
        # transformers 5.2x renamed the forward argument ``past_key_values`` to ``cache`` (the old name warns)
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @property
    def cached(self) -> int:
        return self.cache.get_seq_length() if self.cache is not None else 0

    def reset(self) -> None:
        self.cache = None

    def feed(self, tokens: list[int], logits_from: int = 0):
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([tokens], device=self.device), use_cache=True,
                             logits_to_keep=max(len(tokens) - logits_from, 1), **{self._cache_arg: self.cache})
        self.cache = out.past_key_values
        return out.logits[0] if logits_from < len(tokens) else None

    def trim(self, keep: int) -> None:
        if self.cache is not None:
            trim_cache(self.cache, keep)


def trim_cache(cache, keep: int) -> None:
    """Cut a transformers KV cache back to its first ``keep`` positions (the API changed sign in v5)."""
    extra = cache.get_seq_length() - keep
    if extra <= 0:
        return
    try:
        cache.crop(-extra)  # transformers >= 5: a negative count removes that many tokens
    except ValueError:
        cache.crop(keep)  # older releases: the size to keep
