"""Tuned CPU products: every formulation computes ``nn.Linear``'s product; tuning swaps layers, not results."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from inferaudit.speculative.backends import gemm
from inferaudit.speculative.backends.hf import HFBackend
from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.drafters import NGramDrafter
from inferaudit.speculative.engine import KPolicy, speculate


@pytest.mark.parametrize("form", sorted(gemm.FORMS))
@pytest.mark.parametrize("bias", [False, True])
def test_every_form_computes_the_linear_layers_product(form, bias):
    torch.manual_seed(0)
    layer = torch.nn.Linear(48, 80, bias=bias)
    tuned = gemm.TunedLinear(layer, {rows: form for rows in range(1, 7)})
    for rows in (1, 2, 3, 6, 9):  # 9: outside the plan, so plain ``linear``
        x = torch.randn(1, rows, 48)
        with torch.inference_mode():
            assert tuned(x).shape == (1, rows, 80)
            torch.testing.assert_close(tuned(x), layer(x), rtol=1e-5, atol=1e-5)


def test_the_transposed_copy_is_kept_only_when_the_plan_uses_it():
    layer = torch.nn.Linear(8, 4)
    assert gemm.TunedLinear(layer, {2: "(w@x.t).t"}).weight_t is None
    assert gemm.TunedLinear(layer, {1: "x@wt"}).weight_t.shape == (8, 4)


def test_linear_stays_unless_another_form_is_clearly_faster():
    assert gemm.choose({"linear": 10.0, "x@wt": 9.5, "(w@x.t).t": 9.8}) == "linear"  # within the 10% margin
    assert gemm.choose({"linear": 10.0, "x@wt": 5.0, "(w@x.t).t": 3.6}) == "(w@x.t).t"
    assert gemm.choose({"linear": 3.0, "x@wt": 5.0, "(w@x.t).t": 4.0}) == "linear"


def test_describe_groups_row_counts_into_ranges():
    plans = {(49152, 576): {1: "x@wt", 2: "(w@x.t).t", 3: "(w@x.t).t", 4: "(w@x.t).t", 9: "(w@x.t).t"}, (576, 576): {}}
    assert gemm.describe(plans) == ["49152x576: x@wt for rows 1; (w@x.t).t for rows 2-4,9", "576x576: linear throughout"]


def test_tuning_swaps_every_linear_and_keeps_the_state_dict_and_the_tokens(tiny):
    prompt = [5, 17, 42, 17, 42, 9, 17, 42]
    keys, stock = set(tiny.state_dict()), list(decode(HFBackend(tiny), prompt, Sampling(max_tokens=24), set()))
    linears = sum(type(m) is torch.nn.Linear for m in tiny.modules())
    plans = gemm.tune(tiny, rows=range(1, 6), reps=1)
    assert sum(isinstance(m, gemm.TunedLinear) for m in tiny.modules()) == linears
    assert not any(type(m) is torch.nn.Linear for m in tiny.modules())
    assert set(tiny.state_dict()) == keys
    assert set(plans) == {(64, 64), (32, 64), (128, 64), (64, 128), (300, 64)}
    assert all(form in gemm.FORMS for plan in plans.values() for form in plan.values())
    assert list(decode(HFBackend(tiny), prompt, Sampling(max_tokens=24), set())) == stock
    spec = list(speculate(HFBackend(tiny), NGramDrafter(3, 1), prompt, Sampling(max_tokens=24), set(), KPolicy(k=4)))
    assert spec == stock


def test_each_timing_covers_enough_calls_to_outlast_the_clocks_noise(monkeypatch):
    clock, calls = [0.0], {"fast": 0, "slow": 0}

    def form(name, seconds):
        def run(x, w, wt):
            calls[name] += 1
            clock[0] += seconds
        return run

    monkeypatch.setattr(gemm.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(gemm, "FORMS", {"fast": (form("fast", 1e-5), False), "slow": (form("slow", 3e-5), False)})
    timed = gemm.time_forms(torch.zeros(4, 4), rows=[2], reps=3, span=1e-3)
    # sized on one round of both forms (40 us): 2 x 1 ms / 40 us = 50 calls per timing, 2 warm-up rounds
    assert calls == {"fast": 2 + 3 * 50, "slow": 2 + 3 * 50}
    assert timed[2] == pytest.approx({"fast": 1e-5, "slow": 3e-5})
