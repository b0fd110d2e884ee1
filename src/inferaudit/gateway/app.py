"""The gateway as a plain ASGI app: OpenAI- and Anthropic-compatible ingress, served by uvicorn.

Routes: ``POST /v1/chat/completions``, ``/v1/responses``, ``/v1/messages``,
``/v1/messages/count_tokens``, ``/v1beta/models/{model}:generateContent``
and ``:streamGenerateContent``; ``GET /v1/models``, ``/healthz``,
``/metrics``. Plain ASGI rather than a framework: this is the hot path, and
the routes are few.
"""

from __future__ import annotations

import asyncio
import contextvars
import fnmatch
import gc
import hmac
import logging
import random
from typing import Any

import orjson

from ..pricing import PriceBook
from ..providers import PROTOCOLS, for_path
from ..usage import Call
from . import attribution, templates
from .budgets import Budget, Budgets
from .config import Deployment, GatewayConfig, Provider
from .metrics import Metrics
from .otel import SpanExporter
from .relay import Exchange, Relay, Send, _respond
from .upstream import UpstreamError, UpstreamPool
from .writer import LedgerWriter

JSON = [(b"content-type", b"application/json")]
log = logging.getLogger("inferaudit.gateway")
# the budgets the request being relayed falls under: read when its upstream calls are recorded
_request_budgets: contextvars.ContextVar[list[Budget]] = contextvars.ContextVar("budgets", default=[])


GC_THRESHOLDS = (20_000, 50, 100)  # Python's are (700, 10, 10)


def tune_gc() -> None:
    """Keep the cyclic garbage collector off a serving process's tail latency.

    Everything alive after start-up (modules, config, pools) is frozen out of the collector's scans,
    and the young generation is collected every 20,000 net allocations instead of 700, the older
    ones less often. Measured in ``bench/gateway_overhead.py`` (BENCHMARKS.md): without it, full
    collections over the start-up heap put 20+ ms into the added p99 at concurrency 32.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Gateway:
    def __init__(self, config: GatewayConfig, writer: LedgerWriter | None = None, book: PriceBook | None = None, *,
                 ledger_process: bool = False, tune_gc: bool = False):
        """``ledger_process``: write the ledger from a child process (``inferaudit serve``); an embedded
        gateway (``inferaudit.Client``, a gateway thread) writes from its own process, whose other
        connections to the same DuckDB file it can share. ``tune_gc``: the process only serves, so
        :func:`tune_gc` runs at the end of start-up (``inferaudit serve``, per ``gc_tuning``)."""
        self.config = config
        self.tune_gc = tune_gc
        self.writer = writer or LedgerWriter(config.ledger, batch_rows=config.ledger_batch_rows,
                                             flush_s=config.ledger_flush_s, max_rows=config.ledger_queue_rows,
                                             spill_dir=config.spill_dir,
                                             loader_nice=config.ledger_loader_nice if ledger_process else None)
        self.book = book or PriceBook.load()
        self.metrics = Metrics()
        self.spans = SpanExporter()
        self.upstream: UpstreamPool | None = None
        self.relay: Relay | None = None
        self._keys = {k.key: k for k in config.keys}
        self.budgets = Budgets(config.budgets)

    # -- lifecycle ---------------------------------------------------------------

    async def startup(self) -> None:
        timeouts = self.config.timeouts
        self.upstream = UpstreamPool(connect=timeouts.connect, idle=timeouts.idle, keepalive_s=60.0)
        self.relay = Relay(self.config, self.upstream, self.record)
        if self.budgets:
            self._seed_budgets()
        self.writer.start()
        if self.tune_gc:
            tune_gc()

    async def shutdown(self) -> None:
        if self.upstream is not None:
            await self.upstream.close()
        self.writer.close()
        self.spans.shutdown()

    def record(self, call: Call) -> None:
        self.writer.submit(call)
        cost = self.book.cost(call.provider, call.model, call.tokens, call.started_at) if call.model else None
        self.metrics.observe(call, cost)
        self.spans.export(call)
        budgets = _request_budgets.get()
        if budgets and cost:
            self.budgets.settle(budgets, cost)
            self.metrics.budgets(self.budgets.status(budgets))  # only the gauges this call moved

    # -- ASGI --------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method == "GET":
            await self._get(path, send)
            return
        protocol = PROTOCOLS["anthropic-messages"] if path.rstrip("/") == "/v1/messages/count_tokens" else for_path(path)
        if method != "POST" or protocol is None:
            await _respond(send, 404, orjson.dumps(PROTOCOLS["openai-chat"].error_body(404, f"no route for {method} {path}")), JSON)
            return
        headers = dict(scope["headers"])
        key = self._authorise(headers)
        if key is False:
            await _respond(send, 401, orjson.dumps(protocol.error_body(401, "missing or unknown API key for this gateway")), JSON)
            return
        raw = await _read_body(receive, self.config.max_body_bytes)
        if raw is None:
            await _respond(send, 413, orjson.dumps(protocol.error_body(413, f"request body over {self.config.max_body_bytes} bytes")), JSON)
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            await _respond(send, 400, orjson.dumps(protocol.error_body(400, f"request body is not valid JSON: {exc}")), JSON)
            return
        if not isinstance(body, dict):
            await _respond(send, 400, orjson.dumps(protocol.error_body(400, "request body must be a JSON object")), JSON)
            return
        model = protocol.request_model(body, path)
        if not model:
            await _respond(send, 400, orjson.dumps(protocol.error_body(400, "missing required field: model")), JSON)
            return
        candidates = self._route(protocol.name, model)
        if not candidates:
            await _respond(send, 404, orjson.dumps(protocol.error_body(404, f"model {model!r} is not served by this gateway")), JSON)
            return
        if path.endswith("/count_tokens"):
            await self._count_tokens(path, raw, headers, candidates[0][0], send, key)
            return
        if key and key.models and not any(fnmatch.fnmatchcase(model, pattern) for pattern in key.models):
            await _respond(send, 403, orjson.dumps(protocol.error_body(403, f"this API key may not use model {model!r}")), JSON)
            return
        who = attribution.from_request(headers, body, key.user if key else None, key.team if key else None)
        if key and key.name:
            who.tags["key"] = key.name  # the key's name, never the key: budgets and spend views group by it
        template = templates.fingerprint(protocol.name, body)
        if template:
            who.tags["template"] = template  # a hash of the fixed part, never its text (distill backlog)
        budgets = self.budgets.matching({  # a key's own owner wins over what the client asserts in headers
            "key": key.name if key else None, "user": (key.user if key and key.user else who.user),
            "team": (key.team if key and key.team else who.tags.get("team")), "feature": who.feature,
        }) if self.budgets else []
        if budgets:
            refusal = await self.budgets.admit(budgets)
            if refusal:
                await _respond(send, 403, orjson.dumps(protocol.error_body(403, refusal)), JSON)
                return
        exchange = Exchange(
            protocol=protocol, path=path, query=scope.get("query_string", b""), body=body, raw_body=raw,
            stream=protocol.is_stream(body, path + "?" + scope.get("query_string", b"").decode("latin-1")),
            model=model, candidates=candidates, attribution=who, client_headers=headers,
            forward_client_auth=not self._keys,
        )
        if not budgets:
            await self.relay.handle(exchange, send)
            return
        _request_budgets.set(budgets)
        try:
            await self.relay.handle(exchange, send)
        finally:
            await self.budgets.release(budgets)

    def _seed_budgets(self) -> None:
        """Money already spent this period, from the ledger, so that a restart does not hand it back."""
        from datetime import datetime, timezone
        from pathlib import Path

        from ..audit.spend import spend
        from ..ledger.analysis import analysis_connection
        from ..ledger.postgres import is_postgres
        from .budgets import period_start

        location = self.config.ledger
        if not location or not (is_postgres(location) or Path(location).expanduser().exists()):
            return
        now = datetime.now(timezone.utc)
        starts = {b: period_start(b.period, now) for b in self.config.budgets}
        seeded: dict[Budget, float] = {}
        try:
            with analysis_connection(location, min(starts.values())) as con:
                # one spend query per (scope, period start), shared by the budgets that have them
                for scope, since in {(b.scope, starts[b]) for b in self.config.budgets}:
                    rows = spend(con, self.book, (scope,), "day", since, None)["rows"]
                    for budget in self.config.budgets:
                        if (budget.scope, starts[budget]) == (scope, since):
                            seeded[budget] = sum(r["cost_usd"] or 0.0 for r in rows if r[scope] == budget.name)
        except Exception as exc:  # the ledger is down: budgets start from zero rather than refuse everyone
            log.warning("could not read this period's spend from the ledger (budgets start at $0): %s", exc)
            return
        self.budgets.seed(seeded)
        self.metrics.budgets(self.budgets.status())

    async def _lifespan(self, receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _get(self, path: str, send: Send) -> None:
        if path == "/healthz":
            body = {"status": "ok", "ledger_pending": self.writer.pending, "ledger_written": self.writer.written,
                    "ledger_spilled": self.writer.spilled}
            await _respond(send, 200, orjson.dumps(body), JSON)
        elif path == "/metrics":
            await _respond(send, 200, self.metrics.render(), [(b"content-type", self.metrics.content_type.encode())])
        elif path == "/v1/models":
            data = [{"id": alias, "object": "model", "created": 0, "owned_by": "inferaudit"} for alias in self.config.models]
            await _respond(send, 200, orjson.dumps({"object": "list", "data": data}), JSON)
        else:
            await _respond(send, 404, orjson.dumps(PROTOCOLS["openai-chat"].error_body(404, f"no route for GET {path}")), JSON)

    # -- helpers -----------------------------------------------------------------

    def _authorise(self, headers: dict[bytes, bytes]):
        """None when no virtual keys are configured; the key when one matches; False otherwise."""
        if not self._keys:
            return None
        offered = headers.get(b"x-api-key") or headers.get(b"x-goog-api-key") or b""
        bearer = headers.get(b"authorization", b"")
        if bearer[:7].lower() == b"bearer ":
            offered = offered or bearer[7:]
        text = offered.decode("latin-1").strip()
        for key, spec in self._keys.items():
            if hmac.compare_digest(key, text):
                return spec
        return False

    def _route(self, protocol: str, model: str) -> list[tuple[Provider, Deployment]]:
        deployments = self.config.models.get(model)
        if deployments:
            ordered = list(deployments)
            if self.config.routing == "weighted" and len(ordered) > 1:
                first = random.choices(ordered, weights=[d.weight for d in ordered])[0]
                ordered.remove(first)
                ordered.insert(0, first)
            return [(self.config.providers[d.provider], d) for d in ordered]
        default = self.config.default_providers.get(protocol)
        if default:
            return [(self.config.providers[default], Deployment(provider=default, model=model))]
        return []

    async def _count_tokens(self, path: str, raw: bytes, headers: dict, provider: Provider, send: Send, key) -> None:
        """Counting tokens is free and not a completion: forwarded as is, not a ledger row."""
        if provider.protocol != "anthropic-messages":
            message = f"count_tokens is answered only by Anthropic upstreams; {provider.name!r} speaks {provider.protocol}"
            await _respond(send, 404, orjson.dumps(PROTOCOLS["anthropic-messages"].error_body(404, message)), JSON)
            return
        out = {"content-type": "application/json", "anthropic-version": headers.get(b"anthropic-version", b"2023-06-01").decode()}
        if provider.api_key:
            out["x-api-key"] = provider.api_key
        elif key is None and b"x-api-key" in headers:
            out["x-api-key"] = headers[b"x-api-key"].decode("latin-1")
        try:
            response = await self.upstream.request("POST", provider.base_url + path, out, raw,
                                                   first_byte=self.config.timeouts.first_byte)
            try:
                data = await response.read()
            finally:
                response.release()
        except (UpstreamError, asyncio.TimeoutError):
            body = PROTOCOLS["anthropic-messages"].error_body(502, f"cannot reach upstream {provider.name}")
            await _respond(send, 502, orjson.dumps(body), JSON)
            return
        await _respond(send, response.status, data, JSON)


async def _read_body(receive, limit: int) -> bytes | None:
    parts, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)
