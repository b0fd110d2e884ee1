"""inferaudit.Client: the gateway in-process, same accounting, same ledger."""

from __future__ import annotations

import pytest

from inferaudit import AsyncClient, Client
from inferaudit.ledger import Ledger
from inferaudit.usage import BUCKETS, Tokens



def rows(path):
    with Ledger(path, read_only=True) as ledger:
        cur = ledger.con.execute("SELECT * FROM calls ORDER BY started_at")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def test_sync_client_chat_and_messages_write_exact_rows(emulator, tmp_path, config_for):
    ledger = tmp_path / "client.duckdb"
    with Client(config_for(ledger)) as client:
        reply = client.chat(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], feature="faq",
                            user="bob", tags={"env": "test"}).raise_for_status()
        assert reply.json["choices"][0]["message"]["content"]
        streamed = client.messages(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}], stream=True)
        kinds = [e.event for e in streamed.events()]
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    sent = [r.usage for r in emulator.requests[-2:]]
    got = rows(ledger)
    assert [Tokens(*(r[b] for b in BUCKETS)) for r in got] == sent
    assert (got[0]["feature"], got[0]["user_id"], got[0]["harness"]) == ("faq", "bob", "inferaudit-client")


def test_client_errors_are_the_protocols_own(emulator, tmp_path, config_for):
    with Client(config_for(tmp_path / "l.duckdb")) as client:
        reply = client.request("/v1/messages", {"messages": []})
        assert reply.status == 400 and reply.json["type"] == "error"
        with pytest.raises(Exception, match="HTTP 400"):
            reply.raise_for_status()


async def test_async_client(emulator, tmp_path, config_for):
    ledger = tmp_path / "async.duckdb"
    async with AsyncClient(config_for(ledger)) as client:
        reply = await client.chat(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
        assert any(e.data == "[DONE]" for e in reply.events())
    assert len(rows(ledger)) == 1
