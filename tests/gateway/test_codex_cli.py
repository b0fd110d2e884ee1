"""The real Codex CLI (`codex exec --json`) through the gateway's Responses route: recorded, and matching Codex's own usage."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.testing.gateway import GatewayThread

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cli



def test_codex_exec_one_turn_is_recorded_exactly(emulator, tmp_path, harness_cli):
    codex = harness_cli("codex")
    ledger = tmp_path / "codex.duckdb"
    config = GatewayConfig.from_dict({
        "ledger": str(ledger), "ledger_flush_s": 0.05,
        "providers": {"openai": {"base_url": emulator.url, "protocol": "openai-responses", "api_key": "sk-upstream"}},
        "default_providers": {"openai-responses": "openai"},
    })
    home = tmp_path / "home" / ".codex"
    home.mkdir(parents=True)
    with GatewayThread(config) as gateway:
        (home / "config.toml").write_text(
            'model = "gpt-5.3-codex"\nmodel_provider = "gw"\n[model_providers.gw]\nname = "inferaudit gateway"\n'
            f'base_url = "{gateway.url}/v1"\nenv_key = "GW_KEY"\nwire_api = "responses"\n')
        env = {**os.environ, "HOME": str(home.parent), "CODEX_HOME": str(home), "GW_KEY": "client-key"}
        done = subprocess.run([codex, "exec", "--json", "--skip-git-repo-check", "Say hello"], env=env,
                              capture_output=True, text=True, timeout=180, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    usage = next(e["usage"] for e in events if e.get("type") == "turn.completed")
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT harness, status, input, cache_read, output, reasoning FROM calls").fetchall()
    assert rows and all(h == "codex" and s == "ok" for h, s, *_ in rows)
    # Codex counts cached tokens inside input; the ledger keeps them apart
    assert sum(r[2] + r[3] for r in rows) == usage["input_tokens"]
    assert sum(r[3] for r in rows) == usage["cached_input_tokens"]
    assert sum(r[4] for r in rows) == usage["output_tokens"]
    assert sum(r[5] for r in rows) == usage["reasoning_output_tokens"]
