"""`inferaudit bench run` end to end: scripted model -> gateway -> ledger -> `inferaudit audit`."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import yaml
from typer.testing import CliRunner

from inferaudit.bench import RunOptions, load_suite, plan_from_dict, run_bench
from inferaudit.cli import app
from inferaudit.ledger import Ledger
from inferaudit.pricing import PriceBook
from inferaudit.testing.scripted import ScriptedModel
from inferaudit.usage import Tokens

from .conftest import TASKS, gateway_config, trajectories

HARNESSES = {"agent-full": {"adapter": "builtin", "context": "full"},
             "agent-lean": {"adapter": "builtin", "context": "truncate", "keep_last": 2}}


def triples_file(path, url: str, policies=("none", "auto")) -> str:
    doc = {"gateway": {"config": gateway_config(url)}, "harnesses": HARNESSES,
           "triples": [{"model": "gpt-4o-mini", "harness": h, "cache_policy": c} for h in HARNESSES for c in policies]}
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_two_harnesses_two_cache_policies_three_tasks_two_attempts(scripted, tmp_path):
    ledger = tmp_path / "bench.duckdb"
    command = ["bench", "run", "starter", "--triples", triples_file(tmp_path / "triples.yaml", scripted.url),
               "--attempts", "2", "--parallel", "2", "--ledger", str(ledger), "--tasks", ",".join(TASKS), "--quiet"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output

    with Ledger(ledger) as opened:
        counts = opened.counts()
        runs = opened.con.execute("SELECT run_id, harness, cache_policy, task_id, outcome, verified_by FROM runs").fetchall()
        calls = opened.con.execute("SELECT run_id, harness, model, tags->>'task' FROM calls").fetchall()
    assert counts["runs"] == 24 and counts["calls"] == len(scripted.requests) > 0
    run_ids = {r[0] for r in runs}
    assert all(run_id in run_ids and harness in HARNESSES and model == "gpt-4o-mini" and task in TASKS
               for run_id, harness, model, task in calls)
    assert {r[4] for r in runs if r[3] == "feature-calc"} == {"failed"}
    assert {r[4] for r in runs if r[3] != "feature-calc"} == {"resolved"} and {r[5] for r in runs} == {"hidden-tests"}

    audit = CliRunner().invoke(app, ["audit", "--ledger", str(ledger), "--no-import", "--json", "--quiet"])
    assert audit.exit_code == 0, audit.output
    report = json.loads(audit.stdout)
    triples = {(t["harness"], t["cache_policy"]): t for t in report["triples"]}
    assert sorted(triples) == [(h, c) for h in sorted(HARNESSES) for c in ("auto", "none")]

    sent: dict[tuple, Tokens] = defaultdict(Tokens)  # what the upstream reported, per triple
    for r in scripted.requests:
        policy = dict(kv.split("=") for kv in r.headers["x-inferaudit-tags"].split(","))["cache_policy"]
        sent[(r.headers["x-inferaudit-harness"], policy)] += r.tokens
    book = PriceBook.load()
    for key, t in triples.items():
        assert t["model"] == "gpt-4o-mini" and t["benchmark"] == "starter" and t["runs"] == 6
        assert t["success_rate"] == pytest.approx(4 / 6)
        assert t["tokens"] == sent[key].as_dict()  # exact, bucket by bucket
        assert t["cost_usd"] == pytest.approx(book.cost("openai", "gpt-4o-mini", sent[key]))
        assert t["wall_time_s"] > 0 and t["wall_time_source"] == "runs"
    for harness in HARNESSES:
        none, auto = triples[(harness, "none")], triples[(harness, "auto")]
        assert none["tokens"]["cache_read"] == 0 and none["cache_hit_rate"] == 0
        assert auto["tokens"]["cache_read"] > 0 and auto["cache_hit_rate"] > 0.5
        assert auto["cost_usd"] < none["cost_usd"]
        assert sum(auto["tokens"][b] for b in ("input", "cache_read")) == sum(none["tokens"][b] for b in ("input", "cache_read"))

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert "24 attempt(s) already in the ledger: skipped" in again.output
    with Ledger(ledger) as opened:
        assert opened.counts()["runs"] == 24 and opened.counts()["calls"] == counts["calls"]
    assert len(scripted.requests) == counts["calls"]


def plan(url: str, triples: list[dict], harnesses=None, **gateway_extra):
    return plan_from_dict({"gateway": {"config": gateway_config(url, **gateway_extra)},
                           "harnesses": harnesses or {"agent": {"adapter": "builtin"}}, "triples": triples})


def test_more_attempts_later_runs_only_the_new_ones(three, tmp_path):
    suite = three.only(["fix-median"])
    with ScriptedModel(trajectories(suite)) as model:
        p = plan(model.url, [{"model": "gpt-4o-mini", "harness": "agent", "cache_policy": "auto"}])
        first = run_bench(suite, p, RunOptions(attempts=1, ledger=tmp_path / "l.duckdb"))
        second = run_bench(suite, p, RunOptions(attempts=3, ledger=tmp_path / "l.duckdb"))
    assert (first.skipped, len(first.reports)) == (0, 1)
    assert (second.skipped, sorted(r.plan.number for r in second.reports)) == (1, [2, 3])


def test_anthropic_explicit_one_hour_breakpoints_land_as_1h_writes(three, tmp_path):
    suite = three.only(["fix-median"])
    with ScriptedModel(trajectories(suite)) as model:
        p = plan(model.url, [{"model": "claude-haiku-4-5", "harness": "agent", "cache_policy": "explicit-1h"}],
                 {"agent": {"adapter": "builtin", "wire": "anthropic-messages"}})
        summary = run_bench(suite, p, RunOptions(attempts=2, ledger=tmp_path / "l.duckdb"))
    assert summary.outcomes == {"resolved": 2}
    with Ledger(tmp_path / "l.duckdb") as opened:
        w5, w1, read = opened.con.execute("SELECT sum(cache_write_5m), sum(cache_write_1h), sum(cache_read) FROM calls").fetchone()
        policy = opened.con.execute("SELECT DISTINCT cache_policy FROM runs").fetchall()
    assert w5 == 0 and w1 > 0 and read > 0 and policy == [("1h",)]
    sent = sum((r.tokens for r in model.requests), start=Tokens())
    assert (sent.cache_write_1h, sent.cache_read) == (w1, read)


def test_limits_unknown_models_and_broken_verifiers_are_per_attempt(three, tmp_path):
    suite = three.only(["fix-median", "fix-paginate"])
    with ScriptedModel(trajectories(suite)) as model:
        config = gateway_config(model.url)
        config.pop("default_providers")
        config["models"] = {"gpt-4o-mini": [{"provider": "openai"}]}
        p = plan_from_dict({"gateway": {"config": config},
                            "harnesses": {"agent": {"adapter": "builtin"}, "capped": {"adapter": "builtin", "max_turns": 2}},
                            "triples": [{"model": "gpt-4o-mini", "harness": "agent", "cache_policy": "none"},
                                        {"model": "gpt-4o-mini", "harness": "capped", "cache_policy": "none"},
                                        {"model": "no-such-model", "harness": "agent", "cache_policy": "none"}]})
        summary = run_bench(suite, p, RunOptions(parallel=2, ledger=tmp_path / "l.duckdb"))
    by = {(r.plan.triple.model, r.plan.triple.harness): r for r in summary.reports}
    assert by[("gpt-4o-mini", "agent")].run.outcome == "resolved"
    capped = by[("gpt-4o-mini", "capped")]
    assert (capped.run.outcome, capped.run.verified_by, capped.verdict) == ("failed", "limit:max_turns", None)
    unknown = by[("no-such-model", "agent")]
    assert (unknown.run.outcome, unknown.run.verified_by) == ("unknown", None)
    assert any("no-such-model" in p and "not served" in p for p in summary.problems)
    with Ledger(tmp_path / "l.duckdb") as opened:
        assert opened.counts()["runs"] == 6 and opened.counts()["events"] == 6


def test_a_crashing_verifier_makes_the_outcome_unknown(tmp_path):
    root = tmp_path / "suite"
    (root / "tasks" / "t" / "repo").mkdir(parents=True)
    (root / "tasks" / "t" / "hidden").mkdir()
    (root / "suite.yaml").write_text("name: crashy\n")
    (root / "tasks" / "t" / "repo" / "a.py").write_text("x = 1\n")
    (root / "tasks" / "t" / "task.yaml").write_text("instruction: do nothing at all\nverifier: {command: 'exit 7'}\n")
    suite = load_suite(root)
    with ScriptedModel({}) as model:
        summary = run_bench(suite, plan(model.url, [{"model": "gpt-4o-mini", "harness": "agent"}]),
                            RunOptions(ledger=tmp_path / "l.duckdb"))
    report = summary.reports[0]
    assert report.run.outcome == "unknown" and report.verdict.exit_code == 7
    assert summary.problems == [f"{report.plan.key}: verifier: verifier exited 7 (not 0 and not a fail code [1, 2])"]


def test_triples_file_errors_name_the_field(tmp_path):
    from inferaudit.bench import TriplesError, load_triples

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"gateway": {"url": "http://127.0.0.1:1"},
                                    "triples": [{"model": "m", "harness": "builtin", "cache_policy": "sometimes"}]}))
    with pytest.raises(TriplesError, match=r"t\.yaml: triples\[0\]\.cache_policy: 'sometimes' is not one of"):
        load_triples(path)
    path.write_text(yaml.safe_dump({"triples": [{"model": "m", "harness": "goose"}]}))
    with pytest.raises(TriplesError, match=r"triples\[0\]\.harness: 'goose' is neither listed under harnesses nor an adapter \(builtin, claude-code, codex, mini-swe-agent, aider\)"):
        load_triples(path)
