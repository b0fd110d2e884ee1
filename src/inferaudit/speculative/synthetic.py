"""Batched speculative decoding with synthetic acceptance, for latency studies with random-weight models.

The drafter and the target run their real forward passes (so every
millisecond is real), but whether the target keeps draft token i is a
coin that lands heads with probability ``alpha``, as vLLM's synthetic
acceptance mode does: with random weights the two models would never
agree, and with real ones alpha could not be chosen. Each row of the
batch keeps its own leading run of heads, so rows advance by different
amounts, as they do in real batched speculation.

Everything stays on the device inside the loop (no host synchronisation
per step): the host only enqueues graph replays, so the wall time is the
device's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunResult:
    tokens: int  # tokens emitted, all rows together
    seconds: float
    steps: int  # target passes

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def _sync(device) -> None:
    import torch

    if getattr(device, "type", str(device)).startswith("cuda"):
        torch.cuda.synchronize(device)


def plain(target: Any, first, steps: int) -> RunResult:
    """``steps`` greedy decode steps from ``first`` ([batch, 1] tokens) on a StaticLlama."""
    token = first
    _sync(target.device)
    start = time.perf_counter()
    for _ in range(steps):
        token = target.forward(token)[:, -1].argmax(-1, keepdim=True)
        target.advance(1)
    _sync(target.device)
    return RunResult(tokens=steps * first.shape[0], seconds=time.perf_counter() - start, steps=steps)


def speculative(target: Any, drafter: Any, first, k: int, alpha: float, rounds: int, seed: int = 0) -> RunResult:
    """``rounds`` rounds of: the drafter proposes ``k`` tokens per row, the target verifies them in one pass.

    The drafter's cache is rolled back with the target's after each round. After a fully accepted
    round the drafter misses the K/V of its own last draft (a real engine feeds it two tokens
    next round, at the same cost in a memory-bound step); token choices do not matter here.
    """
    import torch

    generator = torch.Generator(device=target.device).manual_seed(seed)
    batch = first.shape[0]
    emitted = torch.zeros((), dtype=torch.long, device=target.device)
    drafter.set_lengths(target.lengths)
    token = first
    _sync(target.device)
    start = time.perf_counter()
    for _ in range(rounds):
        feed, drafts = token, []
        for _ in range(k):
            feed = drafter.forward(feed)[:, -1].argmax(-1, keepdim=True)
            drafter.advance(1)
            drafts.append(feed)
        verdict = target.forward(torch.cat([token, *drafts], dim=1)).argmax(-1)  # [batch, k + 1]
        heads = torch.rand(batch, k, generator=generator, device=target.device) < alpha
        kept = heads.long().cumprod(dim=1).sum(dim=1)  # leading heads per row
        token = verdict.gather(1, kept[:, None])
        target.advance(kept + 1)
        drafter.set_lengths(target.lengths)
        emitted += (kept + 1).sum()
    _sync(target.device)
    seconds = time.perf_counter() - start
    return RunResult(tokens=int(emitted), seconds=seconds, steps=rounds)


def step_time(model: Any, q: int, repeats: int = 50) -> float:
    """Median seconds of one ``forward`` of ``q`` tokens per row (CUDA events on a GPU)."""
    import torch

    tokens = torch.randint(0, 1000, (model.batch, q), device=model.device)
    saved = model.lengths.clone()
    times = []
    for i in range(repeats + 3):
        if model.device.type == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            model.forward(tokens)
            end.record()
            end.synchronize()
            elapsed = begin.elapsed_time(end) / 1000
        else:
            start = time.perf_counter()
            model.forward(tokens)
            elapsed = time.perf_counter() - start
        if i >= 3:
            times.append(elapsed)
    model.set_lengths(saved)
    times.sort()
    return times[len(times) // 2]
