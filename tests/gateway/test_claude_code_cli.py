"""The real Claude Code CLI, one turn through the gateway (to the emulated upstream): accepted, answered, recorded."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from inferaudit.audit import run_audit
from inferaudit.ledger import Ledger

from inferaudit.testing.gateway import GatewayThread

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cli



def test_claude_code_one_turn_is_recorded_exactly(emulator, tmp_path, config_for, harness_cli):
    claude = harness_cli("claude")
    ledger = tmp_path / "cc.duckdb"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "ANTHROPIC_API_KEY": "sk-ant-test-not-a-real-key",
           "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
           "DISABLE_ERROR_REPORTING": "1"}
    with GatewayThread(config_for(ledger)) as gateway:
        env["ANTHROPIC_BASE_URL"] = gateway.url
        done = subprocess.run([claude, "-p", "Say hello in one word", "--output-format", "json",
                               "--model", "claude-haiku-4-5"], env=env, capture_output=True, text=True,
                              timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["subtype"] == "success" and result["result"]
    with Ledger(ledger) as opened:
        runs = opened.con.execute("SELECT DISTINCT run_id, user_id FROM calls").fetchall()
        rows = opened.con.execute("SELECT harness, status, model FROM calls").fetchall()
        assert rows and all(h == "claude-code" and s == "ok" and m == "claude-haiku-4-5" for h, s, m in rows)
        booked = opened.con.execute(
            "SELECT model, sum(input), sum(cache_read), sum(cache_write_5m + cache_write_1h), sum(output)"
            " FROM calls GROUP BY model").fetchall()
        report = run_audit(opened)
    # Claude Code's own per-model totals cover every call it made. Its top-level "usage" covers only the
    # main loop's turns: side calls (a title, a topic check) are left out of it, so it is not the reference.
    told = {m: (u["inputTokens"], u["cacheReadInputTokens"], u["cacheCreationInputTokens"], u["outputTokens"])
            for m, u in result["modelUsage"].items()}
    assert {m: tuple(counts) for m, *counts in booked} == told
    # one run, named as the log importer names this session; the user is the device, not the session
    assert runs == [(f"claude-code:{result['session_id']}", runs[0][1])] and runs[0][1].startswith("device:")
    # our price book and Claude Code's own cost agree on what these calls cost
    assert report["totals"]["cost_usd"] == pytest.approx(result["total_cost_usd"], rel=1e-6)
    # importing Claude Code's own transcript of the same session adds no call: same keys as the gateway's rows
    from inferaudit.ledger import ingest

    with Ledger(ledger) as opened:
        before = opened.con.execute("SELECT count(*), sum(input), sum(output) FROM calls").fetchone()
        summary = ingest(opened, [home / ".claude" / "projects"])
        assert summary.read >= 1 and summary.unknown == 0  # the transcript was there and was read
        keys = [r[0] for r in opened.con.execute("SELECT call_id FROM calls").fetchall()]
        assert all(k.startswith("claude-code:msg_") for k in keys)
        assert opened.con.execute("SELECT count(*), sum(input), sum(output) FROM calls").fetchone() == before
        assert opened.con.execute("SELECT count(DISTINCT run_id) FROM calls").fetchone()[0] == 1
