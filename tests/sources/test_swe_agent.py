"""SWE-agent and mini-SWE-agent trajectories: a Run per file, Calls from per-message usage, outcome never guessed."""

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from inferaudit.sources import Cursor, sniff
from inferaudit.sources.swe_agent import SWEAgentTrajectorySource
from inferaudit.usage import Call, Event, Problem, Run, Tokens

DATA = Path(__file__).parent / "data" / "swe-agent"
DEEPSEEK = DATA / "astropy__astropy-12907.traj.json"
CLAUDE = DATA / "django__django-11099.traj.json"
SWE = DATA / "Scrapy_02.traj"


def read_all(path):
    return list(SWEAgentTrajectorySource().read(path, Cursor()))


def only(records, kind):
    return [r for r in records if isinstance(r, kind)]


def test_mini_messages_become_calls_with_exact_buckets():
    records = read_all(DEEPSEEK)
    assert not only(records, Problem)
    calls = only(records, Call)
    # OpenAI-shaped usage via litellm: prompt_tokens includes prompt_tokens_details.cached_tokens
    assert [(c.tokens, c.cost_reported, c.tool_calls, c.source_line) for c in calls] == [
        (Tokens(input=1689 - 1664, cache_read=1664, output=76), 8.551199999999999e-05, 1, 49),
        (Tokens(input=1798 - 1792, cache_read=1792, output=54), 7.453599999999999e-05, 1, 128),
        (Tokens(input=35424 - 35200, cache_read=35200, output=79), 0.0010815, 1, 207),
    ]
    assert {(c.provider, c.model, c.harness) for c in calls} == {("deepseek", "deepseek-v4-flash", "mini-swe-agent")}
    (run,) = only(records, Run)
    assert (run.harness, run.provider, run.model, run.task_id) == (
        "mini-swe-agent", "deepseek", "deepseek-chat", "astropy__astropy-12907")
    # the run's totals are the agent's own, over all 64 calls (the fixture keeps 3 of them)
    assert (run.cost_reported, run.calls_reported, run.tokens_reported) == (0.04282165999999999, 64, None)
    assert run.started_at == datetime.fromtimestamp(1780680349.4410355, tz=timezone.utc)
    assert run.ended_at == datetime.fromtimestamp(1780680670.788897, tz=timezone.utc)
    assert run.outcome == "unknown"  # "Submitted" is not "resolved"
    assert all(c.run_id == run.run_id for c in calls) and run.run_id.startswith("mini-swe-agent:astropy__astropy-12907@")
    (exit_event,) = only(records, Event)
    assert (exit_event.kind, exit_event.data) == ("exit_status", {"exit_status": "Submitted", "submitted": True})


def test_anthropic_through_litellm_splits_reads_and_writes():
    records = read_all(CLAUDE)
    calls = only(records, Call)
    assert [c.tokens for c in calls] == [
        Tokens(input=4, cache_write_5m=9046, output=312),
        Tokens(input=6, cache_read=9046, cache_write_5m=1210, output=158),
    ]
    assert {(c.provider, c.model) for c in calls} == {("anthropic", "claude-sonnet-4-5-20250929")}
    (run,) = only(records, Run)
    assert (run.provider, run.model, run.cache_policy, run.outcome) == (
        "anthropic", "claude-sonnet-4-5-20250929", "explicit", "unknown")
    assert only(records, Event)[0].data == {"exit_status": "LimitsExceeded", "submitted": False}


def test_litellm_that_left_writes_out_of_prompt_tokens_gives_the_same_buckets(tmp_path):
    doc = json.loads(CLAUDE.read_text())
    for message in doc["messages"]:
        usage = message.get("extra", {}).get("response", {}).get("usage")
        if usage:  # as some mid-2025 litellm releases wrote it: reads counted in prompt_tokens, writes not
            usage["prompt_tokens"] -= usage["cache_creation_input_tokens"]
            usage["prompt_tokens_details"] = {"cached_tokens": usage["cache_read_input_tokens"]}
    older = tmp_path / "django__django-11099.traj.json"
    older.write_text(json.dumps(doc, indent=2))
    assert [c.tokens for c in only(read_all(older), Call)] == [c.tokens for c in only(read_all(CLAUDE), Call)]


def test_swe_agent_totals_become_reported_tokens_without_calls():
    records = read_all(SWE)
    assert not only(records, Call) and not only(records, Problem)
    (run,) = only(records, Run)
    assert (run.harness, run.provider, run.model, run.task_id) == (
        "swe-agent", "anthropic", "claude-3-5-sonnet-20241022", "Scrapy_02")
    assert (run.cost_reported, run.calls_reported) == (1.1796, 22)
    assert run.tokens_reported == Tokens(input=262356, output=461)  # cache split unknown: all sent tokens in input
    assert run.outcome == "unknown"


def test_bad_fields_are_problems_with_lines_and_the_rest_is_read(tmp_path):
    doc = json.loads(DEEPSEEK.read_text())
    doc["info"]["model_stats"]["api_calls"] = "64"
    del doc["messages"][4]["extra"]["response"]["usage"]
    doc["messages"][6]["extra"]["response"]["usage"]["prompt_tokens"] = "35424"
    broken = tmp_path / "astropy__astropy-12907.traj.json"
    broken.write_text(json.dumps(doc, indent=2))
    records = read_all(broken)
    problems = [(p.file, p.line, p.reason) for p in only(records, Problem)]
    assert [(f, line) for f, line, _ in problems] == [(str(broken), 3), (str(broken), 128), (str(broken), 196)]
    assert "api_calls" in problems[0][2] and "no usage" in problems[1][2] and "unreadable usage" in problems[2][2]
    assert [c.tokens for c in only(records, Call)] == [Tokens(input=25, cache_read=1664, output=76)]
    (run,) = only(records, Run)
    assert (run.calls_reported, run.cost_reported) == (None, 0.04282165999999999)


def test_malformed_document_is_a_problem_not_an_exception(tmp_path):
    cut = tmp_path / "x.traj.json"
    cut.write_bytes(DEEPSEEK.read_bytes()[:900])
    (problem,) = read_all(cut)
    assert isinstance(problem, Problem) and problem.line is not None and problem.reason.startswith("malformed JSON")


def test_sniffed_by_content_and_not_by_others(tmp_path, samples):
    for path in (DEEPSEEK, CLAUDE, SWE):
        renamed = tmp_path / "trajectory.json"  # content decides, not the name
        shutil.copy(path, renamed)
        assert sniff(path).name == sniff(renamed).name == "swe-agent"
    source = SWEAgentTrajectorySource()
    others = [*(DATA.parent / "gemini-cli").glob("*"), *(DATA.parent / "codex-exec").glob("*"),
              *(p for p in samples.rglob("*") if p.is_file())]
    for other in others:
        assert not source.sniff(other, other.read_bytes()[: 64 << 10]), other
