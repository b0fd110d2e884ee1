"""A loopback upstream that speaks OpenAI, Anthropic and Gemini wire formats, for tests and benchmarks.

::

    from inferaudit.testing import Emulator, EmulatorThread

    async with Emulator() as emu:                 # 127.0.0.1, a free port, this event loop
        client = openai.AsyncOpenAI(base_url=emu.openai_url, api_key="test")
        ...
        emu.requests[-1].usage                    # the exact Tokens the answer carried

    with EmulatorThread() as emu:                 # the same, on a thread, for synchronous tests
        ...

    python -m inferaudit.testing.emulator --port 8089      # standalone, for benchmarks

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/responses``,
``POST /v1/messages``, ``POST /v1/messages/count_tokens``,
``POST /v1beta/models/{model}:generateContent`` and
``:streamGenerateContent[?alt=sse]``, ``GET /v1/models``. Answers are
deterministic (see :mod:`.scenario`); faults are injected per request (see
:mod:`.faults`). Where each shape comes from: ``README.md`` beside this file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self

import orjson
from aiohttp import web

from ..usage import Tokens
from . import anthropic_messages, openai_chat
from .anthropic_messages import AnthropicCountTokens, AnthropicMessages
from .delivery import PROXY_PAGE, RequestRecord, abort, send_body, send_stream
from .faults import FaultBook, FaultPlan
from .gemini import Gemini
from .openai_chat import OpenAIChat
from .openai_responses import OpenAIResponses
from .scenario import Scenario, generate, parse_usage_header
from .wire import BadRequest, Prepared, WireFormat, request_id

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie",
                            "proxy-authorization"})
SCENARIO_HEADER, USAGE_HEADER, FAULT_HEADER = "x-emulator-scenario", "x-emulator-usage", "x-emulator-fault"
DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-5", "claude-opus-4-6", "claude-haiku-4-5")
_ROUTES: tuple[tuple[str, WireFormat], ...] = (
    ("/v1/chat/completions", OpenAIChat()),
    ("/v1/responses", OpenAIResponses()),
    ("/v1/messages", AnthropicMessages()),
    ("/v1/messages/count_tokens", AnthropicCountTokens()),
    ("/v1beta/models/{target}", Gemini()),
    ("/v1/models/{target}", Gemini()),
)
_FIXED_HEADERS = {"x-request-id": {"openai-version": "2020-10-01", "openai-processing-ms": "1"}}


class Emulator:
    """The emulated upstream, served on this event loop."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, record: bool = True, max_records: int = 10_000,
        require_auth: bool = True, latency_ms: float = 0.0, pace_ms: float = 0.0,
        models: Iterable[str] = DEFAULT_MODELS, cache_size: int = 1024, sse_writes: int = 4,
    ) -> None:
        self.host, self.port = host, port
        self.record, self.require_auth = record, require_auth
        self.sse_writes = sse_writes  # most writes per unpaced, unfaulted stream; 0: one write per event
        self.models = list(models)
        self.default_faults = ",".join(
            f for f in (f"latency:{latency_ms}" if latency_ms else "", f"pace:{pace_ms}" if pace_ms else "") if f
        )
        self.faults = FaultBook()
        self.count = 0  # requests received, recorded or not
        self.counts: Counter[str] = Counter()  # by path
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._scenarios: dict[str, Scenario] = {}
        self._cache: dict[tuple[Any, ...], Prepared] = {}
        self._cache_size = cache_size
        self._runner: web.AppRunner | None = None

    # -- what tests use -------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    openai_url = property(lambda self: self.url + "/v1", doc="base_url for openai.OpenAI")
    anthropic_url = property(lambda self: self.url, doc="base_url for anthropic.Anthropic")
    gemini_url = property(lambda self: self.url + "/v1beta", doc="prefix of Gemini model paths")

    @property
    def requests(self) -> list[RequestRecord]:
        """Every recorded request, oldest first."""
        return list(self._records)

    def define_scenario(self, name: str, text: str | None = None, usage: Tokens | None = None,
                        scenario: Scenario | None = None) -> None:
        """Answer requests carrying ``x-emulator-scenario: name`` with this text and usage."""
        self._scenarios[name] = scenario or Scenario.of(text or "", usage)
        self._cache.clear()

    def enqueue_faults(self, *specs: str, path: str | None = None) -> None:
        """Give the next requests (to ``path``, or to any path) these faults, one spec each, in order."""
        for spec in specs:
            self.faults.enqueue(spec, path)

    def reset(self) -> None:
        """Forget records, counts, queued faults and ``@N`` counters (scenarios stay)."""
        self._records.clear()
        self.count = 0
        self.counts.clear()
        self.faults = FaultBook()

    # -- serving --------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path, wire in _ROUTES:
            app.router.add_post(path, self._handler(wire))
        app.router.add_get("/v1/models", self._models)
        return app

    async def start(self) -> Self:
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]  # port 0: the one the kernel chose
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _handler(self, wire: WireFormat) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(wire, request)

        return handle

    async def _models(self, request: web.Request) -> web.Response:
        rec = self._begin(request, b"")
        rec.status, rec.outcome = 200, "ok"
        if request.headers.get("anthropic-version"):
            return web.Response(body=anthropic_messages.models_body(self.models), content_type="application/json")
        return web.Response(body=openai_chat.models_body(self.models), content_type="application/json")

    def _begin(self, request: web.Request, raw: bytes) -> RequestRecord:
        self.count += 1
        self.counts[request.path] += 1
        rec = RequestRecord(self.count, request.method, request.path)
        if self.record:
            rec.headers = {k: ("[redacted]" if k.lower() in SECRET_HEADERS else v) for k, v in request.headers.items()}
            rec.query = "&".join(f"{k}={'[redacted]' if k == 'key' else v}" for k, v in request.query.items())
            try:
                rec.body = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                rec.body = None
            self._records.append(rec)
        return rec

    async def _serve(self, wire: WireFormat, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        rec = self._begin(request, raw)
        rec.protocol = wire.name
        headers = {"x-emulator-attempt": str(rec.seq)}
        if wire.request_id_header:
            rec.request_id = request_id("openai" if wire.request_id_header == "x-request-id" else "anthropic")
            headers[wire.request_id_header] = rec.request_id
            headers.update(_FIXED_HEADERS.get(wire.request_id_header, {}))
        try:
            if self.require_auth:
                wire.check(request.headers, request.query)
            digest = hashlib.blake2b(raw, digest_size=16).digest()
            fault_header = request.headers.get(FAULT_HEADER, "")
            if self.default_faults:
                fault_header = ",".join(filter(None, (self.default_faults, fault_header)))
            plan = self.faults.plan(fault_header, request.path, digest)
            rec.faults = plan.names
            if plan.mid == "error" and not hasattr(wire, "stream_error"):
                raise BadRequest(f"x-emulator-fault: error-mid-stream is not emulated for {wire.name}")
            key = (wire.name, request.path, request.query_string, digest,
                   request.headers.get(SCENARIO_HEADER, ""), request.headers.get(USAGE_HEADER, ""))
            prepared = self._cache.get(key) or self._prepare(wire, request, raw, key)
        except (BadRequest, ValueError) as exc:
            return self._error(wire, getattr(exc, "status", 400), str(exc), headers, rec)
        rec.model, rec.stream = prepared.model, prepared.stream
        rec.planned = prepared.scenario.usage if prepared.id_slot else None  # count_tokens bills nothing
        rec.tool_calls = 1 if prepared.scenario.tool_call else 0
        try:
            return await self._answer(request, prepared, plan, rec, headers, wire)
        except asyncio.CancelledError:  # the client went away (handler cancellation is on)
            rec.outcome = "client-disconnected" if rec.outcome in ("pending", "ok") else rec.outcome
            raise

    async def _answer(self, request: web.Request, prepared: Prepared, plan: FaultPlan, rec: RequestRecord,
                      headers: dict[str, str], wire: WireFormat) -> web.StreamResponse:
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if plan.reset_before_headers:
            rec.outcome = "reset-before-headers"
            abort(request)
            return web.Response()
        if plan.status:
            if plan.status == 429:
                headers.update({"retry-after": str(-(-plan.retry_after_ms // 1000)),
                                "retry-after-ms": str(plan.retry_after_ms)})
            return self._error(wire, plan.status, "", headers, rec)
        if plan.wrong_content_type:
            rec.status, rec.outcome = 200, "wrong-content-type"
            return web.Response(body=PROXY_PAGE, headers={**headers, "content-type": "text/html; charset=utf-8"})
        values = prepared.values()
        rec.response_id = prepared.response_id(values)
        headers["content-type"] = prepared.content_type
        if prepared.events is None:
            assert prepared.body is not None
            return await send_body(request, headers, prepared.body.render(values), prepared.usage_after[0], plan, rec)
        headers["cache-control"] = "no-cache"
        events = [t.render(values) for t in prepared.events]
        error_event = wire.stream_error() if plan.mid == "error" else b""
        return await send_stream(request, headers, events, prepared.usage_after, plan, rec, self.sse_writes, error_event)

    def _prepare(self, wire: WireFormat, request: web.Request, raw: bytes, key: tuple[Any, ...]) -> Prepared:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"We could not parse the JSON body of your request: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        view = wire.view(body, request.match_info, request.query)
        name = request.headers.get(SCENARIO_HEADER, "")
        scenario = self._scenarios.get(name)
        if scenario is None:
            prompt = orjson.dumps(view.prompt)
            seed = hashlib.blake2b(name.encode() or prompt, digest_size=8).digest()
            estimate = 0 if name else len(prompt) // 4  # a named seed fixes the whole answer, usage too
            family = "anthropic" if wire.name.startswith("anthropic") else wire.name
            scenario = generate(family, seed, estimate, view.tools, view.wants_tool)
        usage_header = request.headers.get(USAGE_HEADER)
        if usage_header:
            scenario = parse_usage_header(usage_header, scenario)
        prepared = wire.prepare(view, scenario)
        prepared.model, prepared.stream = view.model, view.stream
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = prepared
        return prepared

    def _error(self, wire: WireFormat, status: int, message: str, headers: dict[str, str],
               rec: RequestRecord) -> web.Response:
        body, content_type = wire.error(status, message, rec.request_id or "")
        rec.status, rec.outcome = status, "error"
        return web.Response(status=status, body=body, headers={**headers, "content-type": content_type})


async def _serve_forever(emulator: Emulator) -> None:
    await emulator.start()
    print(f"inferaudit emulator listening on {emulator.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m inferaudit.testing.emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port (printed on start)")
    parser.add_argument("--record", action="store_true", help="keep request records (off: count only)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="think time before every response")
    parser.add_argument("--pace-ms", type=float, default=0.0, help="delay between SSE events")
    parser.add_argument("--no-auth", action="store_true", help="accept requests without credentials")
    parser.add_argument("--sse-writes", type=int, default=4, help="most writes per unpaced stream (0: one per event)")
    args = parser.parse_args(argv)
    emulator = Emulator(host=args.host, port=args.port, record=args.record, require_auth=not args.no_auth,
                        latency_ms=args.latency_ms, pace_ms=args.pace_ms, sse_writes=args.sse_writes)
    try:  # uvloop (a gateway dependency) makes each request cheaper; asyncio's own loop serves too
        from uvloop import run
    except ImportError:
        run = asyncio.run
    run(_serve_forever(emulator))


if __name__ == "__main__":
    main()
