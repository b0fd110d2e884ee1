"""The built-in agent: tools, context policies, cache-policy request shaping, and the loop's limits."""

from __future__ import annotations

import json
import socket
import time

import pytest

from inferaudit.bench.agent import AgentConfig, BuiltinAgent
from inferaudit.bench.agent.context import CONTEXT_POLICIES
from inferaudit.bench.agent.tools import ToolEnv, call_tool
from inferaudit.bench.agent.wire import WIRES, Request
from inferaudit.bench.harness import Attempt
from inferaudit.bench.workspace import WorkTree
from inferaudit.testing.scripted import ScriptedModel, Step, Trajectory, solving_trajectory

# -- tools -----------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\ny = 1\n")
    return ToolEnv(tmp_path, shell_timeout_s=5, output_chars=400, deadline=time.monotonic() + 60)


def test_paths_outside_the_tree_are_refused(env):
    assert call_tool(env, "read_file", {"path": "../etc/passwd"}).startswith("error: ../etc/passwd: outside")
    assert call_tool(env, "write_file", {"path": "/tmp/x", "content": "no"}).startswith("error:")
    assert call_tool(env, "read_file", json.dumps({"path": "a.py"})) == "x = 1\ny = 1\n"


def test_edit_needs_exactly_one_occurrence(env):
    assert "found 2 times" in call_tool(env, "edit_file", {"path": "a.py", "old": "= 1", "new": "= 2"})
    assert call_tool(env, "edit_file", {"path": "a.py", "old": "y = 1", "new": "y = 2"}) == "edited a.py"
    assert (env.root / "a.py").read_text() == "x = 1\ny = 2\n"


def test_shell_is_bounded_in_time_and_output(env):
    started = time.monotonic()
    out = call_tool(ToolEnv(env.root, 0.5, 400, env.deadline), "run_shell", {"command": "echo start; sleep 30"})
    assert out.startswith("timed out") and "start" in out and time.monotonic() - started < 5
    long = call_tool(env, "run_shell", {"command": "python -c \"print('z' * 5000)\""})
    assert long.startswith("exit code 0") and "characters cut" in long and len(long) < 600


def test_bad_tool_calls_come_back_as_text(env):
    assert call_tool(env, "delete_all", {}).startswith("error: no tool named")
    assert call_tool(env, "read_file", "{not json").startswith("error: arguments are not valid JSON")


# -- context policies ----------------------------------------------------------------------


def episode(turns: int) -> list[dict]:
    out = [{"role": "user", "content": "the task"}]
    for i in range(turns):
        out.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": json.dumps({"path": f"f{i}.py"})}}]})
        out.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"contents of f{i}"})
    return out


def test_truncate_keeps_the_task_and_whole_recent_steps():
    messages = episode(5)
    view = CONTEXT_POLICIES["truncate"](messages, 3)
    assert view[0] == messages[0] and view[1]["role"] == "assistant" and view[-1] == messages[-1]
    assert len(view) == 5  # the task + the last two steps (the window reaches back to a call)
    assert CONTEXT_POLICIES["full"](messages, 3) is messages
    assert CONTEXT_POLICIES["truncate"](episode(1), 3) == episode(1)


def test_summarise_replaces_dropped_steps_with_a_summary_of_the_raw_episode():
    messages = episode(5)
    view = CONTEXT_POLICIES["summarise"](messages, 2)
    summary = view[1]["content"]
    assert view[1]["role"] == "user" and "read_file(path='f0.py') -> contents of f0" in summary
    assert "f4.py" not in summary and view[-1] == messages[-1] and len(messages) == 11  # the episode is untouched


# -- cache-policy request shaping ----------------------------------------------------------------


def request(policy: str) -> Request:
    return Request(model="m", system="be brief", messages=episode(2), max_tokens=100, temperature=0.0,
                   cache_policy=policy, cache_key="fix-median")


def markers(value) -> list:
    found = []
    if isinstance(value, dict):
        if "cache_control" in value:
            found.append(value["cache_control"])
        for v in value.values():
            found += markers(v)
    elif isinstance(value, list):
        for v in value:
            found += markers(v)
    return found


def test_anthropic_cache_policies():
    wire = WIRES["anthropic-messages"]
    assert markers(wire.body(request("none"))) == []
    auto = wire.body(request("auto"))
    assert auto["cache_control"] == {"type": "ephemeral"} and len(markers(auto)) == 1
    for ttl in ("5m", "1h"):
        body = wire.body(request(ttl))
        assert markers(body) == [{"type": "ephemeral", "ttl": ttl}] * 3  # within Anthropic's 4 breakpoints
        assert body["tools"][-1]["cache_control"] == body["system"][-1]["cache_control"]
        assert body["messages"][-1]["content"][-1] == {"type": "tool_result", "tool_use_id": "c1",
                                                         "content": "contents of f1", "cache_control": {"type": "ephemeral", "ttl": ttl}}


def test_anthropic_turns_alternate_with_tool_results_in_user_turns():
    body = WIRES["anthropic-messages"].body(request("none"))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][1]["content"] == [{"type": "tool_use", "id": "c0", "name": "read_file", "input": {"path": "f0.py"}}]


def test_openai_cache_policies():
    wire = WIRES["openai-chat"]
    none = wire.body(request("none"))
    assert "prompt_cache_key" not in none and markers(none) == []
    assert wire.body(request("auto"))["prompt_cache_key"] == "fix-median" and markers(wire.body(request("auto"))) == []
    hour = wire.body(request("1h"))
    assert hour["messages"][0]["content"] == [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    assert markers(hour["messages"][-1]) == [{"type": "ephemeral", "ttl": "1h"}] and len(markers(hour)) == 2


def test_unknown_knob_values_are_refused():
    from inferaudit.bench import TriplesError

    with pytest.raises(TriplesError, match="context: 'forget' is not one of full, truncate, summarise"):
        AgentConfig.from_options({"context": "forget"}, "t.yaml: harnesses.x")
    with pytest.raises(TriplesError, match="unknown field"):
        AgentConfig.from_options({"max_turn": 3}, "t.yaml")


# -- the loop --------------------------------------------------------------------------------------


def attempt_for(task, tree, url, *, policy="none", wall=60.0, price=lambda t: None, max_cost=None, max_turns=20):
    from dataclasses import replace

    limits = replace(task.limits, wall_s=wall, max_cost_usd=max_cost, max_turns=max_turns)
    return Attempt(run_id="r1", task=task, workdir=tree.root, model="gpt-4o-mini", base_url=url, cache_policy=policy,
                   harness="builtin", headers={"x-inferaudit-task": task.id}, limits=limits,
                   deadline=time.monotonic() + wall, price=price)


@pytest.mark.parametrize("wire", ["openai-chat", "anthropic-messages"])
def test_the_agent_solves_a_scripted_task(starter, tmp_path, wire):
    task = starter.task("fix-median")
    with ScriptedModel({task.id: solving_trajectory(task, "ls")}) as model:
        tree = WorkTree.create(task, tmp_path / "tree")
        result = BuiltinAgent(AgentConfig(wire=wire)).run(attempt_for(task, tree, model.url))
    assert result.stop == "finished" and result.turns == 4 and result.calls == 4
    assert "(ordered[mid - 1] + ordered[mid]) / 2" in (tree.root / "stats.py").read_text()
    assert result.tokens == sum((r.tokens for r in model.requests), start=type(result.tokens)())
    assert [m["role"] for m in result.transcript][:3] == ["user", "assistant", "tool"]


def test_loop_cap_stops_the_attempt(starter, tmp_path):
    task = starter.task("fix-median")
    with ScriptedModel({task.id: solving_trajectory(task)}) as model:
        tree = WorkTree.create(task, tmp_path / "tree")
        result = BuiltinAgent(AgentConfig(max_turns=2)).run(attempt_for(task, tree, model.url))
    assert result.stop == "max_turns" and result.turns == 2 and len(model.requests) == 2


def test_cost_cap_stops_the_attempt(starter, tmp_path):
    task = starter.task("fix-median")
    with ScriptedModel({task.id: solving_trajectory(task)}) as model:
        tree = WorkTree.create(task, tmp_path / "tree")
        result = BuiltinAgent().run(attempt_for(task, tree, model.url, price=lambda t: 0.4, max_cost=0.7))
    assert result.stop == "cost" and result.turns == 2 and result.cost_usd == pytest.approx(0.8)


def test_wall_limit_stops_a_slow_tool(starter, tmp_path):
    task = starter.task("fix-median")
    slow = Trajectory(task.instruction, (Step(None, (("run_shell", {"command": "sleep 20"}),)), Step("done")))
    with ScriptedModel({task.id: slow}) as model:
        tree = WorkTree.create(task, tmp_path / "tree")
        started = time.monotonic()
        result = BuiltinAgent().run(attempt_for(task, tree, model.url, wall=1.5))
    assert result.stop == "wall" and time.monotonic() - started < 10


def test_retry_budget_bounds_calls_to_a_dead_gateway(starter, tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: connection refused
    task = starter.task("fix-median")
    tree = WorkTree.create(task, tmp_path / "tree")
    result = BuiltinAgent(AgentConfig(retry_budget=2)).run(attempt_for(task, tree, dead))
    sock.close()
    assert result.stop == "error" and result.calls == 3 and "retry budget of 2 spent" in result.message
