"""The reference speculative decoder: draft K, verify in one target pass, keep the agreed prefix.

Greedy verification keeps a draft token while it equals the target's own
argmax, so the output is token-identical to plain greedy decoding.
Sampling verification is rejection sampling (Leviathan et al.; Chen et
al.): keep draft token x with probability min(1, p(x)/q(x)); on the first
rejection draw from the residual max(0, p - q), renormalised; after a fully
accepted draft, draw a bonus token from p. That preserves the target's
distribution exactly, whatever the drafter proposes.

The target (any ``Backend``) is rolled back to the kept prefix after every
step; the drafter is told what was kept and rolls its own cache back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .backends import Backend
from .decode import Sampling, greedy
from .drafters import Drafter
from .policy import KPolicy, Policy

__all__ = ["KPolicy", "SpecStats", "speculate"]
DEFAULT_POLICY = KPolicy()


@dataclass
class SpecStats:
    """Per-request counters, named as vLLM's per-request metrics where they overlap."""

    num_draft_tokens: int = 0
    num_accepted_draft_tokens: int = 0
    num_spec_steps: int = 0
    accepted_per_position: list[int] = field(default_factory=list)  # how often draft position i was kept
    drafted_per_position: list[int] = field(default_factory=list)
    drafter_s: float = 0.0
    target_s: float = 0.0

    @property
    def mean_acceptance_length(self) -> float:
        """Tokens emitted per target pass (accepted drafts + the target's own token)."""
        return 1 + self.num_accepted_draft_tokens / self.num_spec_steps if self.num_spec_steps else 0.0

    @property
    def draft_acceptance_rate(self) -> float:
        return self.num_accepted_draft_tokens / self.num_draft_tokens if self.num_draft_tokens else 0.0

    def as_vllm(self) -> dict[str, Any]:
        return {"num_draft_tokens": self.num_draft_tokens, "num_accepted_draft_tokens": self.num_accepted_draft_tokens,
                "num_spec_steps": self.num_spec_steps, "mean_acceptance_length": self.mean_acceptance_length,
                "draft_acceptance_rate": self.draft_acceptance_rate}

    def _count(self, drafted: int, accepted: int) -> None:
        for i in range(drafted):
            if i >= len(self.drafted_per_position):
                self.drafted_per_position.append(0)
                self.accepted_per_position.append(0)
            self.drafted_per_position[i] += 1
            self.accepted_per_position[i] += i < accepted


def speculate(target: Backend, drafter: Drafter, prompt: list[int], sampling: Sampling, stop_ids: set[int],
              policy: Policy = DEFAULT_POLICY, stats: SpecStats | None = None) -> Iterator[int]:
    """Yield generated token ids; fills ``stats`` as it goes."""
    import torch

    stats = stats if stats is not None else SpecStats()
    generator = None
    if sampling.temperature > 0:
        generator = torch.Generator(device=target.device)
        generator.manual_seed(sampling.seed if sampling.seed is not None else torch.seed())
    context: list[int] = list(prompt)
    drafter.reset(list(context))
    policy.begin()
    target.reset()
    emitted, k = 0, policy.k
    pending = context[-1]  # the newest token, not yet in the target's cache: it leads every verify pass
    # the prompt is fed with the first verify pass, so the first token costs one pass, as in plain decoding
    prefill = context[:-1]
    while emitted < sampling.max_tokens:
        budget = min(k, sampling.max_tokens - emitted - 1)
        start = time.perf_counter()
        draft = drafter.propose(context, budget, sampling.temperature) if budget > 0 else None
        stats.drafter_s += time.perf_counter() - start
        tokens = draft.tokens[:policy.keep(draft, budget, len(context))] if draft else []
        start = time.perf_counter()
        # logits[i]: the target's next-token view before draft i (and after the last, the bonus)
        logits = target.feed([*prefill, pending, *tokens], logits_from=len(prefill))
        stats.target_s += time.perf_counter() - start
        prefill = []
        kept, final = _verify(tokens, draft.probs if draft else None, logits, sampling, generator)
        new = tokens[:kept] + [final]
        stats.num_spec_steps += bool(tokens)
        stats.num_draft_tokens += len(tokens)
        stats.num_accepted_draft_tokens += kept
        stats._count(len(tokens), kept)
        for token in new:
            yield token
            emitted += 1
            if token in stop_ids or emitted >= sampling.max_tokens:
                return
        context.extend(new)
        target.trim(len(context) - 1)  # drop the rejected drafts; ``final`` is fed on the next pass
        drafter.accepted(context)
        pending = final
        k = policy.next(k, len(tokens), kept, draft, new)


def _verify(tokens: list[int], q, logits, sampling: Sampling, generator) -> tuple[int, int]:
    """How many draft tokens to keep, and the token the target adds after them."""
    import torch

    if sampling.temperature <= 0:
        targets = greedy(logits)
        kept = 0
        while kept < len(tokens) and tokens[kept] == targets[kept]:
            kept += 1
        return kept, targets[kept]
    p = _probs(logits, sampling)
    for i, token in enumerate(tokens):
        qi = q[i] if q is not None else None
        q_token = float(qi[token]) if qi is not None else 1.0
        p_token = float(p[i, token])
        if q_token <= 0 or float(torch.rand((), generator=generator)) >= min(1.0, p_token / q_token):
            residual = torch.clamp(p[i] - (qi if qi is not None else _one_hot(token, p.shape[-1], p)), min=0)
            total = float(residual.sum())
            dist = residual / total if total > 0 else p[i]
            return i, int(torch.multinomial(dist, 1, generator=generator))
    return len(tokens), int(torch.multinomial(p[len(tokens)], 1, generator=generator))


def _probs(logits, sampling: Sampling):
    import torch

    p = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        sorted_p, order = torch.sort(p, descending=True, dim=-1)
        keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < sampling.top_p
        p = torch.zeros_like(p).scatter(-1, order, sorted_p * keep)
        p = p / p.sum(dim=-1, keepdim=True)
    return p


def _one_hot(token: int, size: int, like):
    import torch

    out = torch.zeros(size, dtype=like.dtype, device=like.device)
    out[token] = 1.0
    return out
