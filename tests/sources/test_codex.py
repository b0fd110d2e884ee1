"""Codex CLI rollouts: cumulative token_count totals become per-call deltas; input includes cached."""

import json

from inferaudit.sources import Cursor
from inferaudit.sources.codex import CodexRolloutSource
from inferaudit.usage import Call, Problem, Run, Tokens


def read_all(path, cursor=None):
    return list(CodexRolloutSource().read(path, cursor or Cursor()))


def test_bundled_rollouts_give_the_exact_bucket_totals(samples):
    total, calls = Tokens(), 0
    for path in sorted((samples / "codex").glob("*.jsonl")):
        for r in read_all(path):
            assert not isinstance(r, Problem), r
            if isinstance(r, Call):
                total += r.tokens
                calls += 1
                assert r.model == "gpt-5.3-codex" and r.provider == "openai"
    assert total == Tokens(input=802635, cache_read=13176832, output=73456, reasoning=35245)
    assert calls == 165


def event(ts, inp, cached, out, reasoning):
    usage = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
             "reasoning_output_tokens": reasoning, "total_tokens": inp + out}
    return json.dumps({"timestamp": ts, "type": "event_msg", "payload": {
        "type": "token_count", "info": {"total_token_usage": usage, "last_token_usage": usage}}}) + "\n"


HEAD = (
    json.dumps({"timestamp": "2026-02-23T11:40:29Z", "type": "session_meta",
                "payload": {"id": "sess-1", "model_provider": "openai"}}) + "\n"
    + json.dumps({"timestamp": "2026-02-23T11:40:29Z", "type": "turn_context", "payload": {"model": "gpt-5.3-codex"}}) + "\n"
)


def test_deltas_of_cumulative_totals_and_repeats_ignored(tmp_path):
    log = tmp_path / "rollout.jsonl"
    log.write_text(
        HEAD
        + json.dumps({"timestamp": "2026-02-23T11:40:33Z", "type": "event_msg",
                      "payload": {"type": "token_count", "info": None}}) + "\n"
        + event("2026-02-23T11:40:42Z", 17203, 3456, 358, 193)
        + event("2026-02-23T11:40:43Z", 17203, 3456, 358, 193)  # the same totals again: not a call
        + event("2026-02-23T11:41:00Z", 40000, 20000, 500, 250)
    )
    records = read_all(log)
    calls = [r for r in records if isinstance(r, Call)]
    assert [c.tokens for c in calls] == [
        Tokens(input=17203 - 3456, cache_read=3456, output=358, reasoning=193),
        Tokens(input=(40000 - 17203) - (20000 - 3456), cache_read=20000 - 3456, output=142, reasoning=57),
    ]
    run = next(r for r in records if isinstance(r, Run))
    assert run.run_id == "codex:sess-1" and run.cache_policy == "auto"
    assert run.started_at.isoformat() == "2026-02-23T11:40:29+00:00"


def test_resume_carries_the_running_totals(tmp_path):
    log = tmp_path / "rollout.jsonl"
    log.write_text(HEAD + event("2026-02-23T11:40:42Z", 1000, 0, 10, 0))
    cursor = Cursor()
    read_all(log, cursor)
    with open(log, "a") as fh:
        fh.write(event("2026-02-23T11:41:42Z", 3000, 1500, 30, 5))
    calls = [r for r in read_all(log, cursor) if isinstance(r, Call)]
    assert [c.tokens for c in calls] == [Tokens(input=500, cache_read=1500, output=20, reasoning=5)]
    assert calls[0].model == "gpt-5.3-codex"


def test_bad_token_count_is_a_problem_not_a_crash(tmp_path):
    log = tmp_path / "rollout.jsonl"
    log.write_text(
        HEAD
        + json.dumps({"type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {"input_tokens": "x"}}}}) + "\n"
        + event("2026-02-23T11:40:42Z", 1000, 0, 10, 0)
    )
    records = read_all(log)
    assert [(p.line, "unreadable" in p.reason) for p in records if isinstance(p, Problem)] == [(3, True)]
    assert len([r for r in records if isinstance(r, Call)]) == 1


def test_cache_writes_are_taken_out_of_input_and_an_old_cursor_counts_them_from_zero(tmp_path):
    # GPT-5.6 and later bill cache writes (1.25x input), counted inside input_tokens like cached input
    def written(ts, inp, cached, out, writes):
        usage = {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": writes,
                 "output_tokens": out, "reasoning_output_tokens": 0, "total_tokens": inp + out}
        return json.dumps({"timestamp": ts, "type": "event_msg", "payload": {
            "type": "token_count", "info": {"total_token_usage": usage, "last_token_usage": usage}}}) + "\n"

    log = tmp_path / "rollout.jsonl"
    log.write_text(HEAD + written("2026-11-23T11:40:42Z", 17203, 0, 358, 17000)
                   + written("2026-11-23T11:41:00Z", 40000, 17000, 500, 22000))
    calls = [r for r in read_all(log) if isinstance(r, Call)]
    assert [c.tokens for c in calls] == [Tokens(input=203, cache_write_5m=17000, output=358),
                                         Tokens(input=(40000 - 17203) - 17000 - 5000, cache_read=17000, cache_write_5m=5000,
                                                output=142)]
    # a cursor saved by a version that did not read the field (its totals lack it): the writes so far count as 0,
    # right for a file whose earlier models billed none
    old = Cursor(state={"totals": {"input_tokens": 17203, "cached_input_tokens": 0, "output_tokens": 358,
                                   "reasoning_output_tokens": 0}})
    log.write_text(written("2026-11-23T11:41:00Z", 40000, 0, 500, 22000))
    (call,) = [r for r in read_all(log, old) if isinstance(r, Call)]
    assert call.tokens == Tokens(input=40000 - 17203 - 22000, cache_write_5m=22000, output=142)
