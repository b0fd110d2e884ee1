"""Gemini CLI chat recordings: input includes cached, thoughts are output beside output, tool-use prompts are input."""

import json
import shutil
from pathlib import Path

from inferaudit import sources
from inferaudit.sources import Cursor, discover, sniff
from inferaudit.sources.gemini_cli import GeminiCliSource
from inferaudit.usage import Call, Problem, Run, Tokens

DATA = Path(__file__).parent / "data"
DOCUMENT = DATA / "gemini-cli" / "session-2025-10-18T14-57-f86f5318.json"
JSONL = DATA / "gemini-cli" / "session-2026-04-20T09-00-6a6a6a6a.jsonl"
MINE = {"gemini-cli", "codex-exec", "swe-agent"}


def read_all(path, cursor=None):
    return list(GeminiCliSource().read(path, cursor or Cursor()))


def calls_of(records):
    return [r for r in records if isinstance(r, Call)]


def test_document_layout_gives_exact_buckets():
    records = read_all(DOCUMENT)
    assert not [r for r in records if isinstance(r, Problem)]
    calls = calls_of(records)
    assert [(c.model, c.tokens, c.tool_calls, c.source_line) for c in calls] == [
        # input 8396 (nothing cached); thoughts 24 are billed as output beside output 20
        ("gemini-2.5-pro", Tokens(input=8396, output=20 + 24, reasoning=24), 1, 13),
        # input 8500 includes cached 8000
        ("gemini-2.5-pro", Tokens(input=500, cache_read=8000, output=15), 0, 60),
        # grounded call: toolUsePromptTokenCount 79 comes on top of promptTokenCount 70 (total 401), billed as input
        ("gemini-2.5-flash", Tokens(input=70 + 79, output=53 + 199, reasoning=199), 0, 81),
    ]
    assert {c.provider for c in calls} == {"google"} and {c.harness for c in calls} == {"gemini-cli"}
    assert calls[0].call_id == "gemini-cli:f86f5318-f47b-4433-85f8-ec9d9a417f8e:9cea53d4-c143-4bd1-bde2-7294e27deb9d"
    (run,) = [r for r in records if isinstance(r, Run)]
    assert run.run_id == "gemini-cli:f86f5318-f47b-4433-85f8-ec9d9a417f8e"
    assert run.task_id == "f86f5318-f47b-4433-85f8-ec9d9a417f8e"
    assert run.started_at.isoformat() == "2025-10-18T14:57:28.974000+00:00"
    assert run.ended_at.isoformat() == "2025-10-18T14:58:07.161000+00:00"
    assert all(c.run_id == run.run_id for c in calls)


def test_jsonl_layout_keeps_the_last_copy_and_counts_each_call_once():
    records = read_all(JSONL)
    calls = {c.call_id.rsplit(":", 1)[1]: c for c in calls_of(records)}
    assert len(calls_of(records)) == len(calls)  # g1 appears three times, and again inside a $set: one call
    assert calls["g1"].tokens == Tokens(input=12043, output=180 + 420, reasoning=420)
    assert calls["g1"].tool_calls == 1 and calls["g1"].source_line == 4
    assert calls["g2"].tokens == Tokens(input=13210 - 11800, cache_read=11800, output=95 + 60, reasoning=60)
    # g3 was rewound out of the conversation, but the API call behind it was billed
    assert calls["g3"].tokens == Tokens(input=400, cache_read=13000, output=12)
    assert calls["g4"].tokens == Tokens(input=1000, cache_read=13000, output=30)
    assert calls["g4"].model == "gemini-3-flash-preview"
    (run,) = [r for r in records if isinstance(r, Run)]
    assert run.run_id == "gemini-cli:6a6a6a6a-0000-4000-8000-000000000001"
    assert (run.started_at.isoformat(), run.ended_at.isoformat()) == (
        "2026-04-20T09:00:00+00:00", "2026-04-20T09:02:30+00:00")


def test_bad_lines_are_problems_with_their_line_and_the_rest_is_read():
    records = read_all(JSONL)
    problems = [(p.file, p.line, p.reason.split(":")[0]) for p in records if isinstance(p, Problem)]
    assert problems == [(str(JSONL), 9, "malformed JSON"), (str(JSONL), 15, "message g5")]
    assert len(calls_of(records)) == 4


def test_bad_message_in_a_document_names_its_line(tmp_path):
    doc = json.loads(DOCUMENT.read_text())
    del doc["messages"][2]["tokens"]["input"]
    broken = tmp_path / "session-broken.json"
    broken.write_text(json.dumps(doc, indent=2))
    records = read_all(broken)
    (problem,) = [r for r in records if isinstance(r, Problem)]
    assert (problem.file, problem.line) == (str(broken), 60) and "tokens.input missing" in problem.reason
    assert len(calls_of(records)) == 2


def test_truncated_document_is_a_problem_not_an_exception(tmp_path):
    cut = tmp_path / "session-cut.json"
    cut.write_bytes(DOCUMENT.read_bytes()[:700])
    records = read_all(cut)
    assert [type(r) for r in records] == [Problem]
    assert records[0].line is not None and records[0].reason.startswith("malformed JSON")


def test_appended_lines_are_read_from_the_cursor(tmp_path):
    lines = JSONL.read_text().splitlines(keepends=True)
    log = tmp_path / "session.jsonl"
    log.write_text("".join(lines[:5]))
    cursor = Cursor()
    first = calls_of(read_all(log, cursor))
    assert [c.call_id.rsplit(":", 1)[1] for c in first] == ["g1"]
    with open(log, "a") as fh:
        fh.write("".join(lines[5:]))
    second = read_all(log, cursor)
    ids = [c.call_id.rsplit(":", 1)[1] for c in calls_of(second)]
    assert ids == ["g1", "g2", "g3", "g4"]  # g1 again only because its tool calls arrived
    assert [p.line for p in second if isinstance(p, Problem)] == [9, 15]  # line numbers survive the resume
    assert calls_of(second)[0].call_id == first[0].call_id and calls_of(second)[0].tool_calls == 1
    again = read_all(log, cursor)
    assert [type(r) for r in again] == [Run]  # nothing new to read


def test_subagent_log_lands_in_the_parent_run(tmp_path):
    folder = tmp_path / "chats" / "6a6a6a6a-0000-4000-8000-000000000001"
    folder.mkdir(parents=True)
    sub = folder / "b7c1d2e3-1111-4222-8333-444455556666.jsonl"
    sub.write_text(
        json.dumps({"sessionId": "b7c1d2e3-1111-4222-8333-444455556666", "projectHash": "4ea8", "kind": "subagent",
                    "startTime": "2026-04-20T09:00:05.000Z", "lastUpdated": "2026-04-20T09:00:05.000Z"}) + "\n"
        + json.dumps({"id": "s1", "timestamp": "2026-04-20T09:00:09.000Z", "type": "gemini", "content": "found it",
                      "model": "gemini-3-flash-preview",
                      "tokens": {"input": 900, "output": 40, "cached": 0, "thoughts": 10, "tool": 0, "total": 950}}) + "\n")
    records = read_all(sub)
    (call,) = calls_of(records)
    (run,) = [r for r in records if isinstance(r, Run)]
    assert call.run_id == run.run_id == "gemini-cli:6a6a6a6a-0000-4000-8000-000000000001"
    assert call.tags == {"agent": "b7c1d2e3-1111-4222-8333-444455556666"}
    assert call.tokens == Tokens(input=900, output=50, reasoning=10)


def test_sniffed_by_content_and_not_by_others(tmp_path):
    for path in (DOCUMENT, JSONL):
        assert sniff(path).name == "gemini-cli"
        renamed = tmp_path / "renamed.txt"  # content decides, not the name
        shutil.copy(path, renamed)
        assert sniff(renamed).name == "gemini-cli"
    for other in [*(DATA / "codex-exec").glob("*"), *(DATA / "swe-agent").glob("*")]:
        assert not GeminiCliSource().sniff(other, other.read_bytes()[: 64 << 10])


def test_bundled_samples_discover_as_before(samples, monkeypatch):
    now = [(str(u.path), u.source.name, u.members) for u in discover([samples]) if not isinstance(u, Path)]
    assert not [u for u in now if u[1] in MINE]
    others = [s for s in sources.available() if s.name not in MINE]
    monkeypatch.setattr(sources, "available", lambda: others)
    before = [(str(u.path), u.source.name, u.members) for u in discover([samples]) if not isinstance(u, Path)]
    assert now == before
