"""CPU matrix products for a few rows at a time: the fastest of three equal formulations, chosen by timing.

A verify pass multiplies a handful of rows (the draft plus one) by every
weight matrix. On CPU, PyTorch's ``linear`` hands that to the BLAS, whose
choice of kernel for 2-3 rows can be several times slower than for 1 or 5:
on the 2-core machine these numbers come from (torch 2.13 CPU, MKL),
SmolLM2-135M's output layer (49,152 x 576) took 10 ms for one row, 22 ms
for two and 34 ms for three, where ``W @ x.T`` took 3.6 ms for two rows and
``x @ W.T`` (with ``W.T`` stored contiguous) 5.0 ms for one. The three
compute the same product; which is fastest depends on the BLAS, the machine
and the shape, so :func:`tune` times them per (weight shape, row count) once
at load and :class:`TunedLinear` uses the winner. The results can differ in
the last bits between formulations, as they already do between row counts
in the BLAS itself; greedy speculation only needs the argmax of the
target's logits to agree, which the identity tests check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from statistics import median

import torch
from torch import nn

Form = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def _linear(x: torch.Tensor, w: torch.Tensor, wt: torch.Tensor | None) -> torch.Tensor:
    return nn.functional.linear(x, w)


def _x_wt(x: torch.Tensor, w: torch.Tensor, wt: torch.Tensor | None) -> torch.Tensor:
    return torch.mm(x, wt)


def _w_xt(x: torch.Tensor, w: torch.Tensor, wt: torch.Tensor | None) -> torch.Tensor:
    return torch.mm(w, x.t()).t()


# name -> (computes x @ w.T from x, w and w.T stored contiguous, needs that copy)
FORMS: dict[str, tuple[Form, bool]] = {"linear": (_linear, False), "x@wt": (_x_wt, True), "(w@x.t).t": (_w_xt, False)}
DEFAULT = "linear"
MARGIN = 0.9  # another form replaces ``linear`` only when at least 10% faster: a near tie is timing noise


class TunedLinear(nn.Module):
    """``nn.Linear`` with the formulation of its product chosen per row count (``plan``; others: ``linear``).

    Keeps the layer's own ``weight`` and ``bias`` parameters (so a state dict is unchanged) and,
    when the plan uses it, a contiguous copy of the transposed weight: taken once, for inference
    (a weight changed afterwards would leave the copy stale).
    """

    def __init__(self, linear: nn.Linear, plan: dict[int, str]):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        self.plan = {rows: FORMS[name][0] for rows, name in plan.items()}
        needs_wt = any(FORMS[name][1] for name in plan.values())
        self.register_buffer("weight_t", linear.weight.detach().t().contiguous() if needs_wt else None, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        y = self.plan.get(rows.shape[0], _linear)(rows, self.weight, self.weight_t)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


def time_forms(w: torch.Tensor, rows: Iterable[int], reps: int = 5, span: float = 1e-3) -> dict[int, dict[str, float]]:
    """Median seconds of each form per row count, the forms interleaved so that drift hits them alike.

    Each timing covers enough calls to last about ``span`` seconds: one product of a few rows by a
    small matrix takes tens of microseconds, where one reading of the clock is noise enough to
    choose the wrong form (and so to move the verify cost from one load to the next).
    """
    wt = w.t().contiguous()
    out: dict[int, dict[str, float]] = {}
    with torch.inference_mode():
        for m in rows:
            x = torch.randn(m, w.shape[1], dtype=w.dtype, device=w.device)
            for _ in range(2):  # the first round warms caches and the BLAS's buffers, the second sizes the timed batches
                start = time.perf_counter()
                for form, _ in FORMS.values():
                    form(x, w, wt)
            calls = max(1, round(span * len(FORMS) / (time.perf_counter() - start)))  # span 0: one call a timing
            times: dict[str, list[float]] = {name: [] for name in FORMS}
            for _ in range(reps):
                for name, (form, _) in FORMS.items():
                    start = time.perf_counter()
                    for _ in range(calls):
                        form(x, w, wt)
                    times[name].append((time.perf_counter() - start) / calls)
            out[m] = {name: median(ts) for name, ts in times.items()}
    return out


def choose(timings: dict[str, float]) -> str:
    """The fastest form, with ``linear`` kept unless another beats it by the margin."""
    best = min(timings, key=timings.__getitem__)
    return best if timings[best] < MARGIN * timings[DEFAULT] else DEFAULT


def tune(model: nn.Module, rows: Iterable[int] = range(1, 18), reps: int = 5,
         span: float = 1e-3) -> dict[tuple[int, int], dict[int, str]]:
    """Replace every CPU ``nn.Linear`` of ``model`` by a :class:`TunedLinear`; one timing per weight shape
    (``reps`` and ``span``: as in :func:`time_forms`).

    Returns the plan per (out, in) shape: row count -> form, for the row counts where a form other
    than ``linear`` won.
    """
    rows = list(rows)
    plans: dict[tuple[int, int], dict[int, str]] = {}
    for _, _, linear in _linears(model):
        shape = tuple(linear.weight.shape)
        if shape not in plans:
            timed = time_forms(linear.weight.detach(), rows, reps, span)
            plans[shape] = {m: form for m, t in timed.items() if (form := choose(t)) != DEFAULT}
    return apply(model, plans)


def apply(model: nn.Module, plans: dict[tuple[int, int], dict[int, str]]) -> dict[tuple[int, int], dict[int, str]]:
    """Replace every CPU ``nn.Linear`` of ``model`` by a :class:`TunedLinear` with a given plan (a shape
    the plans leave out keeps ``linear`` throughout); returns the plans, one per shape of the model."""
    unknown = {form for plan in plans.values() for form in plan.values()} - set(FORMS)
    if unknown:
        raise ValueError(f"unknown product forms {sorted(unknown)}: use {', '.join(FORMS)}")
    used: dict[tuple[int, int], dict[int, str]] = {}
    for parent, name, linear in _linears(model):
        shape = tuple(linear.weight.shape)
        used[shape] = plans.get(shape, {})
        setattr(parent, name, TunedLinear(linear, used[shape]))
    return used


def _linears(model: nn.Module) -> list[tuple[nn.Module, str, nn.Linear]]:
    return [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
            if type(child) is nn.Linear and child.weight.device.type == "cpu"]


def plans_to_json(plans: dict[tuple[int, int], dict[int, str]]) -> dict[str, dict[str, str]]:
    """``{"OUTxIN": {"rows": form}}``: what :func:`plans_from_json` reads back."""
    return {f"{out}x{inp}": {str(m): form for m, form in sorted(plan.items())} for (out, inp), plan in plans.items()}


def plans_from_json(data: dict[str, dict[str, str]]) -> dict[tuple[int, int], dict[int, str]]:
    try:
        return {tuple(int(x) for x in shape.split("x")): {int(m): form for m, form in plan.items()}  # type: ignore[misc]
                for shape, plan in data.items()}
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"a products plan maps 'OUTxIN' to {{rows: form}}: {exc}") from None


def describe(plans: dict[tuple[int, int], dict[int, str]]) -> list[str]:
    """One line per weight shape: which rows use which form."""
    lines = []
    for (out, inp), plan in plans.items():
        by_form: dict[str, list[int]] = {}
        for m, form in sorted(plan.items()):
            by_form.setdefault(form, []).append(m)
        detail = "; ".join(f"{form} for rows {_ranges(ms)}" for form, ms in by_form.items()) or "linear throughout"
        lines.append(f"{out}x{inp}: {detail}")
    return lines


def _ranges(ms: list[int]) -> str:
    spans: list[list[int]] = []
    for m in ms:
        if spans and m == spans[-1][1] + 1:
            spans[-1][1] = m
        else:
            spans.append([m, m])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
