"""The real Claude Code CLI on a Gemini upstream, through the gateway's chained translation, with a tool round trip."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.testing.gateway import GatewayThread

pytestmark = pytest.mark.cli
USAGE = {"input": 300, "cache_read": 1792, "output": 40, "reasoning": 12}


def test_claude_code_turn_with_a_tool_round_trip_on_gemini(tmp_path, harness_cli):
    from inferaudit.testing import EmulatorThread

    claude = harness_cli("claude")
    home = tmp_path / "home"
    home.mkdir()
    ledger = tmp_path / "cc-gemini.duckdb"
    usage = ",".join(f"{k}={v}" for k, v in USAGE.items())
    env = {**os.environ, "HOME": str(home), "ANTHROPIC_API_KEY": "sk-ant-test-not-a-real-key", "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
           "ANTHROPIC_CUSTOM_HEADERS": f"x-emulator-usage: {usage}"}
    with EmulatorThread() as emulator:
        config = GatewayConfig.from_dict({
            "ledger": str(ledger), "ledger_flush_s": 0.05, "retry": {"attempts": 1},
            "providers": {"google": {"base_url": emulator.url, "protocol": "gemini", "api_key": "gk-upstream",
                                     "forward_headers": ["x-emulator-usage"]}},
            "default_providers": {"anthropic-messages": "google"},  # whatever model Claude Code names goes to Gemini
        })
        with GatewayThread(config) as gateway:
            env["ANTHROPIC_BASE_URL"] = gateway.url
            done = subprocess.run(
                [claude, "-p", "Look around this folder", "--output-format", "json", "--model", "gemini-2.5-flash",
                 "--disallowedTools", "Bash Write Edit NotebookEdit WebFetch WebSearch Task"],
                env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False)
        upstream = [r for r in emulator.requests if r.protocol == "gemini"]
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    result = json.loads(done.stdout)
    assert result["subtype"] == "success" and result["result"], result
    turns = [r for r in upstream if r.body.get("tools")]
    assert turns and all(r.status == 200 and r.path.endswith(":streamGenerateContent") and r.query == "alt=sse" for r in turns)
    # the model called a tool, Claude Code ran (or refused) it, and the result came back named for Gemini
    assert any("functionResponse" in p for r in turns for c in r.body["contents"] for p in c["parts"])
    n = len(upstream)
    reported = result["usage"]  # Claude Code's own totals: the Gemini usage in Anthropic's convention, summed
    assert (reported["input_tokens"], reported["cache_read_input_tokens"], reported["output_tokens"]) == (
        n * USAGE["input"], n * USAGE["cache_read"], n * USAGE["output"])
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT status, input, cache_read, output, reasoning FROM calls").fetchall()
    assert len(rows) == n and all(row == ("ok", 300, 1792, 40, 12) for row in rows)
