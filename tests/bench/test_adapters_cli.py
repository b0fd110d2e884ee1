"""The real Claude Code, Codex and mini-SWE-agent CLIs as bench harnesses: scripted model -> gateway -> ledger, verified by hidden tests."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from inferaudit.bench import RunOptions, plan_from_dict, run_bench
from inferaudit.bench.adapters import process
from inferaudit.bench.errors import HarnessError
from inferaudit.bench.harness import Attempt, adapter_class
from inferaudit.bench.suite import Limits
from inferaudit.bench.workspace import WorkTree
from inferaudit.ledger import Ledger
from inferaudit.testing.scripted import TOOL_SHAPES, ScriptedModel, Step, Trajectory, solving_trajectory
from inferaudit.usage import Tokens

from .conftest import CHEAP_CHECK, gateway_config

# adapter -> (its CLI, a model name to run it with); the scripted trajectories use the adapter's own tool shapes
CLIS = {"claude-code": ("claude", "claude-haiku-4-5"), "codex": ("codex", "gpt-5.3-codex"),
        "mini-swe-agent": ("mini", "gpt-4o-mini")}
# mini-SWE-agent imports litellm before its first call: several seconds on a loaded 2-core machine
WALL_S = {"mini-swe-agent": 20}
TIMEOUT_S = 120  # the test's own bound: a hung CLI fails the test instead of the session


@pytest.fixture
def median(starter):
    return starter.only(["fix-median"])


def bench(suite, url: str, harnesses: dict, triples: list[dict], ledger: Path, **options):
    plan = plan_from_dict({"gateway": {"config": gateway_config(url)}, "harnesses": harnesses, "triples": triples})
    return run_bench(suite, plan, RunOptions(ledger=ledger, **options))


def with_limits(suite, **limits):
    return dataclasses.replace(suite, tasks=[dataclasses.replace(t, limits=Limits(**limits)) for t in suite.tasks])


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
@pytest.mark.parametrize("adapter", sorted(CLIS))
def test_a_real_cli_solves_a_starter_task_through_the_gateway(adapter, median, tmp_path, harness_cli):
    binary, model_name = CLIS[adapter]
    harness_cli(binary)  # skips where it is not installed; the adapter finds it the same way (no `binary` option)
    task = median.tasks[0]
    variant = f"{adapter}-default"
    with ScriptedModel({task.id: solving_trajectory(task, CHEAP_CHECK, tools=adapter)}) as model:
        summary = bench(median, model.url, {variant: {"adapter": adapter}},
                        [{"model": model_name, "harness": variant, "cache_policy": "auto"}], tmp_path / "l.duckdb")
    [report] = summary.reports
    assert summary.problems == [] and report.result.stop == "finished", report.result.message
    assert (report.run.outcome, report.run.verified_by) == ("resolved", "hidden-tests")
    assert report.verdict.exit_code == 0 and "stats.py" in report.result.message

    sent = model.requests
    assert [r.step for r in sent] == [0, 1, 2, 3]  # read, write, check, answer: every step taken with the CLI's tools
    assert report.result.turns == report.result.calls == len(sent)
    assert report.result.tokens == sum((r.tokens for r in sent), start=Tokens())  # what the CLI reported of itself
    with Ledger(tmp_path / "l.duckdb", read_only=True) as opened:
        rows = opened.con.execute("SELECT run_id, harness, tags->>'task', model, input, cache_read, cache_write_5m, "
                                  "cache_write_1h, output, reasoning FROM calls").fetchall()
        runs = opened.con.execute("SELECT run_id, harness, task_id, outcome FROM runs").fetchall()
    assert runs == [(report.run.run_id, variant, task.id, "resolved")]
    assert {r[:4] for r in rows} == {(report.run.run_id, variant, task.id, model_name)}
    recorded = Counter(Tokens(*r[4:]) for r in rows)
    assert recorded == Counter(r.tokens for r in sent)  # call by call, bucket by bucket
    assert sum(recorded.elements(), start=Tokens()).cache_read > 0  # Claude Code's breakpoints / Codex's cache key


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
@pytest.mark.parametrize("adapter", sorted(CLIS))
def test_the_turn_limit_stops_a_cli(adapter, median, tmp_path, harness_cli):
    path = harness_cli(CLIS[adapter][0])
    task = median.tasks[0]
    with ScriptedModel({task.id: solving_trajectory(task, CHEAP_CHECK, tools=adapter)}) as model:
        summary = bench(median, model.url, {"capped": {"adapter": adapter, "binary": path, "max_turns": 2}},
                        [{"model": CLIS[adapter][1], "harness": "capped"}], tmp_path / "l.duckdb")
    [report] = summary.reports
    assert report.result.stop == "max_turns", report.result.message
    assert (report.run.outcome, report.run.verified_by, report.verdict) == ("failed", "limit:max_turns", None)
    assert 2 <= len(model.requests) <= 3  # Codex is stopped from its log: a third call may be under way by then


def sleeper(seconds: str, adapter: str) -> Trajectory:
    return Trajectory("", (Step(None, (TOOL_SHAPES[adapter].run(f"sleep {seconds}"),)),))


def sleeping(seconds: str, wait_s: float = 0.0) -> list[int]:
    """Pids of `sleep <seconds>` processes alive now (or, with ``wait_s``, once there is one)."""
    until = time.monotonic() + wait_s
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", seconds.encode()]:
                    found.append(int(entry.name))
            except OSError:
                continue
        if found or time.monotonic() >= until:
            return found
        time.sleep(0.05)


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
@pytest.mark.parametrize("adapter", sorted(CLIS))
def test_the_wall_limit_stops_a_cli_and_what_it_started(adapter, median, tmp_path, harness_cli):
    path = harness_cli(CLIS[adapter][0])
    seconds = f"{97 + 3 * sorted(CLIS).index(adapter)}.25"  # a command line no other test runs
    wall_s = WALL_S.get(adapter, 4)
    suite = with_limits(median, wall_s=wall_s)
    with ScriptedModel({median.tasks[0].id: sleeper(seconds, adapter)}) as model:
        t0 = time.monotonic()
        summary = bench(suite, model.url, {adapter: {"adapter": adapter, "binary": path}},
                        [{"model": CLIS[adapter][1], "harness": adapter}], tmp_path / "l.duckdb")
        took = time.monotonic() - t0
    [report] = summary.reports
    assert report.result.stop == "wall", report.result.message
    assert (report.run.outcome, report.run.verified_by) == ("failed", "limit:wall")
    assert took < wall_s + 15 and len(model.requests) == 1
    assert sleeping(seconds) == []


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
@pytest.mark.parametrize("adapter", sorted(CLIS))
def test_cancelling_the_run_stops_a_cli_at_once(adapter, median, tmp_path, harness_cli):
    path = harness_cli(CLIS[adapter][0])
    task, seconds = median.tasks[0], f"{96 + 3 * sorted(CLIS).index(adapter)}.25"
    harness = adapter_class(adapter).from_options({"binary": path}, "test")
    tree = WorkTree.create(task, tmp_path / "tree")
    with ScriptedModel({task.id: sleeper(seconds, adapter)}) as model:  # spoken to directly: no gateway needed here
        attempt = Attempt(run_id="r", task=task, workdir=tree.root, model=CLIS[adapter][1], base_url=model.url,
                          cache_policy="auto", harness=adapter, headers={"x-inferaudit-task": task.id},
                          limits=task.limits, deadline=time.monotonic() + 60)
        threading.Thread(target=lambda: sleeping(seconds, wait_s=30) and attempt.cancel.set(), daemon=True).start()
        t0 = time.monotonic()
        result = harness.run(attempt)
    assert result.stop == "cancelled" and time.monotonic() - t0 < 30
    assert sleeping(seconds) == []


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
def test_a_model_the_gateway_does_not_serve_is_that_attempts_error(median, tmp_path, harness_cli):
    path = harness_cli("claude")
    with ScriptedModel({}) as model:
        config = gateway_config(model.url)
        config.pop("default_providers")
        config["models"] = {"claude-haiku-4-5": [{"provider": "anthropic"}]}
        plan = plan_from_dict({"gateway": {"config": config}, "harnesses": {"cc": {"adapter": "claude-code", "binary": path}},
                               "triples": [{"model": "no-such-model", "harness": "cc"}]})
        summary = run_bench(median, plan, RunOptions(ledger=tmp_path / "l.duckdb"))
    [report] = summary.reports
    assert (report.result.stop, report.run.outcome, report.result.calls) == ("error", "unknown", 0)
    assert "no-such-model" in report.result.message and model.requests == []
    assert summary.problems == [f"{report.plan.key}: harness error: {report.result.message}"]


def test_a_missing_binary_fails_that_attempt_only(median, tmp_path):
    task = median.tasks[0]
    harnesses = {"cc": {"adapter": "claude-code", "binary": str(tmp_path / "no-such-claude")},
                 "cx": {"adapter": "codex", "binary": str(tmp_path / "no-such-codex")},
                 "agent": {"adapter": "builtin"}}
    with ScriptedModel({task.id: solving_trajectory(task, CHEAP_CHECK)}) as model:
        summary = bench(median, model.url, harnesses,
                        [{"model": "gpt-4o-mini", "harness": h} for h in harnesses], tmp_path / "l.duckdb")
    by = {r.plan.triple.harness: r for r in summary.reports}
    assert by["agent"].run.outcome == "resolved"
    for name in ("cc", "cx"):
        assert (by[name].result.stop, by[name].run.outcome) == ("error", "unknown")
        assert "not found" in by[name].result.message
    assert len(summary.problems) == 2 and all("harness error" in p and "not found" in p for p in summary.problems)
    with Ledger(tmp_path / "l.duckdb", read_only=True) as opened:
        assert opened.counts()["runs"] == 3


def test_without_a_binary_the_error_says_to_run_make_tools(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(process, "_PROJECT", tmp_path)
    with pytest.raises(HarnessError, match=r"claude-code: the `claude` CLI is not installed: run `make tools`"):
        process.find_binary("claude", None, "claude-code")


def test_adapter_options_are_checked_by_name():
    from inferaudit.bench import TriplesError
    from inferaudit.bench.adapters.claude_code import ClaudeCode
    from inferaudit.bench.adapters.codex import Codex

    with pytest.raises(TriplesError, match=r"t\.yaml: harnesses\.cc: top level: unknown field\(s\) max_turn; known:"):
        ClaudeCode.from_options({"adapter": "claude-code", "max_turn": 3}, "t.yaml: harnesses.cc")
    with pytest.raises(TriplesError, match=r"harnesses\.cx: sandbox: 'off' is not one of none, workspace-write"):
        Codex.from_options({"sandbox": "off"}, "t.yaml: harnesses.cx")


def test_mini_swe_agent_settings_point_it_at_the_gateway(median, tmp_path):
    from inferaudit.bench import TriplesError
    from inferaudit.bench.adapters.mini_swe_agent import MiniSweAgent

    with pytest.raises(TriplesError, match=r"harnesses\.mini: top level: unknown field\(s\) steps; known:"):
        MiniSweAgent.from_options({"adapter": "mini-swe-agent", "steps": 3}, "t.yaml: harnesses.mini")
    task = median.tasks[0]
    attempt = Attempt(run_id="r", task=task, workdir=tmp_path, model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1",
                      cache_policy="none", harness="mini", headers={"x-inferaudit-task": task.id},
                      limits=Limits(max_turns=7), deadline=time.monotonic() + 60)
    settings = MiniSweAgent.from_options({"max_turns": 30}, "t").settings(attempt)
    assert settings["model"]["model_name"] == "openai/gpt-4o-mini"
    assert settings["model"]["model_kwargs"] == {"api_base": "http://127.0.0.1:9/v1", "api_key": "inferaudit-bench",
                                                 "extra_headers": {"x-inferaudit-task": task.id}}
    assert settings["model"]["set_cache_control"] is None and settings["agent"]["step_limit"] == 7
    assert settings["environment"] == {"cwd": str(tmp_path)}
    with pytest.raises(HarnessError, match="cache policy '1h' cannot be asked of mini-SWE-agent"):
        MiniSweAgent().settings(dataclasses.replace(attempt, cache_policy="1h"))


@pytest.mark.cli
@pytest.mark.timeout(TIMEOUT_S)
def test_aider_solves_a_starter_task_through_the_gateway(median, tmp_path, harness_cli):
    from inferaudit.testing.trajectories import whole_file_trajectory

    harness_cli("aider")
    task = median.tasks[0]
    with ScriptedModel({task.id: whole_file_trajectory(task)}) as model:
        summary = bench(median, model.url, {"aider-whole": {"adapter": "aider"}},
                        [{"model": "gpt-4o-mini", "harness": "aider-whole", "cache_policy": "none"}], tmp_path / "l.duckdb")
    [report] = summary.reports
    assert summary.problems == [] and report.result.stop == "finished", report.result.message
    assert (report.run.outcome, report.run.verified_by) == ("resolved", "hidden-tests")
    sent = model.requests
    assert len(sent) == report.result.calls == 1 and report.result.tokens == sent[0].tokens  # aider's own count
    with Ledger(tmp_path / "l.duckdb", read_only=True) as opened:
        rows = opened.con.execute("SELECT run_id, harness, tags->>'task', input, output FROM calls").fetchall()
    assert rows == [(report.run.run_id, "aider-whole", task.id, sent[0].tokens.input, sent[0].tokens.output)]


def test_aider_reads_its_token_lines():
    from inferaudit.bench.adapters.aider import _usage

    calls, tokens = _usage("Tokens: 770 sent, 17 received. Cost: $0.00013 message\nApplied edit\n"
                           "Tokens: 2.5k sent, 1.2k cache write, 800 cache hit, 50 received. Cost: $0.01 message")
    assert calls == 2 and tokens == Tokens(input=770 + 500, cache_read=800, cache_write_5m=1200, output=67)
