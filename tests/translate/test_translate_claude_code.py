"""The real Claude Code CLI on an OpenAI-compatible upstream, through the translator: the case this part exists for.

A small loopback bridge stands where the gateway's relay will: it takes
Claude Code's Messages requests, sends the translated Chat Completions
request to the emulator, and streams the translated answer back as it
arrives. The emulator offers a tool call when tools are offered, so the
turn includes a tool round trip (Claude Code sends the result back).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Self

import pytest

from inferaudit.providers import SSEParser
from inferaudit.translate import get

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cli
USAGE = {"input": 300, "cache_read": 1792, "cache_write_5m": 64, "output": 40}



class Bridge:
    """Anthropic Messages in, the emulator's Chat Completions behind, on a loopback port of its own thread."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.translator, self.seen = upstream, get("anthropic-messages", "openai-chat"), []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_post("/v1/messages/count_tokens", self.count_tokens)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    async def count_tokens(self, request: web.Request) -> web.Response:
        return web.json_response({"input_tokens": 1})  # not a completion: outside translation

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(body)
        headers = {"authorization": "Bearer upstream", **{k: v for k, v in request.headers.items() if k.lower().startswith("x-emulator-")}}
        url = self.upstream + self.translator.upstream_path(body["model"], body.get("stream") is True)
        async with aiohttp.ClientSession() as session, session.post(url, json=self.translator.request(body), headers=headers) as up:
            if up.status >= 400:
                return web.json_response(self.translator.error_body(up.status, await up.read()), status=up.status)
            if "text/event-stream" not in up.headers.get("content-type", ""):
                return web.json_response(self.translator.response(await up.json(), body))
            out = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await out.prepare(request)
            stream, parser = self.translator.stream(body), SSEParser()
            async for chunk in up.content.iter_any():
                piece = b"".join(stream.feed(event) for event in parser.feed(chunk))
                if piece:
                    await out.write(piece)
            await out.write(b"".join(stream.feed(event) for event in parser.flush()) + stream.close())
            await out.write_eof()
            return out


def test_claude_code_turn_with_a_tool_round_trip_on_an_openai_upstream(tmp_path, harness_cli):
    from inferaudit.testing import EmulatorThread

    claude = harness_cli("claude")
    home = tmp_path / "home"
    home.mkdir()
    usage = ",".join(f"{k}={v}" for k, v in USAGE.items())
    env = {**os.environ, "HOME": str(home), "ANTHROPIC_API_KEY": "sk-ant-test-not-a-real-key", "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
           "ANTHROPIC_CUSTOM_HEADERS": f"x-emulator-usage: {usage}"}
    with EmulatorThread() as emulator, Bridge(emulator.url) as bridge:
        env["ANTHROPIC_BASE_URL"] = bridge.url
        done = subprocess.run(
            [claude, "-p", "Look around this folder", "--output-format", "json", "--model", "qwen3-coder",
             "--disallowedTools", "Bash Write Edit NotebookEdit WebFetch WebSearch Task"],
            env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False)
        upstream = [r for r in emulator.requests if r.path == "/v1/chat/completions"]
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    result = json.loads(done.stdout)
    assert result["subtype"] == "success" and result["result"], result
    turns = [r for r in upstream if r.body.get("tools")]
    assert turns and all(r.status == 200 and r.body["stream"] is True for r in turns)
    assert all(r.body["stream_options"] == {"include_usage": True} for r in turns)
    # the tool round trip: the model called a tool, Claude Code ran (or refused) it and sent the result back
    assert any(m["role"] == "tool" for r in turns for m in r.body["messages"]), [r.body["messages"][-1] for r in turns]
    # every call Claude Code made answered with the same buckets; its totals are their exact sums
    n = len(upstream)
    assert all(r.usage is not None and r.usage.input == USAGE["input"] for r in upstream)
    reported = result["usage"]
    assert (reported["input_tokens"], reported["cache_read_input_tokens"], reported["cache_creation_input_tokens"]) == (
        n * USAGE["input"], n * USAGE["cache_read"], n * USAGE["cache_write_5m"])
    assert reported["output_tokens"] == n * USAGE["output"]
