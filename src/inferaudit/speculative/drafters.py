"""Drafters: who proposes the next K tokens. One small interface, three kinds.

- ``NGramDrafter``: prompt lookup, no model. Finds the longest recent n-gram
  that occurred earlier in the context and proposes what followed it, and
  says how long that match was (``Draft.match``: a long match is a confident
  draft, which ``CostAwareK`` uses). Deterministic: its proposal
  distribution is one-hot.
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

from .decode import greedy


@dataclass
class Draft:
    tokens: list[int]
    probs: Any | None = None  # [k, vocab] proposal distributions (sampling); None: one-hot at ``tokens``
    match: int = 0  # n-gram drafters: how many tokens of the context's suffix matched the text drafted from


class Drafter(Protocol):
    name: str

    def reset(self, prompt: list[int]) -> None:
        """A new request starts with this prompt."""

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        """Up to ``k`` next tokens after ``context`` (the prompt and every token accepted so far)."""

    def accepted(self, context: list[int]) -> None:
        """Verification kept ``context`` (what the target agreed to): roll back anything beyond it."""


class NGramDrafter:
    """Prompt lookup: propose the continuation of the earlier occurrence that matches the context's suffix longest.

    A match counts up to ``max_ngram`` tokens and must reach ``min_ngram``; among equally long
    matches the latest wins (recent text predicts best). Occurrences are found through indexes
    kept up to date as the context grows, so a long ``max_ngram`` costs no scan of the context,
    and only the latest ``max_candidates`` occurrences of an indexed n-gram are compared.

    Two indexes when ``min_ngram`` is short: one of ``anchor``-grams (3 tokens by default) finds
    the long matches, and one of ``min_ngram``-grams is asked only when no match reaches
    ``anchor``. A single index of 1-grams would compare only the latest 64 occurrences of a token
    as common as a newline or an indent, and miss a long match further back; one of 3-grams alone
    would never draft after a 1- or 2-token match, which can pay where a verify pass of a few tokens
    costs about one step (``bench/spec_ngram_min.py``: in one process on the tuned transformers
    backend it gained on code and on questions over long documents; through a server that learns
    one acceptance table from all prompt classes it lost, ``bench/spec_vs_vllm.py --ours hf,hf1``).
    """

    def __init__(self, max_ngram: int = 3, min_ngram: int = 1, max_candidates: int = 64, anchor: int = 3):
        if not 1 <= min_ngram <= max_ngram:
            raise ValueError(f"n-gram sizes need 1 <= min_ngram <= max_ngram, got {min_ngram}..{max_ngram}")
        self.name = f"ngram-{max_ngram}" if min_ngram == 1 else f"ngram-{max_ngram}..{min_ngram}"
        self.max_ngram, self.min_ngram, self.max_candidates = max_ngram, min_ngram, max_candidates
        self.anchor = min(max(anchor, min_ngram), max_ngram)
        # (index size, longest match it looks for): long matches first, short ones only if none
        self._levels = [(self.anchor, max_ngram)] + ([(min_ngram, self.anchor - 1)] if min_ngram < self.anchor else [])
        self.reset([])

    def reset(self, prompt: list[int]) -> None:
        # n-gram size -> {n-gram: its start positions, ascending}
        self._index: dict[int, dict[tuple[int, ...], list[int]]] = {m: {} for m, _ in self._levels}
        self._indexed, self._tail = 0, ()  # how much of the context the indexes cover, and its last tokens

    def propose(self, context: list[int], k: int, temperature: float) -> Draft:
        self._update(context)
        for m, longest in self._levels:
            best, best_len = self._longest(context, m, longest)
            if best >= 0:
                return Draft(context[best + m:best + m + k], match=best_len)
        return Draft([])

    def _longest(self, context: list[int], m: int, longest: int) -> tuple[int, int]:
        """The latest of the longest matches (m..longest tokens) among the suffix m-gram's latest occurrences."""
        size = len(context)
        if size <= m:
            return -1, 0
        starts = self._index[m].get(tuple(context[size - m:]), ())
        best, best_len = -1, 0
        # latest first; the suffix's own occurrence (start size - m) has nothing after it
        for start in reversed(starts[-self.max_candidates - 1:]):
            if start >= size - m:
                continue
            length, limit = m, min(longest, start + m)  # the match cannot reach before the context's start
            while length < limit and context[start + m - length - 1] == context[size - length - 1]:
                length += 1
            if length > best_len:
                best, best_len = start, length
                if length == longest:
                    break
        return best, best_len

    def accepted(self, context: list[int]) -> None:
        pass

    def _update(self, context: list[int]) -> None:
        """Index the n-grams that end in tokens added since the last call (the context only grows)."""
        done = self._indexed
        if len(context) < done or tuple(context[max(0, done - 8):done]) != self._tail:  # another sequence: start over
            self.reset(context)
            done = 0
        for m, index in self._index.items():
            for start in range(max(0, done - m + 1), len(context) - m + 1):
                index.setdefault(tuple(context[start:start + m]), []).append(start)
        self._indexed, self._tail = len(context), tuple(context[-8:])


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
                token = greedy(logits)
            tokens.append(token)
            feed = [token]
        return Draft(tokens, torch.stack(probs) if probs else None)

    def accepted(self, context: list[int]) -> None:
        # the cache holds the context plus the drafts fed back in; keep only the agreed prefix
        self.backend.trim(min(self.backend.cached, len(context) - 1))


def early_exit_model(model: Any, layers: int) -> Any:
    """A view of ``model`` that runs only its first ``layers`` decoder layers, sharing every weight."""
    import copy

    from torch import nn

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
