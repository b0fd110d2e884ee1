"""Spend views over a ledger filled through the gateway by both official SDKs, in DuckDB and in PostgreSQL."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import anthropic
import openai
import pytest
from typer.testing import CliRunner

from inferaudit.audit.spend import spend
from inferaudit.cli import app
from inferaudit.ledger import Ledger
from inferaudit.pricing import PriceBook
from inferaudit.testing.gateway import GatewayThread

TRAFFIC = [  # (sdk, user, feature, model)
    ("openai", "alice", "search", "gpt-4o-mini"), ("openai", "alice", "search", "gpt-4o-mini"),
    ("openai", "bob", "chat", "gpt-4o-mini"), ("anthropic", "alice", "chat", "claude-haiku-4-5"),
    ("anthropic", "bob", "chat", "claude-haiku-4-5"), ("anthropic", "bob", "summary", "claude-haiku-4-5"),
]


def drive_sdks(url: str) -> None:
    for sdk, user, feature, model in TRAFFIC:
        headers = {"X-Inferaudit-User": user, "X-Inferaudit-Feature": feature}
        if sdk == "openai":
            client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, default_headers=headers)
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"{user} {feature}"}])
        else:
            client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0, default_headers=headers)
            with client.messages.stream(model=model, max_tokens=40,
                                        messages=[{"role": "user", "content": f"{user} {feature}"}]) as stream:
                stream.get_final_message()


def expected(emulator) -> dict[tuple, float]:
    """Spend per (user, feature, model) computed by hand from what the emulator billed."""
    book, out = PriceBook.load(), defaultdict(float)
    sent = [r for r in emulator.requests if r.outcome == "ok"]
    assert len(sent) == len(TRAFFIC)
    for (_, user, feature, model), record in zip(TRAFFIC, sent):
        provider = "openai" if model.startswith("gpt") else "anthropic"
        out[(user, feature, model)] += book.cost(provider, model, record.usage, datetime.now(timezone.utc))
    return dict(out)


def by_group(result) -> dict[tuple, float]:
    return {(r["user"], r["feature"], r["model"]): r["cost_usd"] for r in result["rows"]}


def check(result, emulator) -> None:
    want = expected(emulator)
    got = by_group(result)
    assert got.keys() == want.keys()
    for key, usd in want.items():
        assert got[key] == pytest.approx(usd, rel=1e-9), key
    assert result["total_usd"] == pytest.approx(sum(want.values()), rel=1e-9)
    assert {r["period"] for r in result["rows"]} == {datetime.now(timezone.utc).strftime("%Y-%m-01")}


def test_spend_from_a_duckdb_ledger_filled_through_the_gateway(emulator, config_for, tmp_path):
    emulator.reset()
    ledger = tmp_path / "spend.duckdb"
    with GatewayThread(config_for(ledger)) as gateway:
        drive_sdks(gateway.url)
    with Ledger(ledger, read_only=True) as opened:
        result = spend(opened.con, PriceBook.load(), ("user", "feature", "model"), "month")
    check(result, emulator)
    out = CliRunner().invoke(app, ["spend", "--ledger", str(ledger), "--json", "--by", "user,feature,model"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["total_usd"] == pytest.approx(result["total_usd"], rel=1e-12)


def test_spend_from_a_postgres_ledger_filled_through_the_gateway(emulator, config_for, postgres, tmp_path):
    emulator.reset()
    with GatewayThread(config_for(postgres, spill_dir=str(tmp_path / "spill"))) as gateway:
        drive_sdks(gateway.url)
    now = datetime.now(timezone.utc)
    window = ["--since", (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
              "--until", (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")]
    out = CliRunner().invoke(app, ["spend", "--ledger", postgres, "--json", "--by", "user,feature,model", *window])
    assert out.exit_code == 0, out.output
    check(json.loads(out.stdout), emulator)
    html = tmp_path / "spend.html"
    out = CliRunner().invoke(app, ["spend", "--ledger", postgres, "--by", "user", "--html", str(html)])
    assert out.exit_code == 0 and "alice" in out.stdout and "bob" in out.stdout
    assert "<table>" in html.read_text()


def test_unknown_groupings_and_periods_are_clear_errors(tmp_path):
    with Ledger(tmp_path / "empty.duckdb"):
        pass
    out = CliRunner().invoke(app, ["spend", "--ledger", str(tmp_path / "empty.duckdb"), "--by", "colour"])
    assert out.exit_code == 2 and "cannot group spend by colour" in out.output
    out = CliRunner().invoke(app, ["spend", "--ledger", str(tmp_path / "empty.duckdb"), "--period", "year"])
    assert out.exit_code == 2 and "period must be one of day, week, month" in out.output
