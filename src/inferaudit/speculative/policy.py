"""How many draft tokens to verify: fixed K, adaptive K, or only what is expected to pay for itself.

A policy answers two questions per decoding step: ``keep`` (of the tokens
the drafter proposed, how many go into the target's verify pass; 0 makes the
step a plain one) and ``next`` (the drafting budget of the next step, after
seeing how many were accepted).

``CostAwareK`` is for targets whose verify pass is not nearly free. On a CPU
a batch-invariant llama.cpp pass of n tokens costs v(n) single-token steps
with v(n) - 1 between 0.23 (F32) and 0.65 (Q4_1) per extra token
(``bench/spec_verify_cost.py``), so a draft that is accepted with
probability 0.6 costs more than it saves. The policy learns, per
match-length bucket (an n-gram draft continuing a 32-token match is almost
always right; one continuing a 3-token match often is not), the acceptance
at each draft position, and verifies the k tokens that maximise the expected
tokens per unit of cost,

    (1 + a1 + a1 a2 + ... + a1 ... ak) / v(k + 1),

against 1 / v(1) = 1 for a plain step. Acceptance starts from an optimistic
prior, so every bucket gets tried; a bucket that does not pay is still tried
every ``explore_every``-th time, so its estimate can recover.

The buckets speak for all traffic; one request can differ from it (a question
over a document whose answer copies nothing, beside edits that copy
everything). So within a request the first position's estimate is scaled by
how that request's own drafts have done against the buckets' expectation,
(accepted + w) / (expected + w), counted with a decay so a request that starts
copying late can recover. A declined draft is judged too, for free: the plain
step that replaced it shows whether its first token was the target's.

What a pass costs also depends on where it runs: attention reads the whole
context once per token fed, so a pass over several tokens grows with the
context faster than a one-token step does (on the tuned transformers backend
v(9) = 1.38 after 300 tokens, 1.70 after 1,500: ``bench/spec_gemm.py``).
``VerifyCost`` measures v(n) after two context lengths and gives it at any
position.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Protocol

from .drafters import Draft


class Policy(Protocol):
    k: int  # the drafting budget of the first step

    def keep(self, draft: Draft, budget: int, position: int = 0) -> int:
        """How many of ``draft``'s first tokens to verify (at most ``budget``), in a pass after ``position`` tokens."""

    def next(self, k: int, drafted: int, accepted: int, draft: Draft | None, emitted: Sequence[int] = ()) -> int:
        """The next step's drafting budget, after ``accepted`` of ``drafted`` verified tokens were kept
        (``emitted``: the tokens the step produced)."""

    def begin(self) -> None:
        """A new request starts (forget what was learnt about the last one, if anything)."""


@dataclass(frozen=True)
class KPolicy:
    """Fixed K, or adaptive: grow after a fully accepted draft, shrink to what survived otherwise."""

    k: int = 4
    adaptive: bool = False
    k_min: int = 1
    k_max: int = 8

    def keep(self, draft: Draft, budget: int, position: int = 0) -> int:
        return min(len(draft.tokens), budget)

    def next(self, k: int, drafted: int, accepted: int, draft: Draft | None = None, emitted: Sequence[int] = ()) -> int:
        if not self.adaptive or drafted == 0:
            return k
        return min(self.k_max, k + 1) if accepted == drafted else max(self.k_min, accepted + 1)

    def begin(self) -> None:
        pass


@dataclass(frozen=True)
class VerifyCost:
    """v(n) = T(n) / T(1): what a pass over n tokens costs in one-token steps, after a context of any length.

    Measured after one or more context lengths (``lengths``, ascending): ``steps[i]`` is T(1) in
    seconds there and ``ratios[i]`` is v(1..n_max). Each T(n) is taken as linear in the context
    length (attention's share of a pass is), through the first and last measured lengths, and never
    falling with it; below the first length the first is used. One length: the same costs everywhere.
    """

    lengths: tuple[int, ...]
    steps: tuple[float, ...]
    ratios: tuple[tuple[float, ...], ...]
    _memo: dict[int, list[float]] = field(default_factory=dict, init=False, repr=False, compare=False)

    GRAIN = 32  # positions within one grain share their costs (computed once per grain)

    def __post_init__(self) -> None:
        if not self.lengths or not len(self.lengths) == len(self.steps) == len(self.ratios):
            raise ValueError("VerifyCost needs one step time and one v(n) curve per context length")
        if list(self.lengths) != sorted(set(self.lengths)) or min(self.steps) <= 0:
            raise ValueError("context lengths must ascend without repeats, step times must be > 0")
        if len({len(r) for r in self.ratios}) != 1 or len(self.ratios[0]) < 2 or min(min(r) for r in self.ratios) <= 0:
            raise ValueError("each v(n) curve needs the same n >= 2 values, all > 0")

    @classmethod
    def flat(cls, ratios: Sequence[float]) -> VerifyCost:
        """The same v(n) after any context."""
        return cls((0,), (1.0,), (tuple(ratios),))

    @property
    def n_max(self) -> int:
        return len(self.ratios[0])

    def at(self, position: int) -> list[float]:
        """v(1..n_max) for a pass after ``position`` tokens; normalised to v(1) = 1 and never falling with n."""
        grain = max(position, self.lengths[0]) // self.GRAIN
        if grain not in self._memo:
            self._memo[grain] = self._costs(max(grain * self.GRAIN, self.lengths[0]))
        return self._memo[grain]

    def _costs(self, position: int) -> list[float]:
        (l0, l1), (t0, t1) = (self.lengths[0], self.lengths[-1]), (self.steps[0], self.steps[-1])
        w = (position - l0) / (l1 - l0) if l1 > l0 else 0.0
        seconds = []
        for v0, v1 in zip(self.ratios[0], self.ratios[-1]):
            near, far = v0 * t0, v1 * t1
            seconds.append(near + w * max(far - near, 0.0))
        # a pass over more tokens costs at least what a shorter one did: a timing on a busy machine can say
        # otherwise (v(3) = 0.7 was measured beside a test run), and a dip would make long drafts look free
        return list(itertools.accumulate((s / seconds[0] for s in seconds), max))

    def describe(self) -> str:
        """v(n) after each measured length, ``after L tokens (T ms a step): 1:1.00 2:1.05 ...``, joined by "; "."""
        return "; ".join(f"after {length} tokens ({step * 1e3:.1f} ms a step): "
                         + " ".join(f"{n}:{v:.2f}" for n, v in enumerate(self.at(length), 1))
                         for length, step in zip(self.lengths, self.steps)) if len(self.lengths) > 1 \
            else " ".join(f"{n}:{v:.2f}" for n, v in enumerate(self.at(0), 1))

    def as_dict(self) -> dict[str, Any]:
        return {"lengths": list(self.lengths), "step_seconds": list(self.steps), "ratios": [list(r) for r in self.ratios]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyCost:
        """What :meth:`as_dict` wrote."""
        try:
            return cls(tuple(int(n) for n in data["lengths"]), tuple(float(t) for t in data["step_seconds"]),
                       tuple(tuple(float(v) for v in r) for r in data["ratios"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a verify cost needs lengths, step_seconds and ratios: {exc!r}") from None


LONG_CONTEXT = 1024  # tokens: the second context a server measures its verify cost after (a long document question's)
MATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)  # lower edges; a draft without a match length (a model's) is bucket 0


@dataclass
class CostAwareK:
    """Verify the prefix of each draft with the most expected tokens per unit of verify cost (see the module doc).

    ``verify_cost`` is a :class:`VerifyCost` (``measure_verify_cost`` measures one on a backend), or
    one v(n) curve for every position: ``verify_cost[i]`` = v(i + 1), the cost of a pass over i + 1
    tokens in single-token steps. The statistics
    persist across requests: a server learns them from its own traffic. ``request_weight`` (None:
    off) is how many drafts the traffic's first-position estimate weighs in a request's own, and
    ``request_decay`` how fast a request's own record fades, per draft.
    """

    verify_cost: Sequence[float] | VerifyCost
    k_max: int = 8
    buckets: Sequence[int] = MATCH_BUCKETS
    prior: float = 0.95
    prior_weight: float = 2.0
    explore_every: int = 16
    request_weight: float | None = 3.0
    request_decay: float = 0.8
    _drafted: list[list[int]] = field(init=False, repr=False)
    _accepted: list[list[int]] = field(init=False, repr=False)
    _unpaid: list[int] = field(init=False, repr=False)  # drafts per bucket that no k made pay (declined or explored)

    def __post_init__(self) -> None:
        if not isinstance(self.verify_cost, VerifyCost):
            if len(self.verify_cost) < 2 or self.verify_cost[0] <= 0:
                raise ValueError("verify_cost needs v(1) > 0 and at least v(2)")
            self.verify_cost = VerifyCost.flat(self.verify_cost)
        self.k_max = min(self.k_max, self.verify_cost.n_max - 1)
        if self.k_max < 1:
            raise ValueError("k_max must be at least 1")
        if not 0 < self.prior < 1 or self.prior_weight < 0 or self.explore_every < 1:
            raise ValueError("prior must be in (0, 1), prior_weight >= 0, explore_every >= 1")
        if (self.request_weight is not None and self.request_weight <= 0) or not 0 < self.request_decay <= 1:
            raise ValueError("request_weight must be > 0 (or None: off), request_decay in (0, 1]")
        size = len(self.buckets) + 1
        self._drafted = [[0] * self.k_max for _ in range(size)]
        self._accepted = [[0] * self.k_max for _ in range(size)]
        self._unpaid = [0] * size
        self.begin()

    def begin(self) -> None:
        self._request_accepted = self._request_expected = 0.0

    def request_factor(self) -> float:
        """This request's first-position acceptance over what the buckets expected of its drafts (1: no evidence)."""
        if self.request_weight is None:
            return 1.0
        return (self._request_accepted + self.request_weight) / (self._request_expected + self.request_weight)

    @property
    def k(self) -> int:
        return self.k_max

    def bucket(self, match: int) -> int:
        return bisect.bisect_right(self.buckets, match)

    def acceptance(self, bucket: int) -> list[float]:
        """Estimated probability that position i is accepted given that the ones before it were."""
        w, p = self.prior_weight, self.prior
        return [(a + p * w) / (d + w) for a, d in zip(self._accepted[bucket], self._drafted[bucket])]

    def keep(self, draft: Draft, budget: int, position: int = 0) -> int:
        n = min(len(draft.tokens), budget, self.k_max)
        if n == 0:
            return 0
        verify_cost = self.verify_cost.at(position)
        bucket = self.bucket(draft.match)
        acceptance = self.acceptance(bucket)[:n]
        acceptance[0] = min(acceptance[0] * self.request_factor(), 0.99)
        expected, survive, best_k, best_rate = 1.0, 1.0, 0, 0.0
        for k, a in enumerate(acceptance, start=1):
            survive *= a
            expected += survive
            rate = expected / verify_cost[k]
            if rate > best_rate:
                best_k, best_rate = k, rate
        if best_rate > 1.0:
            return best_k
        self._unpaid[bucket] += 1
        if self._unpaid[bucket] % self.explore_every == 0:
            return best_k  # tried anyway, so that the estimate can recover
        return 0

    def next(self, k: int, drafted: int, accepted: int, draft: Draft | None = None, emitted: Sequence[int] = ()) -> int:
        if draft is None or not draft.tokens:
            return k
        bucket = self.bucket(draft.match)
        if drafted or emitted:  # a declined draft: right if the plain step gave its first token
            first_right = accepted > 0 if drafted else emitted[0] == draft.tokens[0]
            self._request_expected = self.request_decay * self._request_expected + self.acceptance(bucket)[0]
            self._request_accepted = self.request_decay * self._request_accepted + first_right
        if drafted:
            for i in range(min(drafted, accepted + 1)):  # positions after the first rejection were not tested
                self._drafted[bucket][i] += 1
                self._accepted[bucket][i] += i < accepted
        return k

    def summary(self) -> list[dict[str, Any]]:
        """Per bucket: its match lengths, drafts verified, declined, and the estimated acceptance per position."""
        edges = [0, *self.buckets]
        out = []
        for b, lo in enumerate(edges):
            if b + 1 == len(edges):
                label = f"{lo}+"
            else:
                hi = edges[b + 1] - 1
                label = str(lo) if hi == lo else f"{lo}-{hi}"
            unpaid = self._unpaid[b]
            out.append({"match": label, "verified": self._drafted[b][0], "declined": unpaid - unpaid // self.explore_every,
                        "acceptance": [round(a, 3) for a in self.acceptance(b)]})
        return out


def verify_seconds(backend: Any, prompt: list[int], n_max: int = 9, reps: int = 7) -> dict[int, float]:
    """Median seconds of one ``feed`` of n tokens (all logits) after ``prompt``, n = 1..n_max: a pass verifying n - 1 drafts."""
    return {n: median(ts) for n, ts in _feed_times(backend, prompt, n_max, reps).items()}


def measure_verify_cost(backend: Any, prompt: list[int], n_max: int = 9, reps: int = 7,
                        long: int | None = None) -> VerifyCost:
    """``CostAwareK``'s ``verify_cost``: v(n) = the time of a feed of n tokens over one token's, n = 1..n_max.

    Measured after ``prompt`` and, given ``long``, also after a context of ``long`` tokens (``prompt``
    repeated: what a pass costs does not depend on which tokens precede it). Each v(n) is the median,
    over repetitions, of each repetition's own ratio: a change of load between two repetitions (other
    processes starting, as beside a server being started) cancels out.
    """
    contexts = [prompt]
    if long is not None and long > len(prompt):
        contexts.append((prompt * (long // len(prompt) + 1))[:long])
    lengths, steps, ratios = [], [], []
    for context in contexts:
        times = _feed_times(backend, context, n_max, reps)
        lengths.append(len(context))
        steps.append(median(times[1]))
        ratios.append(tuple(median(t / one for t, one in zip(times[n], times[1])) for n in range(1, n_max + 1)))
    return VerifyCost(tuple(lengths), tuple(steps), tuple(ratios))


def _feed_times(backend: Any, prompt: list[int], n_max: int, reps: int) -> dict[int, list[float]]:
    """Seconds of each feed of n tokens after ``prompt``; every repetition times each n once, in turn."""
    if len(prompt) < n_max + 1:
        raise ValueError(f"the calibration prompt needs more than {n_max} tokens")
    backend.reset()
    backend.feed(prompt, logits_from=len(prompt))
    times: dict[int, list[float]] = {n: [] for n in range(1, n_max + 1)}
    for _ in range(reps):
        for n in times:
            start = time.perf_counter()
            backend.feed(prompt[-n:])
            times[n].append(time.perf_counter() - start)
            backend.trim(len(prompt))
    backend.reset()
    return times
