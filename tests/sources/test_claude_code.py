"""Claude Code logs: dedupe of multi-line responses, subagents, TTL split, retries, compactions, bad lines."""

import json
import shutil

from inferaudit.sources import Cursor, sniff
from inferaudit.sources.claude_code import ClaudeCodeSource
from inferaudit.usage import Call, Event, Problem, Run, Tokens


def read_all(path, cursor=None):
    return list(ClaudeCodeSource().read(path, cursor or Cursor()))


def line(**fields):
    return json.dumps({"parentUuid": None, "isSidechain": False, **fields}) + "\n"


def assistant(msg_id, req, usage, ts, content=None, model="claude-opus-4-6", **extra):
    return line(type="assistant", sessionId="s1", uuid=f"u-{msg_id}-{ts}", requestId=req, timestamp=ts,
                message={"id": msg_id, "model": model, "role": "assistant", "usage": usage,
                         "content": content or [{"type": "text", "text": "x"}]}, **extra)


def usage(inp, out, read=0, w5=0, w1=0):
    return {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": read,
            "cache_creation_input_tokens": w5 + w1,
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}}


def test_bundled_sessions_give_the_exact_bucket_totals(samples):
    calls = {}
    for path in sorted((samples / "claude-code").rglob("*.jsonl")):
        for r in read_all(path):
            assert not isinstance(r, Problem), r
            if isinstance(r, Call):
                calls[r.call_id] = calls[r.call_id].tokens.max(r.tokens) if r.call_id in calls else r.tokens
    total = sum(calls.values(), Tokens())
    assert total == Tokens(input=5464, cache_read=45195438, cache_write_5m=937099, cache_write_1h=276819, output=118740)
    assert len(calls) == 530


def test_one_response_on_several_lines_is_one_call_with_the_largest_counts(tmp_path):
    log = tmp_path / "s1.jsonl"
    log.write_text(
        assistant("msg_1", "req_1", usage(3, 9, 100, 50), "2026-02-12T16:00:00Z")
        + assistant("msg_1", "req_1", usage(3, 412, 100, 50), "2026-02-12T16:00:05Z",
                    content=[{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}])
        + assistant("msg_2", "req_2", usage(1, 20, 150, 0, 10), "2026-02-12T16:01:00Z")
    )
    calls = [r for r in read_all(log) if isinstance(r, Call)]
    assert len(calls) == 2
    first = next(c for c in calls if c.call_id.endswith("msg_1:req_1"))
    assert first.tokens == Tokens(input=3, cache_read=100, cache_write_5m=50, output=412)
    assert first.tool_calls == 1
    assert first.ended_at.isoformat() == "2026-02-12T16:00:05+00:00"
    second = next(c for c in calls if c.call_id.endswith("msg_2:req_2"))
    assert second.tokens.cache_write_1h == 10
    run = next(r for r in read_all(log) if isinstance(r, Run))
    assert run.run_id == "claude-code:s1" and run.task_id == "s1"


def test_subagent_calls_join_the_parent_session_run(samples):
    sub = next((samples / "claude-code").rglob("subagents/agent-a*.jsonl"))
    parent_session = sub.parent.parent.name
    calls = [r for r in read_all(sub) if isinstance(r, Call)]
    assert calls and all(c.run_id == f"claude-code:{parent_session}" for c in calls)
    assert all(c.tags.get("agent") for c in calls)


def test_retries_and_compactions_become_events(tmp_path):
    log = tmp_path / "s1.jsonl"
    log.write_text(
        line(type="system", subtype="api_error", level="error", sessionId="s1", uuid="e1",
             timestamp="2026-03-04T11:00:09Z", retryAttempt=1, maxRetries=10, retryInMs=500,
             error={"status": 529, "message": "overloaded"})
        + line(type="system", subtype="compact_boundary", sessionId="s1", uuid="e2", timestamp="2026-03-04T11:05:00Z",
               content="Conversation compacted", compactMetadata={"trigger": "auto", "preTokens": 170251})
        + assistant("msg_1", "req_1", usage(3, 9), "2026-03-04T11:06:00Z")
    )
    events = {e.kind: e for e in read_all(log) if isinstance(e, Event)}
    assert events["api_retry"].data == {"status": 529, "retry_attempt": 1, "max_retries": 10, "retry_in_ms": 500}
    assert events["compact_boundary"].data == {"trigger": "auto", "pre_tokens": 170251}
    assert events["api_retry"].source_line == 1


def test_synthetic_and_api_error_messages_are_not_calls(tmp_path):
    log = tmp_path / "s1.jsonl"
    log.write_text(
        assistant("msg_x", "req_x", usage(0, 0), "2026-03-04T11:00:00Z", model="<synthetic>")
        + assistant("msg_y", None, usage(0, 0), "2026-03-04T11:00:01Z", isApiErrorMessage=True)
    )
    assert not [r for r in read_all(log) if isinstance(r, Call)]


def test_malformed_lines_are_reported_with_line_numbers_and_the_rest_is_read(tmp_path):
    log = tmp_path / "s1.jsonl"
    log.write_text(
        assistant("msg_1", "req_1", usage(3, 9), "2026-02-12T16:00:00Z")
        + '{"type": "assistant", "message": \n'
        + "[1, 2]\n"
        + line(type="assistant", sessionId="s1", uuid="u9", message={"id": "m", "usage": {"input_tokens": "many"}})
        + assistant("msg_2", "req_2", usage(1, 2), "2026-02-12T16:01:00Z")
        + '{"type": "assistant", "truncated'
    )
    records = read_all(log)
    problems = [r for r in records if isinstance(r, Problem)]
    assert [p.line for p in problems] == [2, 3, 4, 6]
    assert all(p.file == str(log) for p in problems)
    assert "truncated" in problems[-1].reason
    assert len([r for r in records if isinstance(r, Call)]) == 2


def test_resuming_from_a_cursor_reads_only_new_lines(tmp_path):
    log = tmp_path / "s1.jsonl"
    log.write_text(assistant("msg_1", "req_1", usage(3, 9), "2026-02-12T16:00:00Z"))
    cursor = Cursor()
    assert len([r for r in read_all(log, cursor) if isinstance(r, Call)]) == 1
    with open(log, "a") as fh:
        fh.write(assistant("msg_2", "req_2", usage(1, 2), "2026-02-12T16:01:00Z"))
    later = [r for r in read_all(log, cursor) if isinstance(r, Call)]
    assert [c.call_id for c in later] == ["claude-code:msg_2:req_2"]
    assert later[0].source_line == 2 and later[0].session_id == "s1"


def test_sniffing_by_content_not_name(tmp_path, samples):
    src = next((samples / "claude-code" / "spotter").glob("*.jsonl"))
    renamed = tmp_path / "whatever.log"
    shutil.copy(src, renamed)
    assert sniff(renamed).name == "claude-code"
    codex = next((samples / "codex").glob("*.jsonl"))
    assert sniff(codex).name == "codex"


def test_subagent_meta_file_belongs_to_its_log_and_names_the_agent_type(tmp_path):
    from inferaudit.sources import discover

    folder = tmp_path / "proj" / "s1" / "subagents"
    folder.mkdir(parents=True)
    log = folder / "agent-aa36e6a3bee9a4ec4.jsonl"
    log.write_text(assistant("msg_1", "req_1", usage(5, 7), "2026-11-28T00:01:41.494Z", isSidechain=True,
                             agentId="aa36e6a3bee9a4ec4", attributionAgent="general-purpose"))
    # as Claude Code 2.1.197 writes it
    meta = folder / "agent-aa36e6a3bee9a4ec4.meta.json"
    meta.write_text('{"agentType":"general-purpose","description":"bill ledger",'
                    '"toolUseId":"toolu_01fXswo6kCDTWUJVxwkkil1o","spawnDepth":1}')
    found = list(discover([tmp_path]))
    assert len(found) == 1 and found[0].path == log and found[0].members == [log, meta]  # no unknown file left
    calls = [r for r in read_all(log) if isinstance(r, Call)]
    assert [c.tags for c in calls] == [{"agent": "aa36e6a3bee9a4ec4", "agent_type": "general-purpose"}]


def test_a_broken_subagent_meta_file_is_a_problem_once_and_loses_no_call(tmp_path):
    folder = tmp_path / "s1" / "subagents"
    folder.mkdir(parents=True)
    log = folder / "agent-b1.jsonl"
    log.write_text(assistant("msg_1", "req_1", usage(5, 7), "2026-11-28T00:01:41Z", agentId="b1"))
    (folder / "agent-b1.meta.json").write_text('{"agentType": ')
    cursor = Cursor()
    records = read_all(log, cursor)
    problems = [r for r in records if isinstance(r, Problem)]
    assert len(problems) == 1 and problems[0].file.endswith("agent-b1.meta.json")
    assert "malformed JSON" in problems[0].reason
    assert [c.tags for c in records if isinstance(c, Call)] == [{"agent": "b1"}]
    with log.open("a") as fh:
        fh.write(assistant("msg_2", "req_2", usage(1, 2), "2026-11-28T00:01:42Z", agentId="b1"))
    again = read_all(log, cursor)
    assert not [r for r in again if isinstance(r, Problem)]
    assert [c.call_id for c in again if isinstance(c, Call)] == ["claude-code:msg_2:req_2"]
