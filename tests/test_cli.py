"""The command as a user runs it: a real process, real files, exit codes, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "inferaudit"

JSON_KEYS = {
    "totals": {"input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "unpriced_tokens"},
    "triple": {"model", "harness", "cache_policy", "benchmark", "runs", "resolved", "success_rate", "success_ci",
               "cost_per_run", "cost_per_success", "tokens", "cache_hit_rate", "wall_time_s", "calls_per_run",
               "pareto", "dominated_by"},
    "session": {"id", "model", "harness", "tokens", "cost_usd", "start", "end"},
    "problem": {"file", "line", "reason"},
}


def run(*args, env=None, cwd=None):
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300)


def test_json_report_has_the_documented_shape(tmp_path, samples):
    out = run("audit", samples / "claude-code", samples / "codex", "--ledger", tmp_path / "l.duckdb", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert JSON_KEYS["totals"] <= set(report["totals"])
    assert report["triples"] and all(JSON_KEYS["triple"] <= set(t) for t in report["triples"])
    assert report["sessions"] and all(JSON_KEYS["session"] <= set(s) for s in report["sessions"])
    assert report["problems"] == []
    assert round(report["totals"]["cost_usd"], 2) == round(27.95063005 + 4.73894085, 2)


def test_terminal_report_and_html_file(tmp_path, samples):
    html = tmp_path / "r.html"
    out = run("audit", samples / "codex", "--ledger", tmp_path / "l.duckdb", "--html", html)
    assert out.returncode == 0, out.stderr
    assert "gpt-5.3-codex" in out.stdout and "$4.74" in out.stdout
    assert html.read_text().lstrip().lower().startswith("<!doctype html")


def test_ledger_env_var_is_used(tmp_path, samples):
    ledger = tmp_path / "env.duckdb"
    out = run("audit", samples / "codex", "--json", "-q", env={"INFERAUDIT_LEDGER": str(ledger)})
    assert out.returncode == 0 and ledger.exists()
    again = run("audit", "--no-import", "--json", env={"INFERAUDIT_LEDGER": str(ledger)})
    assert json.loads(again.stdout)["totals"]["calls"] == 165


def test_bad_lines_warn_and_exit_zero(tmp_path, samples):
    logs = tmp_path / "logs"
    logs.mkdir()
    good = next((samples / "codex").glob("*.jsonl")).read_text().splitlines(keepends=True)
    (logs / "r.jsonl").write_text("".join(good[:5]) + "{oops\n" + "".join(good[5:]))
    out = run("audit", logs, "--ledger", tmp_path / "l.duckdb", "--json")
    assert out.returncode == 0
    assert "Traceback" not in out.stderr and "1 input problem" in out.stderr
    report = json.loads(out.stdout)
    assert report["problems"] == [{"file": str(logs / "r.jsonl"), "line": 6, "reason": report["problems"][0]["reason"]}]
    assert report["totals"]["calls"] > 0


@pytest.mark.parametrize("content", ["", "\x00\x01binary", "{not json at all", '{"some": "other json"}'])
def test_nothing_readable_exits_non_zero_without_traceback(tmp_path, content):
    bad = tmp_path / "in" / "x.jsonl"
    bad.parent.mkdir()
    bad.write_text(content)
    out = run("audit", bad.parent, "--ledger", tmp_path / "l.duckdb")
    assert out.returncode == 1
    assert "nothing could be read" in out.stderr and "Traceback" not in out.stderr


def test_bad_price_file_is_a_clear_error(tmp_path, samples):
    prices = tmp_path / "p.yaml"
    prices.write_text("models:\n  - model: x\n")
    out = run("audit", samples / "codex", "--ledger", tmp_path / "l.duckdb", "--prices", prices)
    assert out.returncode == 2 and "'input'" in out.stderr and "Traceback" not in out.stderr


def test_prices_command(tmp_path):
    out = run("prices", "claude-haiku-4-5-20251001", "--provider", "anthropic")
    assert out.returncode == 0 and "cache_write_1h 2" in out.stdout
    out = run("prices", "claude-imaginary-9")
    assert out.returncode == 1 and "unpriced" in out.stderr
