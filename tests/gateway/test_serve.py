"""`inferaudit serve` as a process: answers real SDK calls, flushes every ledger row on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import yaml

from inferaudit.ledger import Ledger
from inferaudit.testing.ports import free_port

CLI = Path(sys.executable).parent / "inferaudit"


def test_serve_answers_and_flushes_on_sigterm(emulator, tmp_path):
    port = free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({
        "listen": {"host": "127.0.0.1", "port": port},
        "providers": {"up": {"base_url": emulator.url, "protocol": "openai-chat", "api_key_env": "UPSTREAM_KEY"}},
        "models": {"fast": [{"provider": "up", "model": "gpt-4o-mini"}]},
        "ledger_flush_s": 30,  # nothing is flushed on a timer during this test: only shutdown can write the rows
    }))
    ledger = tmp_path / "serve.duckdb"
    proc = subprocess.Popen([str(CLI), "serve", "--config", str(config), "--ledger", str(ledger)],
                            env={**os.environ, "UPSTREAM_KEY": "sk-up"}, stderr=subprocess.PIPE, text=True)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)
        deadline = time.time() + 20
        while True:
            try:
                models = client.models.list()
                break
            except openai.APIConnectionError:
                assert time.time() < deadline, proc.stderr.read() if proc.poll() is not None else "no start"
                time.sleep(0.1)
        assert [m.id for m in models.data] == ["fast"]
        for _ in range(5):
            client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT model, json_extract_string(tags, '$.alias'), status FROM calls").fetchall()
    assert rows == [("gpt-4o-mini", "fast", "ok")] * 5


def test_serve_rejects_a_bad_config(tmp_path):
    config = tmp_path / "gateway.yaml"
    config.write_text("providers:\n  up: {protocol: openai-chat}\n")
    done = subprocess.run([str(CLI), "serve", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "base_url" in done.stderr and "Traceback" not in done.stderr
