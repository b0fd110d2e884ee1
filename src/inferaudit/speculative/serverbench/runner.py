"""Drive every endpoint with the same prompts, class by class, at each concurrency.

The order keeps comparisons fair on a shared machine: for each concurrency, for each
prompt class, every endpoint in turn runs that class's batch, so a baseline and its
speculative twin are measured minutes, not an hour, apart. Each batch is bracketed by two
``/metrics`` scrapes, so the server's own counters are read as a delta per class.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp

from ...providers.spec_counters import SpecCounters
from ..prompts import BenchPrompt
from ..server_metrics import CounterSnapshot, delta, snapshot
from .client import RequestResult, request_body, stream_chat


@dataclass(frozen=True)
class Endpoint:
    """A labelled OpenAI-compatible server; ``url`` is its root or its ``/v1`` base."""

    label: str
    url: str

    @property
    def root(self) -> str:
        root = self.url.rstrip("/")
        return root[: -len("/v1")] if root.endswith("/v1") else root

    @property
    def chat_url(self) -> str:
        return self.root + "/v1/chat/completions"

    @property
    def metrics_url(self) -> str:
        return self.root + "/metrics"


@dataclass
class BenchConfig:
    endpoints: list[Endpoint]
    model: str
    prompts: list[BenchPrompt]
    concurrency: list[int] = field(default_factory=lambda: [1])
    max_tokens: int = 256
    timeout_s: float = 600.0
    extra_body: dict[str, Any] = field(default_factory=dict)
    warmup: bool = True
    warmup_prompts: list[BenchPrompt] = field(default_factory=list)  # sent to every endpoint first, not recorded

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise ValueError("give at least one endpoint")
        labels = [e.label for e in self.endpoints]
        if len(set(labels)) != len(labels):
            raise ValueError(f"endpoint labels must differ: {labels}")
        if not self.prompts:
            raise ValueError("no prompts to run")
        if not self.concurrency or min(self.concurrency) < 1:
            raise ValueError(f"concurrency levels must be at least 1, got {self.concurrency}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")


@dataclass
class BatchMetrics:
    """``/metrics`` of one (endpoint, concurrency, class) batch: the delta, or why there is none."""

    endpoint: str
    concurrency: int
    cls: str
    counters: SpecCounters | None
    note: str  # "ok", "no speculative counters", "no /metrics (HTTP 404)", "counter reset"


@dataclass
class BenchRun:
    config: BenchConfig
    started_at: datetime
    wall_s: float
    results: list[RequestResult]
    metrics: list[BatchMetrics]


async def scrape(session: aiohttp.ClientSession, endpoint: Endpoint, model: str) -> tuple[CounterSnapshot | None, str]:
    try:
        async with session.get(endpoint.metrics_url) as response:
            if response.status != 200:
                return None, f"no /metrics (HTTP {response.status})"
            found = snapshot(await response.text(), model)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return None, f"no /metrics ({type(exc).__name__})"
    except ValueError as exc:  # not Prometheus text
        return None, f"unreadable /metrics ({exc})"
    return found, "ok" if found else "no speculative counters"


Progress = Callable[[RequestResult], None]


async def _batch(session, config: BenchConfig, endpoint: Endpoint, prompts: list[BenchPrompt], concurrency: int,
                 progress: Progress | None) -> list[RequestResult]:
    gate = asyncio.Semaphore(concurrency)

    async def one(prompt: BenchPrompt) -> RequestResult:
        async with gate:
            result = RequestResult(prompt.id, prompt.cls, endpoint.label, concurrency,
                                   datetime.now(timezone.utc), time.perf_counter())
            body = request_body(config.model, prompt.messages, config.max_tokens, config.extra_body)
            await stream_chat(session, endpoint.chat_url, body, result)
            if progress:
                progress(result)
            return result

    return list(await asyncio.gather(*(one(p) for p in prompts)))


async def _warm(session, config: BenchConfig) -> None:
    """One short request per endpoint, so no measured request pays for start-up compilation; then the
    warm-up prompts in full, as traffic a server has seen before (a server that learns from it, learns)."""
    first = config.prompts[0]
    for endpoint in config.endpoints:
        for prompt, max_tokens in [(first, 8), *((p, config.max_tokens) for p in config.warmup_prompts)]:
            await _unrecorded(session, config, endpoint, prompt, max_tokens)


async def _unrecorded(session, config: BenchConfig, endpoint: Endpoint, prompt: BenchPrompt, max_tokens: int) -> None:
    result = RequestResult(prompt.id, prompt.cls, endpoint.label, 1, datetime.now(timezone.utc), time.perf_counter())
    body = request_body(config.model, prompt.messages, max_tokens, config.extra_body)
    await stream_chat(session, endpoint.chat_url, body, result)
    if result.error:
        raise ConnectionError(f"endpoint {endpoint.label} ({endpoint.chat_url}) failed its warm-up request: {result.error}")


async def run_bench(config: BenchConfig, progress: Progress | None = None) -> BenchRun:
    """Run every (concurrency, class, endpoint) batch; never raises for one failed request (it is recorded)."""
    started_at, t0 = datetime.now(timezone.utc), time.perf_counter()
    classes = list(dict.fromkeys(p.cls for p in config.prompts))
    results: list[RequestResult] = []
    metrics: list[BatchMetrics] = []
    timeout = aiohttp.ClientTimeout(total=config.timeout_s)
    connector = aiohttp.TCPConnector(limit=max(config.concurrency) + 2)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        if config.warmup:
            await _warm(session, config)
        for concurrency in config.concurrency:
            for cls in classes:
                prompts = [p for p in config.prompts if p.cls == cls]
                # a warm-up prompt of the class where there is one: a measured prompt would be in a prefix cache
                rested = next((p for p in config.warmup_prompts if p.cls == cls), prompts[0])
                for endpoint in config.endpoints:
                    if config.warmup:  # it sat idle while the others ran: its first measured request should not pay for that
                        await _unrecorded(session, config, endpoint, rested, 8)
                    before, _ = await scrape(session, endpoint, config.model)
                    results += await _batch(session, config, endpoint, prompts, concurrency, progress)
                    after, note = await scrape(session, endpoint, config.model)
                    counters = delta(before, after)
                    if after is not None and counters is None:
                        note = "counter reset during the batch"
                    metrics.append(BatchMetrics(endpoint.label, concurrency, cls, counters, note))
    return BenchRun(config, started_at, time.perf_counter() - t0, results, metrics)


def parse_endpoints(base_url: str | None, spec_url: str | None, extra: list[str]) -> list[Endpoint]:
    """``--base-url`` (label ``base``, the baseline), ``--spec-url`` (label ``spec``), then ``LABEL=URL`` each."""
    endpoints = [Endpoint("base", base_url)] if base_url else []
    if spec_url:
        endpoints.append(Endpoint("spec", spec_url))
    for item in extra:
        label, sep, url = item.partition("=")
        if not sep or not label.strip() or not url.startswith(("http://", "https://")):
            raise ValueError(f"--endpoint {item!r}: expected LABEL=http://host:port")
        endpoints.append(Endpoint(label.strip(), url.strip()))
    for e in endpoints:
        if not e.url.startswith(("http://", "https://")):
            raise ValueError(f"endpoint {e.label}: {e.url!r} is not an http(s) URL")
    return endpoints


def parse_levels(text: str) -> list[int]:
    """``"1,4"`` -> ``[1, 4]``."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--concurrency {text!r}: expected comma-separated integers such as 1,4") from None
    if not levels or min(levels) < 1:
        raise ValueError(f"--concurrency {text!r}: every level must be at least 1")
    return list(dict.fromkeys(levels))
