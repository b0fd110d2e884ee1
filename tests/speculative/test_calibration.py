"""A server's start-up timings (products plan, verify cost) written to a file and reused by another start."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.speculative.policy import CostAwareK, VerifyCost

torch = pytest.importorskip("torch")

from inferaudit.speculative.backends import gemm
from inferaudit.speculative.calibration import Calibration

COST = VerifyCost((106, 1024), (0.0524, 0.0608), ((1.0, 1.0, 1.01), (1.0, 1.2, 1.37)))
PLANS = {(49152, 576): {1: "x@wt", 2: "(w@x.t).t"}, (576, 576): {}}


def test_a_calibration_reads_back_what_was_written(tmp_path):
    path = tmp_path / "calibration.json"
    Calibration(PLANS, COST).save(path)
    assert json.loads(path.read_text())["gemm_plans"] == {"49152x576": {"1": "x@wt", "2": "(w@x.t).t"}, "576x576": {}}
    back = Calibration.read(path)
    assert back.gemm_plans == PLANS and back.verify_cost == COST
    assert back.verify_cost.at(2000) == COST.at(2000)  # the same costs at every position
    Calibration(None, None).save(path)  # a plain llama.cpp server: nothing timed
    assert Calibration.read(path) == Calibration(None, None)


@pytest.mark.parametrize(("text", "message"), [("{", "not a calibration"), ("[1]", "JSON object"),
                                                ('{"gemm_plans": null, "verify_cost": {"lengths": [1]}}', "step_seconds"),
                                                ('{"gemm_plans": {"wide": {}}, "verify_cost": null}', "OUTxIN"),
                                                ('{"gemm_plans": {"8x4": {"*": "amx"}}, "verify_cost": null}',
                                                 "uses amx, which this PyTorch lacks")])
def test_a_calibration_that_cannot_be_read_names_its_file(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.json") as caught:
        Calibration.read(path)
    assert message in str(caught.value)
    with pytest.raises(ValueError, match="missing.json"):
        Calibration.read(tmp_path / "missing.json")


def test_a_given_plan_replaces_every_linear_layer_without_timing(tiny, monkeypatch):
    monkeypatch.setattr(gemm, "time_forms", lambda *a, **k: pytest.fail("a given plan is not timed"))
    plans = gemm.apply(tiny, {(64, 64): {2: "(w@x.t).t", 3: "x@wt"}})
    tuned = [m for m in tiny.modules() if isinstance(m, gemm.TunedLinear)]
    assert tuned and not any(type(m) is torch.nn.Linear for m in tiny.modules())
    assert plans[(64, 64)] == {2: "(w@x.t).t", 3: "x@wt"} and plans[(300, 64)] == {}  # left out: linear throughout
    assert gemm.plans_from_json(json.loads(json.dumps(gemm.plans_to_json(plans)))) == plans
    with pytest.raises(ValueError, match="unknown product forms"):
        gemm.apply(tiny, {(64, 64): {2: "einsum"}})


def test_the_policy_weighs_drafts_by_a_read_verify_cost_as_by_a_measured_one():
    read = VerifyCost.from_dict(json.loads(json.dumps(COST.as_dict())))
    draft_costs = [CostAwareK(cost, k_max=2).verify_cost.at(p) for cost in (COST, read) for p in (0, 500, 3000)]
    assert draft_costs[:3] == draft_costs[3:]


@pytest.mark.parametrize(("args", "message"), [(["--calibration", "{missing}"], "No such file"),
                                               (["--calibration", "{short}", "--cost-aware", "--k", "8"], "--k 8 needs 9")])
def test_serve_model_refuses_a_calibration_it_cannot_use_before_loading_anything(tmp_path, args, message):
    short = tmp_path / "short.json"
    Calibration(None, COST).save(short)  # passes of up to 3 tokens
    args = [a.format(missing=tmp_path / "missing.json", short=short) for a in args]
    result = CliRunner().invoke(app, ["serve-model", "--draft", "ngram", "--backend", "transformers", "--port", "1", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())
