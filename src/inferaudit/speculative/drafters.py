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
        self.name = f"ngram-{max_ngram}" if min_ngram == 1 else f"ngram-{max_ngram}..{min_ngram}"
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
    """A causal LM (any ``Backend``) drafting greedily or by sampling, its cache rolled back on rejection."""

    def __init__(self, backend: Any, name: str = "model"):
        self.backend, self.name = backend, name

    def reset(self, prompt: list[int]) -> None:
        self.backend.reset()

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        import torch

        tokens, probs = [], []
        feed = context[self.backend.cached:]
        for _ in range(k):
            logits = self.backend.feed(feed, logits_from=len(feed) - 1)[-1].float()
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
        # the cache holds the context plus the drafts fed back in; keep only the agreed prefix
        self.backend.trim(min(self.backend.cached, len(context) - 1))


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
    def __init__(self, target: Any, layers: int):
        from .backends.hf import HFBackend

        super().__init__(HFBackend(early_exit_model(target, layers)), name=f"early-exit-{layers}")
