"""Drafters: who proposes the next K tokens. One small interface, three kinds.

- ``NGramDrafter``: prompt lookup, no model. Finds the longest recent n-gram
  that occurred earlier in the context and proposes what followed it.
  Deterministic: its proposal distribution is one-hot.
- ``EarlyExitDrafter``: the target's own first L layers (plus its final norm
  and LM head), sharing the target's weights. For SmolLM2-135M, where no
  smaller sibling ships, this is the model drafter that costs no memory.
- ``ModelDrafter``: any smaller causal LM with the same tokenizer.

A drafter keeps its own KV cache across steps and is told, after each
verification, how many of its tokens survived, so it can roll back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Draft:
    tokens: list[int]
    probs: Any | None = None  # [k, vocab] proposal distributions (sampling); None: one-hot at ``tokens``


class Drafter(Protocol):
    name: str

    def reset(self, prompt: list[int]) -> None:
        """A new request starts with this prompt."""

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        """Up to ``k`` next tokens after ``context`` (the prompt and every token accepted so far)."""

    def accepted(self, context: list[int]) -> None:
        """Verification kept ``context`` (what the target agreed to): roll back anything beyond it."""


class NGramDrafter:
    """Prompt lookup: propose the continuation of the latest earlier match of the context's suffix."""

    def __init__(self, max_ngram: int = 3, min_ngram: int = 1):
        self.name = f"ngram-{max_ngram}"
        self.max_ngram, self.min_ngram = max_ngram, min_ngram

    def reset(self, prompt: list[int]) -> None:
        pass

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        size = len(context)
        for n in range(min(self.max_ngram, size - 1), self.min_ngram - 1, -1):
            suffix = context[size - n:]
            # latest earlier occurrence first: recent text predicts best
            for start in range(size - n - 1, -1, -1):
                if context[start:start + n] == suffix:
                    follow = context[start + n:start + n + k]
                    if follow:
                        return Draft(follow)
        return Draft([])

    def accepted(self, context: list[int]) -> None:
        pass


class ModelDrafter:
    """A causal LM drafting greedily (or by sampling) with its own KV cache, rolled back on rejection."""

    def __init__(self, model: Any, name: str = "model", device: str = "cpu"):
        self.model, self.name, self.device = model, name, device
        self.cache = None
        self.cached = 0  # tokens of the context the cache holds

    def reset(self, prompt: list[int]) -> None:
        self.cache, self.cached = None, 0

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        import torch

        tokens, probs = [], []
        feed = context[self.cached:]
        with torch.inference_mode():
            for _ in range(k):
                out = self.model(input_ids=torch.tensor([feed], device=self.device), past_key_values=self.cache, use_cache=True)
                self.cache = out.past_key_values
                self.cached += len(feed)
                logits = out.logits[0, -1].float()
                if temperature > 0:
                    p = torch.softmax(logits / temperature, dim=-1)
                    token = int(torch.multinomial(p, 1))
                    probs.append(p)
                else:
                    token = int(torch.argmax(logits))
                tokens.append(token)
                feed = [token]
        return Draft(tokens, torch.stack(probs) if probs else None)

    def accepted(self, context: list[int]) -> None:
        # the cache holds at most the context plus the drafts fed back in; keep only the agreed prefix
        from .engine import trim_cache

        keep = min(self.cached, len(context) - 1)
        if self.cache is not None and keep < self.cached:
            trim_cache(self.cache, keep)
            self.cached = keep


def early_exit_model(model: Any, layers: int) -> Any:
    """A view of ``model`` that runs only its first ``layers`` decoder layers, sharing every weight."""
    import copy

    import torch.nn as nn

    if not 0 < layers < model.config.num_hidden_layers:
        raise ValueError(f"an early exit needs 1..{model.config.num_hidden_layers - 1} layers, not {layers}")
    shallow = copy.copy(model)  # new module objects around the same parameters
    shallow._modules = dict(model._modules)  # copy.copy shares this dict: never write through to the target
    shallow.config = copy.deepcopy(model.config)
    shallow.config.num_hidden_layers = layers
    inner = copy.copy(model.model)
    inner._modules = dict(model.model._modules)
    inner.config = shallow.config
    inner.layers = nn.ModuleList(list(model.model.layers)[:layers])
    shallow.model = inner
    return shallow


class EarlyExitDrafter(ModelDrafter):
    def __init__(self, target: Any, layers: int, device: str = "cpu"):
        super().__init__(early_exit_model(target, layers), name=f"early-exit-{layers}", device=device)
