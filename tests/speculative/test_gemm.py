"""Tuned CPU products: every formulation computes ``nn.Linear``'s product; tuning swaps layers, not results."""

from __future__ import annotations

import copy

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


def test_a_copy_of_the_weight_is_kept_only_for_the_forms_the_plan_uses():
    layer = torch.nn.Linear(8, 4)
    assert gemm.TunedLinear(layer, {2: "(w@x.t).t"}).copies == {}
    assert gemm.TunedLinear(layer, {}).copies == {}
    copies = gemm.TunedLinear(layer, {1: "x@wt", 2: "x@wt", 3: "(w@x.t).t"}).copies
    assert list(copies) == ["x@wt"] and copies["x@wt"].shape == (8, 4)
    assert torch.equal(copies["x@wt"], layer.weight.detach().t())


@pytest.mark.skipif("onednn" not in gemm.FORMS, reason="this PyTorch has no oneDNN")
def test_onednn_gives_each_row_the_same_bits_whatever_rows_share_the_product():
    # what makes it a safe form for verification: a row's logits do not depend on the draft beside it
    torch.manual_seed(0)
    layer = torch.nn.Linear(576, 1536, bias=False)
    tuned = gemm.TunedLinear(layer, {rows: "onednn" for rows in range(1, 18)})
    x = torch.randn(17, 576)
    with torch.inference_mode():
        full = tuned(x)
        for rows in (1, 2, 5, 9):
            assert torch.equal(tuned(x[:rows]), full[:rows])


def test_linear_stays_unless_another_form_is_clearly_faster():
    assert gemm.choose({"linear": 10.0, "x@wt": 9.5, "(w@x.t).t": 9.8}) == "linear"  # within the 10% margin
    assert gemm.choose({"linear": 10.0, "x@wt": 5.0, "(w@x.t).t": 3.6}) == "(w@x.t).t"
    assert gemm.choose({"linear": 3.0, "x@wt": 5.0, "(w@x.t).t": 4.0}) == "linear"


def test_a_plans_every_entry_covers_the_row_counts_it_does_not_name():
    torch.manual_seed(0)
    layer = torch.nn.Linear(48, 80)
    tuned = gemm.TunedLinear(layer, {gemm.EVERY: "(w@x.t).t", 2: "x@wt"})
    assert tuned.otherwise[0] is gemm.FORMS["(w@x.t).t"][0] and set(tuned.plan) == {2}
    for rows in (1, 2, 300):
        x = torch.randn(rows, 48)
        with torch.inference_mode():
            torch.testing.assert_close(tuned(x), layer(x), rtol=1e-5, atol=1e-5)
    plans = {(80, 48): {gemm.EVERY: "(w@x.t).t", 2: "x@wt"}, (48, 80): {}}
    assert gemm.plans_to_json(plans) == {"80x48": {"*": "(w@x.t).t", "2": "x@wt"}, "48x80": {}}
    assert gemm.plans_from_json(gemm.plans_to_json(plans)) == plans
    assert gemm.describe(plans) == ["80x48: x@wt for rows 2; (w@x.t).t for every other row count", "48x80: linear throughout"]
    assert gemm.describe({(80, 48): {gemm.EVERY: "x@wt"}}) == ["80x48: x@wt for every row count"]


@pytest.mark.skipif("onednn" not in gemm.FORMS, reason="this PyTorch has no oneDNN")
def test_with_onednn_tuning_times_nothing_and_uses_it_for_every_row_count(tiny, monkeypatch):
    monkeypatch.setattr(gemm, "time_forms", lambda *a, **k: pytest.fail("timed although oneDNN is there"))
    plans = gemm.tune(copy.deepcopy(tiny))  # the fixture is shared by the module: tune a copy
    assert plans and all(plan == {gemm.EVERY: "onednn"} for plan in plans.values())


def test_without_onednn_tuning_times_the_other_forms(tiny, monkeypatch):
    monkeypatch.setattr(gemm, "FORMS", {name: f for name, f in gemm.FORMS.items() if name != "onednn"})
    plans = gemm.tune(copy.deepcopy(tiny), rows=range(1, 4), reps=1)
    assert all(gemm.EVERY not in plan and set(plan) <= {1, 2, 3} for plan in plans.values())


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
        def run(x, w, copy):
            calls[name] += 1
            clock[0] += seconds
        return run

    monkeypatch.setattr(gemm.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(gemm, "FORMS", {"fast": (form("fast", 1e-5), None), "slow": (form("slow", 3e-5), None)})
    timed = gemm.time_forms(torch.zeros(4, 4), rows=[2], reps=3, span=1e-3)
    # sized on one round of both forms (40 us): 2 x 1 ms / 40 us = 50 calls per timing, 2 warm-up rounds
    assert calls == {"fast": 2 + 3 * 50, "slow": 2 + 3 * 50}
    assert timed[2] == pytest.approx({"fast": 1e-5, "slow": 3e-5})
