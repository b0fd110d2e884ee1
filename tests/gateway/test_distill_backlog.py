"""The distillation backlog over a ledger filled through the gateway: template stability, verifiers, savings."""

from __future__ import annotations

import json
from datetime import date

import openai
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.gateway.templates import fingerprint
from inferaudit.pricing import PriceBook
from inferaudit.testing.gateway import GatewayThread
from inferaudit.usage import Tokens

USAGE = "input=2000,cache_read=0,output=200"
TOOLS = [{"type": "function", "function": {"name": "label", "parameters": {"type": "object"}}}]


def call(url: str, feature: str, system: str, user: str, tools=None) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0,
                           default_headers={"X-Inferaudit-Feature": feature, "x-emulator-usage": USAGE})
    extra = {"tools": tools} if tools else {}
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": system},
                                                              {"role": "user", "content": user}], **extra)


def test_verified_stable_endpoints_come_first_with_their_saving(emulator, config_for, tmp_path):
    emulator.reset()
    ledger = tmp_path / "distill.duckdb"
    with GatewayThread(config_for(ledger)) as gateway:
        for i in range(8):  # one template (digits folded): 8 of 8 calls
            call(gateway.url, "classify", f"Classify ticket #{1000 + i} into one label.", f"ticket text {i}", TOOLS)
        for i in range(6):  # every call its own system prompt: 1 of 6
            call(gateway.url, "chat", f"You are persona {'abcdef'[i]}.", "hello")
        for i in range(10):  # stable, spends most, but nothing checks its outputs
            call(gateway.url, "extract", "Extract the fields as JSON.", f"document {i}")
    out = CliRunner().invoke(app, ["distill", "backlog", "--ledger", str(ledger), "--small-model", "openai:gpt-4o-mini",
                                   "--verifier", "classify", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["feature"]: r for r in json.loads(out.stdout)["endpoints"]}
    order = [r["feature"] for r in json.loads(out.stdout)["endpoints"]]
    assert order == ["classify", "extract", "chat"]  # the candidate first, then by spend
    assert (rows["classify"]["stability"], rows["classify"]["templates"], rows["classify"]["candidate"]) == (1.0, 1, True)
    assert rows["chat"]["stability"] == 1 / 6 and rows["chat"]["templates"] == 6
    assert rows["extract"]["stable"] and not rows["extract"]["candidate"] and rows["extract"]["verifier"] is None
    book, today = PriceBook.load(), date.today()
    tokens = Tokens(input=8 * 2000, output=8 * 200)
    big = book.rates("openai", "gpt-4o", today).cost(Tokens(input=2000, output=200)) * 8
    small = book.rates("openai", "gpt-4o-mini", today).tiers[0].cost(tokens)
    assert abs(rows["classify"]["cost_usd"] - big) < 1e-12
    assert abs(rows["classify"]["saving_usd"] - (big - small)) < 1e-12


def test_fingerprints_fold_digits_and_ignore_user_content():
    a = fingerprint("openai-chat", {"messages": [{"role": "system", "content": "Ticket 12 of  2026"},
                                                 {"role": "user", "content": "x"}]})
    b = fingerprint("openai-chat", {"messages": [{"role": "system", "content": "Ticket 7 of 1999"},
                                                 {"role": "user", "content": "y"}]})
    c = fingerprint("anthropic-messages", {"system": [{"type": "text", "text": "Ticket 7 of 1999"}], "messages": []})
    assert a == b == c and len(a) == 16
    assert fingerprint("openai-chat", {"messages": [{"role": "user", "content": "no system"}]}) is None
    assert fingerprint("openai-chat", {"messages": [], "tools": TOOLS}) is not None  # tools alone make a template
