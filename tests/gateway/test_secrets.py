"""No key of any kind in the ledger, logs, metrics or error bodies; no prompt or completion text stored."""

from __future__ import annotations

import logging
import urllib.request

import openai
import pytest

from inferaudit.testing.gateway import GatewayThread

PROMPT = "PROMPT-TEXT-that-must-not-be-stored"


def test_keys_and_bodies_stay_out_of_everything_the_gateway_writes(emulator, config_for, tmp_path, monkeypatch,
                                                                    upstream_key, caplog):
    emulator.reset()
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("VIRTUAL_KEY", "sk-virtual-SECRET-42")
    ledger = tmp_path / "secrets.duckdb"
    config = config_for(ledger, keys=[{"key_env": "VIRTUAL_KEY", "name": "team-a", "models": ["gpt-*"]}],
                        budgets=[{"key": "team-a", "usd": 1000}], spill_dir=str(tmp_path / "spill"))
    outputs = []
    with GatewayThread(config) as gateway:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="sk-virtual-SECRET-42", max_retries=0)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
        completion = reply.choices[0].message.content
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": PROMPT + " stream"}])
        list(stream)
        emulator.enqueue_faults("500", "500", "500")
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
        outputs.append(str(failed.value.body))
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.chat.completions.create(model="o3", messages=[{"role": "user", "content": PROMPT}])
        outputs.append(str(refused.value.body))
        with pytest.raises(openai.AuthenticationError) as unknown:
            openai.OpenAI(base_url=gateway.url + "/v1", api_key="sk-wrong", max_retries=0).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}])
        outputs.append(str(unknown.value.body))
        for path in ("/metrics", "/healthz", "/v1/models"):
            outputs.append(urllib.request.urlopen(gateway.url + path, timeout=10).read().decode())
    stored = ledger.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != ledger)
    wal = ledger.with_suffix(".duckdb.wal")
    if wal.exists():
        stored += wal.read_bytes()
    everything = "\n".join(outputs) + caplog.text
    for secret in (upstream_key, "sk-virtual-SECRET-42"):
        assert secret not in everything
        assert secret.encode() not in stored
    assert PROMPT.encode() not in stored and completion.encode() not in stored
    # DuckDB may compress strings on disk: search every column's text too
    from inferaudit.ledger import Ledger

    with Ledger(ledger, read_only=True) as opened:
        rows, corpus = 0, ""
        for (table,) in opened.con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            text = opened.con.execute(f'SELECT string_agg(CAST(t AS VARCHAR), chr(10)) FROM "{table}" t').fetchone()[0] or ""
            rows += text.count("\n") + bool(text)
            corpus += text
            for needle in (PROMPT, completion, upstream_key, "sk-virtual-SECRET-42"):
                assert needle not in text, (table, needle)
        assert rows >= 5 and "team-a" in corpus  # the search reads the rows: the key's name is there, the key not
    assert len(emulator.requests) == 5  # two answered, three 500s; the refused and the unknown never went upstream
