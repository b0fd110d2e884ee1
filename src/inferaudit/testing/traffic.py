"""Loopback client traffic for tests and benchmarks: OpenAI and Anthropic requests, JSON or SSE, in parallel."""

from __future__ import annotations

import asyncio

import aiohttp

Job = tuple[str, bool, str, int]  # (kind: "openai" | "anthropic", stream, x-emulator-fault spec, request number)


def request_for(kind: str, stream: bool, i: int) -> tuple[str, dict]:
    """The path and body of request ``i``: every number its own body, so the emulator tells them apart."""
    text = f"request {i}: say something"
    if kind == "openai":
        body = {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": text}]}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return "/v1/chat/completions", body
    return "/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": stream,
                            "messages": [{"role": "user", "content": text}]}


async def drive(url: str, jobs: list[Job], concurrency: int = 32) -> list[tuple[int, str, bytes]]:
    """Send every job to ``url`` with at most ``concurrency`` in flight; (status, content type, body) each, in order."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one(kind: str, stream: bool, fault: str, i: int):
            path, body = request_for(kind, stream, i)
            headers = {"x-emulator-fault": fault} if fault else {}
            async with gate, session.post(url + path, json=body, headers=headers) as response:
                return response.status, response.headers.get("content-type", ""), await response.read()

        return await asyncio.gather(*(one(*job) for job in jobs))
