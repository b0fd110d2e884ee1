"""Budgets and per-key model allowlists, enforced under concurrency with the protocol's own errors."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import aiohttp
import anthropic
import openai
import pytest

from inferaudit.gateway.budgets import Budget, Budgets, period_start
from inferaudit.gateway.config import ConfigError, GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.pricing import PriceBook
from inferaudit.testing.gateway import GatewayThread
from inferaudit.usage import Tokens

USAGE = "input=1000,cache_read=0,output=100"
COST = PriceBook.load().cost("openai", "gpt-4o-mini", Tokens(input=1000, output=100), datetime.now(timezone.utc))


async def burst(url: str, key: str, n: int, concurrency: int = 32) -> list[int]:
    gate = asyncio.Semaphore(concurrency)
    headers = {"authorization": f"Bearer {key}", "x-emulator-usage": USAGE}
    async with aiohttp.ClientSession() as session:
        async def one(i):
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"budget {i}"}]}
            async with gate, session.post(url + "/v1/chat/completions", json=body, headers=headers) as r:
                payload = await r.json()
                return r.status, payload

        return await asyncio.gather(*(one(i) for i in range(n)))


def test_a_key_budget_is_not_overspent_by_more_than_one_request_at_concurrency_32(emulator, config_for, tmp_path,
                                                                                     monkeypatch):
    emulator.reset()
    monkeypatch.setenv("BUDGET_KEY", "sk-budget-1")
    ledger = tmp_path / "b.duckdb"
    config = config_for(ledger, keys=[{"key_env": "BUDGET_KEY", "name": "bot", "user": "bot"}],
                        budgets=[{"key": "bot", "usd": 10.5 * COST, "period": "day"}])
    with GatewayThread(config) as gateway:
        replies = asyncio.run(burst(gateway.url, "sk-budget-1", 40))
        import urllib.request

        metrics = urllib.request.urlopen(gateway.url + "/metrics", timeout=10).read().decode()
    assert 'inferaudit_budget_limit_usd{name="bot",period="day",scope="key"}' in metrics
    ok = [p for s, p in replies if s == 200]
    refused = [p for s, p in replies if s == 403]
    assert len(ok) + len(refused) == 40
    assert len(ok) == 11  # ten within the budget, and at most one more that crossed it
    assert all(p["error"]["type"] == "permission_error" or "budget exhausted" in p["error"]["message"] for p in refused)
    assert "budget exhausted for key 'bot'" in refused[0]["error"]["message"]
    assert len(emulator.requests) == 11  # a refused request never reached the upstream
    with Ledger(ledger, read_only=True) as opened:
        assert opened.con.execute("SELECT count(*), any_value(json_extract_string(tags, '$.key')) FROM calls").fetchone() \
            == (11, "bot")


def test_budgets_are_seeded_from_the_ledger_so_a_restart_hands_nothing_back(emulator, config_for, tmp_path, monkeypatch):
    emulator.reset()
    monkeypatch.setenv("BUDGET_KEY", "sk-budget-2")
    ledger = tmp_path / "seed.duckdb"
    config = config_for(ledger, keys=[{"key_env": "BUDGET_KEY", "name": "bot", "user": "bot"}],
                        budgets=[{"user": "bot", "usd": 3.5 * COST, "period": "month"}])
    with GatewayThread(config) as gateway:
        first = asyncio.run(burst(gateway.url, "sk-budget-2", 3, concurrency=1))
    with GatewayThread(config) as gateway:  # a restart
        second = asyncio.run(burst(gateway.url, "sk-budget-2", 3, concurrency=1))
    assert [s for s, _ in first] == [200, 200, 200]
    assert [s for s, _ in second] == [200, 403, 403]  # $3 of $3.5 were spent before the restart


def test_per_key_model_allowlists_and_the_sdks_errors(emulator, config_for, tmp_path, monkeypatch):
    monkeypatch.setenv("NARROW_KEY", "sk-narrow")
    config = config_for(tmp_path / "a.duckdb", keys=[{"key_env": "NARROW_KEY", "name": "narrow", "models": ["gpt-4o*"]}])
    with GatewayThread(config) as gateway:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="sk-narrow", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        with pytest.raises(anthropic.PermissionDeniedError, match="may not use model 'claude-haiku-4-5'"):
            anthropic.Anthropic(base_url=gateway.url, api_key="sk-narrow", max_retries=0).messages.create(
                model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_near_the_limit_requests_run_one_at_a_time(caplog):
    budget = Budget("user", "u", usd=1.0)
    book = Budgets([budget])
    b = [budget]

    async def scenario():
        assert await book.admit(b) is None  # the first runs alone: no cost known yet
        second = asyncio.create_task(book.admit(b))
        await asyncio.sleep(0.01)
        assert not second.done()  # it waits for the first to finish
        book.settle(b, 0.3)
        await book.release(b)
        assert await second is None
        # room 0.7 > 2 x 0.3: a third runs alongside the second
        assert await asyncio.wait_for(book.admit(b), 1) is None
        fourth = asyncio.create_task(book.admit(b))  # room 0.7 < 3 x 0.3: waits
        await asyncio.sleep(0.01)
        assert not fourth.done()
        book.settle(b, 0.3)
        book.settle(b, 0.3)
        await book.release(b)
        await book.release(b)
        assert await fourth is None  # 0.9 spent, 0.1 left, nothing in flight: it runs, alone
        book.settle(b, 0.3)  # and crosses the budget: by one request, no more
        await book.release(b)
        assert "budget exhausted for user 'u'" in await book.admit(b)

    asyncio.run(scenario())
    assert "budget alert: user 'u'" in caplog.text  # raised at 80%, before the budget was hit


def test_periods_and_config_errors():
    now = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)  # a Friday
    assert period_start("day", now) == datetime(2026, 11, 27, tzinfo=timezone.utc)
    assert period_start("week", now) == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert period_start("month", now) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    with pytest.raises(ConfigError, match=r"budgets\[1\] needs exactly one of key, user, team, feature"):
        GatewayConfig.from_dict({"budgets": [{"usd": 5}]})
    with pytest.raises(ConfigError, match=r"budgets\[1\].period must be one of"):
        GatewayConfig.from_dict({"budgets": [{"user": "a", "usd": 5, "period": "year"}]})
