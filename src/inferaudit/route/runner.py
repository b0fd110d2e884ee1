"""Run an eval set through the gateway against each candidate: one chat completion per (candidate, item).

Every request carries the attribution headers, so the gateway's ledger
records each call under feature = the item's feature, task = the item id,
harness = ``route-eval`` and run = one run per (candidate, item); the
eval writes the matching Runs (outcome verified by the item's verifier,
wall time = request latency, cost) to the ledger too, so ``inferaudit
audit`` shows the candidates beside everything else.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import aiohttp

from ..pricing import PriceBook
from ..providers.openai_chat import map_usage
from ..usage import Run, Tokens
from .candidates import Candidate, CandidatesPlan
from .evalset import EvalSet, Item

HARNESS = "route-eval"
SOURCE = "route-eval"


@dataclass
class ItemResult:
    """One candidate's answer to one item: verified, measured and priced."""

    candidate: str
    item: str
    feature: str
    outcome: str
    """``passed``, ``failed`` (the verifier said no) or ``error`` (no answer: the request failed)."""
    detail: str = ""
    latency_s: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)
    cost_usd: float | None = None
    served_model: str | None = None
    run_id: str = ""
    started_at: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass
class EvalRun:
    eval_id: str
    evalset: EvalSet
    plan: CandidatesPlan
    results: list[ItemResult]


def new_eval_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_eval(evalset: EvalSet, plan: CandidatesPlan, gateway_url: str, *, book: PriceBook,
             parallel: int = 4, timeout_s: float = 300.0, eval_id: str | None = None,
             on_result: Callable[[ItemResult], None] | None = None) -> EvalRun:
    """Every (candidate, item) through the gateway at ``gateway_url``, ``parallel`` at a time."""
    eval_id = eval_id or new_eval_id()
    pairs = [(c, item) for c in plan.candidates for item in evalset.items]
    results = asyncio.run(_run_all(pairs, evalset.name, eval_id, plan, gateway_url.rstrip("/"), book,
                                   max(1, parallel), timeout_s, on_result))
    return EvalRun(eval_id, evalset, plan, results)


async def _run_all(pairs, name, eval_id, plan, url, book, parallel, timeout_s, on_result) -> list[ItemResult]:
    limit = asyncio.Semaphore(parallel)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=parallel)) as session:
        async def one(candidate: Candidate, item: Item) -> ItemResult:
            async with limit:
                result = await _ask(session, url, plan, candidate, item, name, eval_id, book)
            if on_result:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(c, i) for c, i in pairs)))


async def _ask(session: aiohttp.ClientSession, url: str, plan: CandidatesPlan, candidate: Candidate, item: Item,
               name: str, eval_id: str, book: PriceBook) -> ItemResult:
    run_id = f"{SOURCE}:{name}/{eval_id}/{candidate.name}/{item.id}"
    headers = {"authorization": f"Bearer {plan.api_key}", "x-inferaudit-feature": item.feature,
               "x-inferaudit-task": item.id, "x-inferaudit-run": run_id, "x-inferaudit-harness": HARNESS,
               "x-inferaudit-tags": f"eval={name},candidate={candidate.name}"}
    body = {**plan.request, "model": candidate.model, "messages": list(item.messages), "stream": False}
    result = ItemResult(candidate.name, item.id, item.feature, "error", run_id=run_id,
                        started_at=datetime.now(timezone.utc))
    started = time.perf_counter()
    try:
        async with session.post(f"{url}/v1/chat/completions", json=body, headers=headers) as response:
            raw = await response.read()
            result.latency_s = time.perf_counter() - started
            reply: Any = _json(raw)
            if response.status != 200 or not isinstance(reply, dict):
                result.detail = f"HTTP {response.status}: {_error_message(reply, raw)}"
                return result
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        result.latency_s = time.perf_counter() - started
        result.detail = f"request failed: {type(exc).__name__}: {exc}"
        return result
    result.served_model = reply.get("model") if isinstance(reply.get("model"), str) else None
    if isinstance(reply.get("usage"), dict):
        result.tokens = map_usage(reply["usage"])
    result.cost_usd = _price(book, candidate, result.served_model, result.tokens)
    answer = _content(reply)
    if answer is None:
        result.detail = "the response has no message content"
        return result
    check = await asyncio.to_thread(item.verify, answer)
    result.outcome, result.detail = ("passed" if check.passed else "failed"), check.detail
    return result


def _json(raw: bytes) -> Any:
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _error_message(reply: Any, raw: bytes) -> str:
    if isinstance(reply, dict):
        error = reply.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
    return raw[:300].decode("utf-8", "replace")


def _content(reply: dict[str, Any]) -> str | None:
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _price(book: PriceBook, candidate: Candidate, served: str | None, tokens: Tokens) -> float | None:
    """USD for these tokens: the served model's price, else ``price_as``, else the candidate's model name."""
    for provider, model in ((candidate.price_provider, served), (candidate.price_provider, candidate.price_model),
                            (candidate.price_provider, candidate.model)):
        if model:
            cost = book.cost(provider, model, tokens)
            if cost is not None:
                return cost
    return None


def runs_of(run: EvalRun, source_file: str | None = None) -> list[Run]:
    """The eval's Runs for the ledger: one per (candidate, item)."""
    models = {c.name: c for c in run.plan.candidates}
    outcomes = {"passed": "resolved", "failed": "failed", "error": "unknown"}
    verifiers = {item.id: item.verifier for item in run.evalset.items}
    out = []
    for r in run.results:
        candidate = models[r.candidate]
        ended = r.started_at and datetime.fromtimestamp(r.started_at.timestamp() + r.latency_s, timezone.utc)
        out.append(Run(run_id=r.run_id, source=SOURCE, harness=HARNESS, model=candidate.model,
                       provider=candidate.price_provider, cache_policy="none", benchmark=run.evalset.name,
                       task_id=r.item, outcome=outcomes[r.outcome], verified_by=f"{SOURCE}:{verifiers[r.item]}",
                       started_at=r.started_at, ended_at=ended, wall_time_s=r.latency_s, cost_reported=r.cost_usd,
                       calls_reported=1, tokens_reported=r.tokens, source_file=source_file))
    return out
