"""A scripted model: an OpenAI- and Anthropic-compatible loopback server replaying recorded trajectories.

Routes: ``/v1/chat/completions`` (JSON), ``/v1/messages`` (JSON or SSE, as
Claude Code asks) and ``/v1/responses`` (JSON or SSE, as Codex CLI asks).

Each task has a trajectory: the assistant messages (text and tool calls) a
model would send, in order. A request is matched to its task by the
``x-inferaudit-task`` header (when the gateway forwards it) or else by the
task's instruction appearing in the first user message; its step is one
more than the highest step named in the tool-call ids it carries back
(``call_s<step>_<i>`` / ``toolu_s<step>_<i>``), so replay is deterministic
and stateless, and survives a harness that truncates its context. Past the
last step the model answers "Done." with no tool call.

Usage is realistic and exact: prompt tokens are estimated from the request
(one token per ``chars_per_token`` characters of each message or block), and
a prompt-prefix cache decides what is read, written or billed as plain
input:

- ``/v1/chat/completions`` and ``/v1/responses`` cache like OpenAI (reads
  only, whole-prompt prefixes) but only for requests that ask
  (``prompt_cache_key`` or ``cache_control`` markers), so the cache policies
  differ visibly;
- ``/v1/messages`` caches like Anthropic: nothing without ``cache_control``;
  breakpoints (or a top-level ``cache_control``) write the prefix up to them
  with their TTL (5m or 1h) and later requests read the longest cached prefix.

Every answered request is kept in :attr:`ScriptedModel.requests` with the
exact buckets it reported, to compare with what a ledger recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..usage import Tokens
from .trajectories import TOOL_SHAPES, Step, ToolShapes, Trajectory, failing_trajectory, solving_trajectory

__all__ = ["TOOL_SHAPES", "ScriptedModel", "ScriptedRequest", "Step", "ToolShapes", "Trajectory", "failing_trajectory",
           "solving_trajectory"]

_IDS = re.compile(r'"(?:call|toolu)_s(\d+)_\d+"')  # tool-call ids this server handed out
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True)
class ScriptedRequest:
    path: str
    task: str | None
    step: int
    model: str
    tokens: Tokens
    headers: dict[str, str] = field(default_factory=dict)


class _PrefixCache:
    """Prefix hashes -> expiry (monotonic seconds)."""

    def __init__(self) -> None:
        self.entries: dict[str, float] = {}
        self.lock = threading.Lock()

    def longest(self, hashes: list[str], upto: int) -> int:
        """The most leading segments (at most ``upto``) whose prefix is cached."""
        now = time.monotonic()
        for n in range(upto, 0, -1):
            if self.entries.get(hashes[n - 1], 0) > now:
                return n
        return 0

    def put(self, digest: str, ttl: float) -> None:
        self.entries[digest] = max(self.entries.get(digest, 0), time.monotonic() + ttl)


def _strip_markers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_markers(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip_markers(v) for v in value]
    return value


class ScriptedModel:
    """The server, on its own thread: ``with ScriptedModel({task_id: Trajectory}) as model: model.url``."""

    def __init__(self, trajectories: dict[str, Trajectory], *, chars_per_token: int = 4, answer: str = "Done."):
        self.trajectories = trajectories
        self.chars_per_token = chars_per_token
        self.answer = answer
        self.requests: list[ScriptedRequest] = []
        self._cache: dict[str, _PrefixCache] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="inferaudit-scripted-model", daemon=True)
        self._ready = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/responses", self._responses)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ScriptedModel:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- matching ----------------------------------------------------------------

    def _task(self, headers: Any, first_user_text: str) -> str | None:
        named = headers.get("x-inferaudit-task")
        if named in self.trajectories:
            return named
        for task_id, trajectory in self.trajectories.items():
            if trajectory.instruction and trajectory.instruction in first_user_text:
                return task_id
        return None

    def _step(self, body: dict[str, Any]) -> int:
        found = [int(m.group(1)) for m in _IDS.finditer(json.dumps(body))]
        return max(found) + 1 if found else 0

    def _reply(self, task: str | None, step: int) -> Step:
        steps = self.trajectories[task].steps if task in self.trajectories else ()
        return steps[step] if step < len(steps) else Step(content=self.answer)

    def _tokens(self, text: str) -> int:
        return max(1, math.ceil(len(text) / self.chars_per_token))

    def _segments(self, parts: list[Any]) -> tuple[list[str], list[int]]:
        """Cumulative prefix hashes and token counts of a request's segments."""
        hashes, counts, digest = [], [], hashlib.sha1()
        for part in parts:
            text = json.dumps(_strip_markers(part), sort_keys=True, ensure_ascii=False)
            digest.update(text.encode())
            hashes.append(digest.copy().hexdigest())
            counts.append(self._tokens(text))
        return hashes, counts

    def _record(self, request: web.Request, path: str, task: str | None, step: int, model: str, tokens: Tokens) -> None:
        kept = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-inferaudit")}
        with self._lock:
            self.requests.append(ScriptedRequest(path, task, step, model, tokens, kept))

    # -- OpenAI chat and responses ---------------------------------------------

    def _openai_cached(self, model: Any, hashes: list[str], counts: list[int]) -> int:
        """Tokens read from the prefix cache (the last segment is never a read); caches every prefix."""
        cache = self._cache.setdefault(f"openai:{model}", _PrefixCache())
        with cache.lock:
            hit = cache.longest(hashes, len(hashes))
            for digest in hashes:
                cache.put(digest, TTL_SECONDS["5m"])
        return sum(counts[:hit]) if hit < len(hashes) else sum(counts[:hit - 1])

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("stream"):
            return web.json_response({"error": {"message": "the scripted model does not stream chat", "type": "invalid_request_error"}}, status=400)
        messages = body.get("messages") or []
        first = next((m for m in messages if m.get("role") == "user"), {})
        task, step = self._task(request.headers, _text(first.get("content"))), self._step(body)
        reply = self._reply(task, step)
        hashes, counts = self._segments([body.get("tools") or [], *messages])
        prompt = sum(counts)
        asks = "prompt_cache_key" in body or "cache_control" in json.dumps(messages)
        cached = self._openai_cached(body.get("model"), hashes, counts) if asks else 0
        calls = [{"id": f"call_s{step}_{i}", "type": "function",
                  "function": {"name": name, "arguments": json.dumps(args)}} for i, (name, args) in enumerate(reply.tool_calls)]
        output = self._tokens(json.dumps([reply.content, calls]))
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if calls:
            message["tool_calls"] = calls
        self._record(request, "/v1/chat/completions", task, step, body.get("model"),
                     Tokens(input=prompt - cached, cache_read=cached, output=output))
        return web.json_response({
            "id": f"chatcmpl-scripted{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output,
                      "prompt_tokens_details": {"cached_tokens": cached}},
        })

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        given = body.get("input") or []
        items = [{"role": "user", "content": given}] if isinstance(given, str) else given
        users = " ".join(_text(i.get("content")) for i in items if isinstance(i, dict) and i.get("role") == "user")
        task, step = self._task(request.headers, users), self._step(body)
        reply = self._reply(task, step)
        hashes, counts = self._segments([body.get("tools") or [], body.get("instructions") or "", *items])
        prompt = sum(counts)
        asks = "prompt_cache_key" in body or "cache_control" in json.dumps(items)
        cached = self._openai_cached(body.get("model"), hashes, counts) if asks else 0
        output: list[dict[str, Any]] = []
        if reply.content:
            output.append({"id": f"msg_s{step}", "type": "message", "status": "completed", "role": "assistant",
                           "content": [{"type": "output_text", "text": reply.content, "annotations": []}]})
        output += [{"id": f"fc_s{step}_{i}", "type": "function_call", "status": "completed", "call_id": f"call_s{step}_{i}",
                    "name": name, "arguments": json.dumps(args)} for i, (name, args) in enumerate(reply.tool_calls)]
        out_tokens = self._tokens(json.dumps([reply.content, [[o.get("name"), o.get("arguments")] for o in output]]))
        self._record(request, "/v1/responses", task, step, body.get("model"),
                     Tokens(input=prompt - cached, cache_read=cached, output=out_tokens))
        response = {"id": f"resp_scripted{len(self.requests)}", "object": "response", "created_at": int(time.time()),
                    "status": "completed", "model": body.get("model"), "output": output,
                    "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached},
                              "output_tokens": out_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                              "total_tokens": prompt + out_tokens}}
        if not body.get("stream"):
            return web.json_response(response)
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": {**response, "status": "in_progress", "output": [], "usage": None}}]
        for index, item in enumerate(output):
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "status": "in_progress", **({"content": []} if "content" in item else {})}})
            if item["type"] == "message":
                events.append({"type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                               "content_index": 0, "delta": reply.content})
            events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        events.append({"type": "response.completed", "response": response})
        return await _stream(request, [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)])

    # -- Anthropic messages --------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        system = body.get("system") or []
        system = [{"type": "text", "text": system}] if isinstance(system, str) else system
        blocks: list[Any] = [*(body.get("tools") or []), *system]
        for message in body.get("messages") or []:
            content = message.get("content")
            for i, block in enumerate([{"type": "text", "text": content}] if isinstance(content, str) else content or []):
                blocks.append({"role": message.get("role"), **block} if i == 0 else block)
        first_text = next((b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("role") == "user"), "")
        task, step = self._task(request.headers, first_text), self._step(body)
        reply = self._reply(task, step)
        hashes, counts = self._segments(blocks)
        breakpoints = [(i, (b.get("cache_control") or {}).get("ttl", "5m")) for i, b in enumerate(blocks)
                       if isinstance(b, dict) and b.get("cache_control")]
        if body.get("cache_control") and blocks:
            breakpoints.append((len(blocks) - 1, body["cache_control"].get("ttl", "5m")))
        read = written_5m = written_1h = 0
        if breakpoints:
            cache = self._cache.setdefault(f"anthropic:{body.get('model')}", _PrefixCache())
            with cache.lock:
                hit = cache.longest(hashes, max(i for i, _ in breakpoints) + 1)
                read, covered = sum(counts[:hit]), hit
                for index, ttl in sorted(breakpoints):
                    if index + 1 <= covered:
                        continue
                    tokens = sum(counts[covered:index + 1])
                    written_1h, written_5m = (written_1h + tokens, written_5m) if ttl == "1h" else (written_1h, written_5m + tokens)
                    covered = index + 1
                    cache.put(hashes[index], TTL_SECONDS.get(ttl, 300.0))
                if hit:
                    cache.put(hashes[hit - 1], TTL_SECONDS["5m"])  # a read refreshes the entry
        total = sum(counts)
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.content}] if reply.content else []
        content += [{"type": "tool_use", "id": f"toolu_s{step}_{i}", "name": name, "input": args}
                    for i, (name, args) in enumerate(reply.tool_calls)]
        output = self._tokens(json.dumps(content))
        uncached = total - read - written_5m - written_1h
        self._record(request, "/v1/messages", task, step, body.get("model"),
                     Tokens(input=uncached, cache_read=read, cache_write_5m=written_5m, cache_write_1h=written_1h, output=output))
        usage = {"input_tokens": uncached, "cache_creation_input_tokens": written_5m + written_1h,
                 "cache_read_input_tokens": read,
                 "cache_creation": {"ephemeral_5m_input_tokens": written_5m, "ephemeral_1h_input_tokens": written_1h},
                 "output_tokens": output}
        stop = "tool_use" if reply.tool_calls else "end_turn"
        message = {"id": f"msg_scripted{len(self.requests)}", "type": "message", "role": "assistant", "model": body.get("model"),
                   "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            return web.json_response(message)
        return await _stream(request, _message_events(message))


def _text(content: Any) -> str:
    """The text of a message's content: a string, or the text of its parts (chat ``text``, responses ``input_text``)."""
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def _message_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """An Anthropic message as its stream: input and cache counts first, the cumulative output count last."""
    usage = message["usage"]
    started = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": started})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opened, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": block["text"]}
        else:
            opened, delta = {**block, "input": {}}, {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events += [("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened}),
                   ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
                   ("content_block_stop", {"type": "content_block_stop", "index": index})]
    final = {k: v for k, v in usage.items() if k != "cache_creation"}
    events += [("message_delta", {"type": "message_delta", "usage": final,
                                  "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}}),
               ("message_stop", {"type": "message_stop"})]
    return events


async def _stream(request: web.Request, events: list[tuple[str, dict[str, Any]]]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await response.prepare(request)
    for name, data in events:
        await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    await response.write_eof()
    return response
