"""codex exec --json: turn.completed usage is the thread's running total, so turns are deltas; input includes cached."""

import json
import shutil
from pathlib import Path

from inferaudit.sources import Cursor, sniff
from inferaudit.sources.codex_exec import CodexExecSource
from inferaudit.usage import Call, Event, Problem, Run, Tokens

DATA = Path(__file__).parent / "data"
THREADS = DATA / "codex-exec" / "exec-threads.jsonl"
LEGACY = DATA / "codex-exec" / "exec-legacy.jsonl"
A = "0199a213-81c0-7800-8aa1-bbab2a035a53"
B = "019dc2a0-5b1e-7d30-9c62-2f4e0c1d7a11"


def read_all(path, cursor=None):
    return list(CodexExecSource().read(path, cursor or Cursor()))


def calls_of(records):
    return [r for r in records if isinstance(r, Call)]


def test_turns_are_deltas_of_the_cumulative_thread_usage():
    records = read_all(THREADS)
    assert not [r for r in records if isinstance(r, Problem)]
    calls = calls_of(records)
    assert [(c.session_id, c.tokens, c.tool_calls, c.source_line) for c in calls] == [
        (A, Tokens(input=16504 - 3072, cache_read=3072, output=20), 1, 7),
        # 85681 / 66560 / 40 are totals for the thread so far, not this turn's
        (A, Tokens(input=(85681 - 16504) - (66560 - 3072), cache_read=66560 - 3072, output=20), 0, 11),
        (A, Tokens(input=(103779 - 85681) - (81920 - 66560), cache_read=81920 - 66560, output=5), 0, 15),
        # a new thread starts its own count; reasoning is part of output
        (B, Tokens(input=32161 - 1920, cache_read=1920, output=47, reasoning=32), 0, 19),
    ]
    assert {(c.provider, c.harness, c.model) for c in calls} == {("openai", "codex", None)}
    assert {c.tags["granularity"] for c in calls} == {"turn"}
    assert calls[0].call_id == f"codex-exec:{A}:7" and calls[0].run_id == f"codex-exec:{A}"
    runs = [r for r in records if isinstance(r, Run)]
    assert [(r.run_id, r.task_id, r.cache_policy) for r in runs] == [
        (f"codex-exec:{A}", A, "auto"), (f"codex-exec:{B}", B, "auto")]
    (failed,) = [r for r in records if isinstance(r, Event)]
    assert (failed.kind, failed.run_id, failed.data, failed.source_line) == (
        "turn_failed", f"codex-exec:{B}", {"message": "stream disconnected before completion"}, 21)


def test_legacy_protocol_events_carry_one_response_each():
    records = read_all(LEGACY)
    calls = calls_of(records)
    assert [(c.tokens, c.model, c.source_line) for c in calls] == [
        (Tokens(input=3804, output=95, reasoning=64), "codex-mini-latest", 4),
        (Tokens(input=1674 - 1627, cache_read=1627, output=384, reasoning=384), "codex-mini-latest", 6),
    ]
    (run,) = [r for r in records if isinstance(r, Run)]
    assert run.run_id == "codex-exec:f47e4fde-f03b-498c-9abb-be8247bbd7a9"


def token_count(total, last=None):
    return json.dumps({"id": "1", "msg": {"type": "token_count", "info": {
        "total_token_usage": total, "last_token_usage": last or total, "model_context_window": 272000}}}) + "\n"


def usage(inp, cached, out, reasoning):
    return {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
            "reasoning_output_tokens": reasoning, "total_tokens": inp + out}


def test_legacy_info_totals_become_deltas_and_repeats_are_not_calls(tmp_path):
    log = tmp_path / "exec.jsonl"
    log.write_text(
        json.dumps({"id": "0", "msg": {"type": "session_configured", "session_id": "s-1", "model": "gpt-5-codex"}}) + "\n"
        + json.dumps({"id": "1", "msg": {"type": "token_count", "info": None}}) + "\n"  # rate limits only
        + token_count(usage(47630, 46464, 190, 64))
        + token_count(usage(47630, 46464, 190, 64))  # the same totals again
        + token_count(usage(98000, 93000, 400, 100))
        + json.dumps({"id": "1", "msg": {"type": "token_count", "info": {"last_token_usage": usage(5000, 0, 10, 0)}}}) + "\n"
    )
    calls = calls_of(read_all(log))
    assert [c.tokens for c in calls] == [
        Tokens(input=47630 - 46464, cache_read=46464, output=190, reasoning=64),
        Tokens(input=(98000 - 47630) - (93000 - 46464), cache_read=93000 - 46464, output=210, reasoning=36),
        Tokens(input=5000, output=10),  # no running total: the last call's own usage
    ]
    assert {c.model for c in calls} == {"gpt-5-codex"}


def test_appended_turns_continue_from_the_cursor(tmp_path):
    lines = THREADS.read_text().splitlines(keepends=True)
    log = tmp_path / "exec.jsonl"
    log.write_text("".join(lines[:7]))
    cursor = Cursor()
    assert [c.tokens.input for c in calls_of(read_all(log, cursor))] == [16504 - 3072]
    with open(log, "a") as fh:
        fh.write("".join(lines[7:11]))
    (call,) = calls_of(read_all(log, cursor))
    assert (call.tokens, call.source_line) == (Tokens(input=5689, cache_read=63488, output=20), 11)


def test_bad_lines_are_problems_and_the_rest_is_read(tmp_path):
    log = tmp_path / "exec.jsonl"
    log.write_text(
        json.dumps({"type": "thread.started", "thread_id": "t-1"}) + "\n"
        + '{"type":"turn.completed","usage":{"input_tokens":10\n'
        + json.dumps({"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 0}}) + "\n"
        + json.dumps({"type": "turn.completed", "usage": {"input_tokens": "100", "output_tokens": 5}}) + "\n"
        + json.dumps({"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 5}}) + "\n"
    )
    records = read_all(log)
    problems = [(p.file, p.line) for p in records if isinstance(p, Problem)]
    assert problems == [(str(log), 2), (str(log), 3), (str(log), 4)]
    assert "output_tokens missing" in [p for p in records if isinstance(p, Problem)][1].reason
    assert [c.tokens for c in calls_of(records)] == [Tokens(input=60, cache_read=40, output=5)]


def test_sniffed_by_content_and_not_by_others(tmp_path, samples):
    for path in (THREADS, LEGACY):
        renamed = tmp_path / "output.log"  # content decides, not the name
        shutil.copy(path, renamed)
        assert sniff(path).name == sniff(renamed).name == "codex-exec"
    source = CodexExecSource()
    for other in [*(DATA / "gemini-cli").glob("*"), *(DATA / "swe-agent").glob("*"),
                  *(samples / "codex").glob("*.jsonl"), *(samples / "claude-code").rglob("*.jsonl")]:
        assert not source.sniff(other, other.read_bytes()[: 64 << 10]), other
    assert {sniff(p).name for p in (samples / "codex").glob("*.jsonl")} == {"codex"}


def test_cache_writes_are_taken_out_of_input_and_an_old_cursor_counts_them_from_zero(tmp_path):
    def turn(inp, cached, out, writes):
        usage = {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": writes, "output_tokens": out}
        return json.dumps({"type": "turn.completed", "usage": usage}) + "\n"

    log = tmp_path / "exec.jsonl"
    log.write_text(json.dumps({"type": "thread.started", "thread_id": A}) + "\n"
                   + turn(17203, 0, 358, 17000) + turn(40000, 17000, 500, 22000))
    assert [c.tokens for c in calls_of(read_all(log))] == [
        Tokens(input=203, cache_write_5m=17000, output=358),
        Tokens(input=(40000 - 17203) - 17000 - 5000, cache_read=17000, cache_write_5m=5000, output=142)]
    # a cursor saved before the field was read holds 4-count totals: the writes so far count as 0
    cursor = Cursor()
    log.write_text(json.dumps({"type": "thread.started", "thread_id": A}) + "\n" + turn(17203, 0, 358, 0))
    read_all(log, cursor)
    cursor.state["totals"] = {thread: usage[:4] for thread, usage in cursor.state["totals"].items()}
    with open(log, "a") as fh:
        fh.write(turn(40000, 0, 500, 22000))
    (call,) = calls_of(read_all(log, cursor))
    assert call.tokens == Tokens(input=40000 - 17203 - 22000, cache_write_5m=22000, output=142)
