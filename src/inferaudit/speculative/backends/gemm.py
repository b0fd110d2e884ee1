"""CPU matrix products for a few rows at a time: oneDNN on reordered weights, else the fastest formulation by timing.

A verify pass multiplies a handful of rows (the draft plus one) by every
weight matrix. On CPU, PyTorch's ``linear`` hands that to the BLAS, whose
choice of kernel for 2-3 rows can be several times slower than for 1 or 5:
on the 2-core machine these numbers come from (torch 2.13 CPU, MKL),
SmolLM2-135M's output layer (49,152 x 576) took 10 ms for one row, 22 ms
for two and 34 ms for three, where ``W @ x.T`` took 3.6 ms for two rows and
``x @ W.T`` (with ``W.T`` stored contiguous) 5.0 ms for one. The forms
compute the same product; which is fastest depends on the BLAS, the machine
and the shape, so :func:`tune` times them per (weight shape, row count) once
at load and :class:`TunedLinear` uses the winner. The results can differ in
the last bits between formulations, as they already do between row counts
in the BLAS itself; greedy speculation only needs the argmax of the
target's logits to agree, which the identity tests check.

``onednn`` (where PyTorch is built with oneDNN) multiplies by a copy of the
weight that oneDNN has reordered into its own blocked layout once, at load,
as PyTorch's compiler does for CPU inference: its time hardly grows with the
rows (the gate and up projections, 1,536 x 576: 0.044 ms for one row, 0.071
for six, 0.153 for seventeen, against 0.058 / 0.173 / 0.311 for the best of
the other three; the output layer 4.8 / 3.9 / 6.6 ms against 5.3 / 7.0 /
18.9), and each row's result is bit for bit the same whatever the number of
rows beside it. It is faster for a prompt's hundreds of rows too (300 rows by
the output layer: 93 ms against ``linear``'s 149). So where PyTorch has it,
:func:`tune` times nothing: every product of every row count is ``onednn``
(a whole feed of 1-17 tokens after 300 took 41-61 ms, against 43-78 ms with
the per-row-count choice among all four forms, which times each product on
a weight that stays in cache, unlike in a forward pass). A plan names that
with the row count ``EVERY``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from statistics import median

import torch
from torch import nn

Form = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def _linear(x: torch.Tensor, w: torch.Tensor, copy: torch.Tensor | None) -> torch.Tensor:
    return nn.functional.linear(x, w)


def _x_wt(x: torch.Tensor, w: torch.Tensor, copy: torch.Tensor | None) -> torch.Tensor:
    return torch.mm(x, copy)


def _w_xt(x: torch.Tensor, w: torch.Tensor, copy: torch.Tensor | None) -> torch.Tensor:
    return torch.mm(w, x.t()).t()


def _onednn(x: torch.Tensor, w: torch.Tensor, copy: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, copy, None, "none", [], "")


def _transposed(w: torch.Tensor) -> torch.Tensor:
    return w.t().contiguous()


def _reordered(w: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(w, None)


def _has_onednn() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")


# name -> (computes x @ w.T from x, w and the form's own copy of w; makes that copy once, None: needs none)
FORMS: dict[str, tuple[Form, Callable[[torch.Tensor], torch.Tensor] | None]] = {
    "linear": (_linear, None), "x@wt": (_x_wt, _transposed), "(w@x.t).t": (_w_xt, None),
    **({"onednn": (_onednn, _reordered)} if _has_onednn() else {}),
}
DEFAULT = "linear"
PREFERRED = "onednn"  # used for every row count where available (see the module's docstring)
EVERY = 0  # a plan's row count for "every row count the plan does not name"
MARGIN = 0.9  # another form replaces ``linear`` only when at least 10% faster: a near tie is timing noise


class TunedLinear(nn.Module):
    """``nn.Linear`` with the formulation of its product chosen per row count (``plan``; row counts it
    does not name: its ``EVERY`` entry, else ``linear``).

    Keeps the layer's own ``weight`` and ``bias`` parameters (so a state dict is unchanged) and,
    per form of the plan that needs one, a copy of the weight in that form's layout (``copies``):
    taken once, for inference (a weight changed afterwards would leave the copies stale).
    """

    def __init__(self, linear: nn.Linear, plan: dict[int, str]):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        weight = linear.weight.detach()
        self.copies = {name: make(weight) for name in sorted(set(plan.values())) if (make := FORMS[name][1])}
        self.plan = {rows: (FORMS[name][0], self.copies.get(name)) for rows, name in plan.items()}
        self.otherwise = self.plan.pop(EVERY, (_linear, None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        form, copy = self.plan.get(rows.shape[0], self.otherwise)
        y = form(rows, self.weight, copy)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


def time_forms(w: torch.Tensor, rows: Iterable[int], reps: int = 5, span: float = 1e-3) -> dict[int, dict[str, float]]:
    """Median seconds of each form per row count, the forms interleaved so that drift hits them alike.

    Each timing covers enough calls to last about ``span`` seconds: one product of a few rows by a
    small matrix takes tens of microseconds, where one reading of the clock is noise enough to
    choose the wrong form (and so to move the verify cost from one load to the next).
    """
    copies = {name: make(w) if make else None for name, (_, make) in FORMS.items()}
    out: dict[int, dict[str, float]] = {}
    with torch.inference_mode():
        for m in rows:
            x = torch.randn(m, w.shape[1], dtype=w.dtype, device=w.device)
            for _ in range(2):  # the first round warms caches and the BLAS's buffers, the second sizes the timed batches
                start = time.perf_counter()
                for name, (form, _) in FORMS.items():
                    form(x, w, copies[name])
            calls = max(1, round(span * len(FORMS) / (time.perf_counter() - start)))  # span 0: one call a timing
            times: dict[str, list[float]] = {name: [] for name in FORMS}
            for _ in range(reps):
                for name, (form, _) in FORMS.items():
                    start = time.perf_counter()
                    copy = copies[name]
                    for _ in range(calls):
                        form(x, w, copy)
                    times[name].append((time.perf_counter() - start) / calls)
            out[m] = {name: median(ts) for name, ts in times.items()}
    return out


def choose(timings: dict[str, float]) -> str:
    """The fastest form, with ``linear`` kept unless another beats it by the margin."""
    best = min(timings, key=timings.__getitem__)
    return best if timings[best] < MARGIN * timings[DEFAULT] else DEFAULT


def tune(model: nn.Module, rows: Iterable[int] = range(1, 18), reps: int = 5,
         span: float = 1e-3) -> dict[tuple[int, int], dict[int, str]]:
    """Replace every CPU ``nn.Linear`` of ``model`` by a :class:`TunedLinear`: ``onednn`` for every row
    count where PyTorch has it, else one timing per weight shape (``reps`` and ``span``: as in
    :func:`time_forms`) of the forms for each of ``rows``.

    Returns the plan per (out, in) shape: row count (or ``EVERY``) -> form, for the row counts where
    a form other than ``linear`` is used.
    """
    rows = list(rows)
    plans: dict[tuple[int, int], dict[int, str]] = {}
    for _, _, linear in _linears(model):
        shape = tuple(linear.weight.shape)
        if shape in plans:
            continue
        if PREFERRED in FORMS:
            plans[shape] = {EVERY: PREFERRED}
        else:
            timed = time_forms(linear.weight.detach(), rows, reps, span)
            plans[shape] = {m: form for m, t in timed.items() if (form := choose(t)) != DEFAULT}
    return apply(model, plans)


def unknown_forms(plans: dict[tuple[int, int], dict[int, str]]) -> list[str]:
    """The forms ``plans`` name that this PyTorch does not have (``onednn`` where it lacks oneDNN), sorted."""
    return sorted({form for plan in plans.values() for form in plan.values()} - set(FORMS))


def apply(model: nn.Module, plans: dict[tuple[int, int], dict[int, str]]) -> dict[tuple[int, int], dict[int, str]]:
    """Replace every CPU ``nn.Linear`` of ``model`` by a :class:`TunedLinear` with a given plan (a shape
    the plans leave out keeps ``linear`` throughout); returns the plans, one per shape of the model."""
    unknown = unknown_forms(plans)
    if unknown:
        raise ValueError(f"unknown product forms {unknown}: use {', '.join(FORMS)}")
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
    """``{"OUTxIN": {"rows": form}}``, ``EVERY`` written ``"*"``: what :func:`plans_from_json` reads back."""
    return {f"{out}x{inp}": {("*" if m == EVERY else str(m)): form for m, form in sorted(plan.items())}
            for (out, inp), plan in plans.items()}


def plans_from_json(data: dict[str, dict[str, str]]) -> dict[tuple[int, int], dict[int, str]]:
    try:
        return {tuple(int(x) for x in shape.split("x")): {(EVERY if m == "*" else int(m)): form for m, form in plan.items()}  # type: ignore[misc]
                for shape, plan in data.items()}
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"a products plan maps 'OUTxIN' to {{rows or '*': form}}: {exc}") from None


def describe(plans: dict[tuple[int, int], dict[int, str]]) -> list[str]:
    """One line per weight shape: which rows use which form."""
    lines = []
    for (out, inp), plan in plans.items():
        by_form: dict[str, list[int]] = {}
        for m, form in sorted(plan.items()):
            if m != EVERY:
                by_form.setdefault(form, []).append(m)
        parts = [f"{form} for rows {_ranges(ms)}" for form, ms in by_form.items()]
        otherwise = plan.get(EVERY)
        if otherwise:
            parts.append(f"{otherwise} for {'every other row count' if parts else 'every row count'}")
        lines.append(f"{out}x{inp}: {'; '.join(parts) or 'linear throughout'}")
    return lines


def _ranges(ms: list[int]) -> str:
    spans: list[list[int]] = []
    for m in ms:
        if spans and m == spans[-1][1] + 1:
            spans[-1][1] = m
        else:
            spans.append([m, m])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
