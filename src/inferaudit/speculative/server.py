"""``inferaudit serve-model``: the local model as an OpenAI-compatible server (chat completions, streaming).

One generation at a time (a 135M model on CPU is compute-bound: batching
would not help here); requests queue on a lock. Usage is exact: prompt
tokens are the rendered chat template's ids, completion tokens the ids
generated. With a drafter, each response also carries the speculative
counters in vLLM's per-request field ``metrics.speculative_decoding``
(``num_draft_tokens``, ``num_accepted_draft_tokens``, ``num_spec_steps``,
``mean_acceptance_length``, ``draft_acceptance_rate``), on the JSON body
and on the stream's final usage chunk, so every server is read the same way.

Where generation runs matters on CPU. PyTorch's OpenMP (GNU libgomp) keeps
one team of worker threads per thread that has started parallel work; once
the thread that loaded the model has a team, a second thread's team makes
more OpenMP threads than cores, and libgomp then stops its workers spinning
between parallel regions: every one of a forward pass's hundreds of small
products waits for its workers to wake. Measured here (2 cores, SmolLM2 with
oneDNN products, greedy, 96 tokens): 21.7 tok/s on the loading thread, 14-16
on any other, a fresh one per request or one kept for all. So :func:`serve`
generates on the calling thread, the one that loaded the model, and runs the
HTTP server on another.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from .backends import Backend
from .decode import Sampling, decode
from .detokenize import TextStream
from .drafters import Drafter
from .engine import DEFAULT_POLICY, SpecStats, speculate
from .model import LoadedModel
from .policy import Policy

JSON = "application/json"


def _error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.Response(status=status, body=orjson.dumps(body), content_type=JSON)


class ModelServer:
    def __init__(self, loaded: LoadedModel, drafter: Drafter | None = None, policy: Policy = DEFAULT_POLICY,
                 target: Backend | None = None):
        self.loaded = loaded
        self.target = target or loaded.backend()
        self.drafter, self.policy = drafter, policy
        self.lock = asyncio.Lock()
        self.stop_ids = loaded.stop_ids
        # runs one generation off the event loop; serve() makes it the model's own thread
        self.run_generation: Callable[[Callable[[], None]], None] = _on_new_thread

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 << 20)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/healthz", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "model": self.loaded.name})

    async def models(self, request: web.Request) -> web.Response:
        data = [{"id": self.loaded.name, "object": "model", "created": 0, "owned_by": "inferaudit"}]
        return web.json_response({"object": "list", "data": data})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            return _error(400, f"request body is not valid JSON: {exc}")
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty list")
        try:
            sampling = Sampling(
                max_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 256),
                temperature=float(body.get("temperature", 0.0) or 0.0),
                top_p=float(body.get("top_p", 1.0) or 1.0), seed=body.get("seed"),
            )
            ids = self.loaded.chat_ids([_plain(m) for m in messages])
        except (TypeError, ValueError, KeyError) as exc:
            return _error(400, f"bad request: {exc}")
        created = int(time.time())
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.get("stream"):
            usage_wanted = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(request, ids, sampling, rid, created, usage_wanted)
        stats = SpecStats()
        async with self.lock:
            tokens = await asyncio.to_thread(lambda: list(self._generate(ids, sampling, stats)))
        text, finish = self._finish(tokens, sampling)
        reply = {
            "id": rid, "object": "chat.completion", "created": created, "model": self.loaded.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                         "finish_reason": finish}],
            "usage": self._usage(ids, tokens),
            **self._metrics(stats),
        }
        return web.Response(body=orjson.dumps(reply), content_type=JSON)

    async def _stream(self, request, ids, sampling, rid, created, usage_wanted) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await response.prepare(request)
        base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": self.loaded.name}

        async def event(payload: dict[str, Any]) -> None:
            await response.write(b"data: " + orjson.dumps(payload) + b"\n\n")

        await event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        tokens: list[int] = []
        stats = SpecStats()
        async with self.lock:
            def run() -> None:
                try:
                    for token in self._generate(ids, sampling, stats):
                        loop.call_soon_threadsafe(queue.put_nowait, token)
                finally:
                    loop.call_soon_threadsafe(queue.put_nowait, None)

            self.run_generation(run)
            text = TextStream(self.loaded.tokenizer, self.stop_ids)
            while (token := await queue.get()) is not None:
                tokens.append(token)
                if delta := text.add(token):
                    await event({**base, "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]})
        _, finish = self._finish(tokens, sampling)
        await event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if usage_wanted:
            await event({**base, "choices": [], "usage": self._usage(ids, tokens), **self._metrics(stats)})
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _generate(self, ids, sampling: Sampling, stats: SpecStats):
        if self.drafter is None:
            return decode(self.target, ids, sampling, self.stop_ids)
        return speculate(self.target, self.drafter, ids, sampling, self.stop_ids, self.policy, stats)

    def _metrics(self, stats: SpecStats) -> dict[str, Any]:
        return {"metrics": {"speculative_decoding": stats.as_vllm()}} if self.drafter is not None else {}

    def _text(self, tokens: list[int]) -> str:
        return self.loaded.tokenizer.decode([t for t in tokens if t not in self.stop_ids], skip_special_tokens=True)

    def _finish(self, tokens: list[int], sampling: Sampling) -> tuple[str, str]:
        stopped = bool(tokens) and tokens[-1] in self.stop_ids
        return self._text(tokens), "stop" if stopped or len(tokens) < sampling.max_tokens else "length"

    @staticmethod
    def _usage(ids, tokens: list[int]) -> dict[str, int]:
        prompt = len(ids)
        return {"prompt_tokens": prompt, "completion_tokens": len(tokens), "total_tokens": prompt + len(tokens)}


def _plain(message: dict[str, Any]) -> dict[str, str]:
    """The chat template wants text: content parts are joined, tool calls are not supported here."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return {"role": str(message.get("role", "user")), "content": content or ""}


def _on_new_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, daemon=True).start()


def serve(loaded: LoadedModel, host: str = "127.0.0.1", port: int = 8000, drafter: Drafter | None = None,
          policy: Policy = DEFAULT_POLICY, target: Backend | None = None) -> None:
    """Serve until interrupted: HTTP on a background thread, generation on this one (see the module's docstring)."""
    server = ModelServer(loaded, drafter, policy, target)
    jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
    server.run_generation = jobs.put
    failed: list[BaseException] = []

    def http() -> None:
        try:
            web.run_app(server.app(), host=host, port=port, print=None, access_log=None, handle_signals=False,
                        loop=asyncio.new_event_loop())
        except OSError as exc:  # e.g. the port is taken: the main thread raises it
            failed.append(exc)

    thread = threading.Thread(target=http, daemon=True, name="http")
    thread.start()
    run_jobs(jobs, thread.is_alive)  # the HTTP thread only ends when it failed
    raise failed[0] if failed else SystemExit("serve-model: the HTTP server stopped")


def run_jobs(jobs: queue.SimpleQueue, alive: Callable[[], bool], poll_s: float = 1.0) -> None:
    """Run the queued generations on this thread while ``alive()``; one that fails is reported, not fatal."""
    while alive():
        try:
            job = jobs.get(timeout=poll_s)
        except queue.Empty:
            continue
        try:
            job()
        except Exception:  # noqa: BLE001 - one request failed (its stream has ended): keep serving the others
            traceback.print_exc()
