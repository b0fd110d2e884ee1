"""Which drafter and which K: predicted speedup from acceptance and relative cost.

With a per-token acceptance probability ``alpha`` (the chance the target
keeps a draft token, given it kept the ones before) and a drafter that
costs ``c = T_draft / T_target`` per token, one step of K drafts emits on
average ``(1 - alpha^(K+1)) / (1 - alpha)`` tokens for ``K c + 1`` target-
step equivalents, so

    S(K) = (1 - alpha^(K+1)) / ((1 - alpha) (K c + 1)).

When the verify pass of K+1 tokens costs more than one plain step (CPU, or
large batches on a GPU), ``v(K) = T_verify(K) / T_target`` replaces the 1:
``S(K) = E[tokens] / (K c + v(K))``. With acceptance measured per draft
position, E[tokens] = 1 + sum_i prod_{j<=i} a_j replaces the closed form.

Which quantity an alert or a report means matters: vLLM's
``draft_acceptance_rate`` is accepted / drafted over fixed-K steps, which
is ``alpha (1 - alpha^K) / (K (1 - alpha))``, not alpha. ``alpha_from_rate``
inverts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


def expected_tokens(alpha: float, k: int) -> float:
    """Tokens one step of ``k`` drafts emits on average (accepted drafts plus the target's own)."""
    if k < 0 or not 0 <= alpha <= 1:
        raise ValueError(f"need k >= 0 and 0 <= alpha <= 1, got k={k}, alpha={alpha}")
    if alpha == 1:
        return k + 1.0
    return (1 - alpha ** (k + 1)) / (1 - alpha)


def expected_tokens_per_position(accept: Sequence[float]) -> float:
    """The same from per-position acceptance: ``accept[i]`` = P(draft i kept | drafts before it kept)."""
    total, survive = 1.0, 1.0
    for a in accept:
        survive *= a
        total += survive
    return total


def speedup(alpha: float, k: int, c: float, verify_cost: Callable[[int], float] | None = None) -> float:
    """Predicted end-to-end speedup over plain decoding; ``verify_cost(k)`` defaults to 1 (one target step)."""
    if c < 0:
        raise ValueError(f"the drafter's relative cost c must be >= 0, got {c}")
    v = verify_cost(k) if verify_cost else 1.0
    return expected_tokens(alpha, k) / (k * c + v)


def draft_acceptance_rate(alpha: float, k: int) -> float:
    """What vLLM reports (accepted / drafted) for fixed-K steps with per-token acceptance ``alpha``."""
    if k <= 0:
        raise ValueError("k must be >= 1")
    return (expected_tokens(alpha, k) - 1) / k


def alpha_from_rate(rate: float, k: float) -> float:
    """Invert :func:`draft_acceptance_rate` (k may be a mean K); bisection, monotone in alpha."""
    if not 0 <= rate <= 1:
        raise ValueError(f"an acceptance rate is in [0, 1], got {rate}")
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        value = _rate_fractional(mid, k)
        lo, hi = (mid, hi) if value < rate else (lo, mid)
    return (lo + hi) / 2


def _rate_fractional(alpha: float, k: float) -> float:
    # interpolate between neighbouring integer K for a mean K
    low = int(k)
    if low < 1:
        return alpha
    frac = k - low
    r_low = draft_acceptance_rate(alpha, low)
    return r_low if frac == 0 else (1 - frac) * r_low + frac * draft_acceptance_rate(alpha, low + 1)


@dataclass(frozen=True)
class Candidate:
    name: str
    alpha: float
    c: float


@dataclass(frozen=True)
class Advice:
    drafter: str
    k: int
    speedup: float
    table: dict[str, list[float]]  # drafter -> S(K) for K = 1..k_max
    reason: str


def advise(candidates: Sequence[Candidate], k_max: int = 8, verify_cost: Callable[[int], float] | None = None) -> Advice:
    """The drafter and K with the highest predicted speedup, and why, in the user's own numbers."""
    if not candidates:
        raise ValueError("no drafter to advise on")
    table = {cand.name: [speedup(cand.alpha, k, cand.c, verify_cost) for k in range(1, k_max + 1)] for cand in candidates}
    name, k, best = max(((n, i + 1, s) for n, row in table.items() for i, s in enumerate(row)), key=lambda t: t[2])
    winner = next(c for c in candidates if c.name == name)
    lines = [f"{name} at K={k}: predicted {best:.2f}x (alpha {winner.alpha:.2f}, c {winner.c:.3f})."]
    for other in candidates:
        if other.name == name:
            continue
        o_best = max(table[other.name])
        o_k = table[other.name].index(o_best) + 1
        why = ("it accepts more" if other.alpha > winner.alpha else "it accepts less") + \
              f" (alpha {other.alpha:.2f}) but each draft token costs {other.c / winner.c:.1f}x as much" if winner.c > 0 \
            else f"alpha {other.alpha:.2f}, c {other.c:.3f}"
        lines.append(f"{other.name}: best {o_best:.2f}x at K={o_k}; {why}: drafting cost is paid at every"
                     f" step while acceptance saturates, so the cheaper drafter wins here.")
    if best <= 1.0:
        lines.append("No drafter pays on these numbers: serve without speculation.")
    return Advice(drafter=name, k=k, speedup=best, table=table, reason=" ".join(lines))
