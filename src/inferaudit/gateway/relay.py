"""One client request through the upstream: attempts, fallback, and a faithful relay of the answer.

Retry rule: an attempt is retried, or the next deployment tried, only
while no byte has reached the client (connect errors, timeouts before the
headers, 429 honouring ``retry-after``, 5xx), within the attempt count and
the back-off budget. Once the response has started, it is never retried:
a failure mid-stream ends the client's stream with the protocol's own error
event. Every attempt becomes a Call in the ledger, with its status and
attempt number.

Same protocol in and out: the upstream's bytes reach the client unchanged;
usage is read on the side. The one exception is OpenAI chat streaming when
the client did not ask for usage: the gateway asks for it and leaves the
usage-only final chunk out of what the client sees.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import orjson

from .. import translate
from ..providers import PROTOCOLS, WireProtocol
from ..providers.base import UsageReport
from ..providers.errors import retry_after
from ..providers.openai_chat import is_usage_only_chunk
from ..providers.sse import DONE, SSEParser, encode_event
from ..usage import Call, Tokens
from .attribution import Attribution
from .config import Deployment, GatewayConfig, Provider
from .upstream import UpstreamError, UpstreamPool, UpstreamResponse

Send = Callable[[dict[str, Any]], Awaitable[None]]

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
PASS_REQUEST_HEADERS = (b"anthropic-version", b"anthropic-beta", b"openai-beta", b"openai-organization",
                        b"openai-project", b"x-goog-api-client", b"user-agent", b"x-stainless-helper-method")
PASS_RESPONSE_HEADERS = frozenset({b"content-type", b"x-request-id", b"request-id", b"openai-processing-ms",
                                   b"retry-after", b"retry-after-ms", b"anthropic-organization-id",
                                   b"x-ratelimit-remaining-requests", b"x-ratelimit-remaining-tokens"})
AUTH: dict[str, Callable[[str], list[tuple[bytes, bytes]]]] = {
    "openai-chat": lambda key: [(b"authorization", b"Bearer " + key.encode())],
    "openai-responses": lambda key: [(b"authorization", b"Bearer " + key.encode())],
    "anthropic-messages": lambda key: [(b"x-api-key", key.encode())],
    "gemini": lambda key: [(b"x-goog-api-key", key.encode())],
}
CLIENT_AUTH_HEADERS = (b"authorization", b"x-api-key", b"x-goog-api-key")
PRICED_PROVIDERS = frozenset({"openai", "anthropic", "google", "azure", "groq", "mistral", "deepseek", "x-ai",
                              "together", "fireworks", "openrouter", "bedrock", "vertex"})


@dataclass
class Exchange:
    """Everything about one client request that the attempts share."""

    protocol: WireProtocol
    path: str
    query: bytes
    body: dict[str, Any]
    raw_body: bytes
    stream: bool
    model: str
    candidates: list[tuple[Provider, Deployment]]
    attribution: Attribution
    client_headers: dict[bytes, bytes]
    forward_client_auth: bool
    calls: list[Call] = field(default_factory=list)


class Relay:
    def __init__(self, config: GatewayConfig, upstream: UpstreamPool, record: Callable[[Call], None]):
        self.config = config
        self.upstream = upstream  # its connect and idle timeouts come from config.timeouts; first_byte is per request
        self.record = record

    async def handle(self, ex: Exchange, send: Send) -> None:
        budget = self.config.retry.budget_s
        attempts = max(1, self.config.retry.attempts)
        index = 0
        last_error: tuple[int, bytes, list] | None = None
        for attempt in range(1, attempts + 1):
            provider, deployment = ex.candidates[min(index, len(ex.candidates) - 1)]
            outcome = await self._attempt(ex, provider, deployment, attempt, send)
            if outcome is None:
                return  # answered (or failed mid-stream, which is answered too)
            status, body, headers, wait = outcome
            last_error = (status, body, headers)
            if attempt == attempts:
                break
            if index + 1 < len(ex.candidates):
                index += 1  # fall back at once
                continue
            wait = wait if wait is not None else min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random())
            if wait > budget:
                break
            budget -= wait
            await asyncio.sleep(wait)
        status, body, headers = last_error
        await _respond(send, status, body, headers)

    async def _attempt(self, ex: Exchange, provider: Provider, deployment: Deployment, attempt: int, send: Send):
        """None when the client got its answer; else (status, body, headers, retry wait) to retry or give back."""
        upstream = PROTOCOLS[provider.protocol]
        translator = None
        if upstream.name != ex.protocol.name:
            try:
                translator = translate.get(ex.protocol.name, upstream.name)
            except translate.UnsupportedTranslation as exc:
                return 502, orjson.dumps(ex.protocol.error_body(502, str(exc))), [(b"content-type", b"application/json")], None
        try:
            body = translator.request(ex.body) if translator else dict(ex.body)
        except translate.TranslationError as exc:  # a request the upstream's protocol cannot express
            await _respond(send, 400, orjson.dumps(ex.protocol.error_body(400, str(exc))), [(b"content-type", b"application/json")])
            return None
        body, strip_usage = upstream.prepare_upstream(body, ex.stream)
        strip_usage = strip_usage and translator is None  # a translator decides itself what usage the client sees
        if deployment.model != ex.model and "model" in body:
            body["model"] = deployment.model
        raw = ex.raw_body if translator is None and body == ex.body else orjson.dumps(body)
        if translator:  # the client's path and query (Claude Code's ?beta=true) mean nothing to the other protocol
            url = provider.base_url + translator.upstream_path(deployment.model, ex.stream)  # Gemini: model in the path
        else:
            url = provider.base_url + _upstream_path(ex.path, ex.model, deployment.model) + (b"?" + ex.query if ex.query else b"").decode()
        headers = self._headers(ex, provider)
        call = self._new_call(ex, provider, deployment, attempt)
        first_byte = self.config.timeouts.first_byte
        try:
            response = await self.upstream.request("POST", url, headers, raw, first_byte=first_byte)
        except asyncio.TimeoutError:
            return self._failed(call, "timeout", 504, ex, f"upstream {provider.name} sent no response headers in {first_byte:g}s")
        except UpstreamError as exc:
            return self._failed(call, "connect_error", 502, ex, f"cannot reach upstream {provider.name}: {type(exc).__name__}")
        try:
            if response.status >= 400:
                data = await response.read()
                call.status = f"http_{response.status}"
                self._finish(call)
                out_headers = _response_headers(response)
                if translator:
                    data = orjson.dumps(translator.error_body(response.status, data))
                    out_headers = [h for h in out_headers if h[0] != b"content-type"] + [(b"content-type", b"application/json")]
                if response.status in RETRYABLE_STATUS:
                    return response.status, data, out_headers, retry_after(response.headers)
                await _respond(send, response.status, data, out_headers)
                return None
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" in content_type:
                await self._relay_stream(ex, response, call, send, strip_usage, upstream, translator)
            else:
                await self._relay_json(ex, response, call, send, upstream, translator)
            return None
        finally:
            response.release()

    async def _relay_json(self, ex: Exchange, response: UpstreamResponse, call: Call, send: Send,
                          upstream: WireProtocol, translator=None) -> None:
        try:
            data = await response.read()
        except (UpstreamError, asyncio.TimeoutError) as exc:
            self._failed(call, "midstream_error", 502, ex, str(exc))
            await _respond(send, 502, orjson.dumps(ex.protocol.error_body(502, "upstream closed the connection mid-response")),
                           [(b"content-type", b"application/json")])
            return
        call.first_token_at = _now()
        try:
            parsed = orjson.loads(data)
            report = upstream.usage(parsed)  # the ledger reads the upstream's own answer
            if translator:
                data = orjson.dumps(translator.response(parsed, ex.body))
        except translate.TranslationError as exc:  # e.g. a 200 whose body is an error object: nothing to translate
            self._failed(call, "bad_upstream_body", 502, ex, "")
            await _respond(send, 502, orjson.dumps(ex.protocol.error_body(502, str(exc))), [(b"content-type", b"application/json")])
            return
        except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
            self._failed(call, "bad_upstream_body", 502, ex, "")
            message = f"upstream {call.tags.get('deployment_provider')} returned a body that is not valid JSON"
            await _respond(send, 502, orjson.dumps(ex.protocol.error_body(502, message)), [(b"content-type", b"application/json")])
            return
        self._apply(call, report)
        _same_key_as_logs(call, report.response_id, response.headers)
        try:
            await _respond(send, response.status, data, _response_headers(response))
        finally:  # recorded even if the client left before reading it: the upstream billed it
            self._finish(call)

    async def _relay_stream(self, ex: Exchange, response: UpstreamResponse, call: Call, send: Send, strip_usage: bool,
                            upstream: WireProtocol, translator=None) -> None:
        usage = upstream.stream_usage()  # the ledger reads the upstream's own events
        report = None
        try:
            report = await self._pump(ex, response, call, send, strip_usage, usage, translator)
        except BaseException:
            # the client went away, or the server cancelled us: the upstream still billed what it sent
            if call.status == "ok":
                call.status = "client_disconnected"
            raise
        finally:
            report = report or usage.report()
            self._apply(call, report)
            if call.status == "ok" and not report.complete:
                call.status = "incomplete_stream"
            _same_key_as_logs(call, report.response_id, response.headers)
            self._finish(call)

    async def _pump(self, ex: Exchange, response: UpstreamResponse, call: Call, send: Send, strip_usage: bool,
                    usage, translator) -> UsageReport:
        """Relay a stream event by event; end it with the protocol's own error if the upstream breaks it.

        Pass-through forwards the upstream's bytes untouched, but only up to the last complete
        event (the unfinished one is held until its blank line), so an upstream that dies mid-event
        never leaves the client half an event to choke on before the error event.
        """
        await send({"type": "http.response.start", "status": response.status, "headers": _response_headers(response)})
        parser = SSEParser()
        client = translator.stream(ex.body) if translator else None
        held, raw_bytes, broken, last = b"", True, False, b""
        try:
            async for chunk in response.iter_any():
                if call.first_token_at is None:
                    call.first_token_at = _now()
                events = parser.feed(chunk)
                if broken:
                    _feed(usage, events)
                    continue  # read on for the usage the upstream billed; the client's stream is over
                bad = _first_malformed(events)
                if bad is not None:
                    broken = True
                    call.status, call.tags["error"] = "bad_upstream_stream", "malformed event"
                    good = events[:bad]
                    head = b"".join(client.feed(e) for e in good) if client is not None else b"".join(map(_encode, good))
                    message = "upstream sent a malformed event; the stream was ended here"
                    _feed(usage, events)
                    await send({"type": "http.response.body", "more_body": True,
                                "body": head + (client.error(message) if client is not None else ex.protocol.error_event(message))})
                    continue
                if client is not None:
                    chunk = b"".join(client.feed(event) for event in events)
                elif strip_usage:
                    chunk = _without_usage_chunks(events)
                else:
                    raw_bytes = raw_bytes and b"\r" not in chunk  # CR line ends: byte offsets differ, forward as is
                    if raw_bytes:
                        data = held + chunk if held else chunk
                        cut = len(data) - parser.pending_bytes
                        chunk, held = data[:cut], data[cut:]
                if response.at_eof():  # the upstream's last bytes: they go out below with the end, one write
                    _feed(usage, events)  # the end may need the usage verdict (an incomplete stream gets an error event)
                    last = chunk
                    break
                try:
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                finally:  # after the bytes left, so reading usage never delays the client's tokens; and even if
                    _feed(usage, events)  # the client left meanwhile: the upstream billed these events
        except (UpstreamError, asyncio.TimeoutError, ConnectionError) as exc:
            call.status = "midstream_error"
            call.tags["error"] = type(exc).__name__
            message = "upstream stream failed: " + type(exc).__name__
            failed = client.error(message) if client is not None else ex.protocol.error_event(message)
            await send({"type": "http.response.body", "body": failed, "more_body": True})
            broken = True
        rest = parser.flush()
        _feed(usage, rest)
        report = usage.report()
        if not broken:
            tail = b""
            if client is not None:  # the end of the upstream stream: the client's message_stop / [DONE], or its error
                tail = b"".join(client.feed(event) for event in rest) + client.close()
            else:
                tail = b"".join(map(_encode, rest)) if raw_bytes and not strip_usage else \
                    (_without_usage_chunks(rest) if strip_usage else b"")
                if not report.complete:
                    call.tags["error"] = "stream ended before its final event"
                    tail += ex.protocol.error_event("upstream stream ended before its final event")
            last += tail
        await send({"type": "http.response.body", "body": last, "more_body": False})
        return report

    # -- bookkeeping -----------------------------------------------------------

    def _headers(self, ex: Exchange, provider: Provider) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept-encoding": "identity"}
        for name in PASS_REQUEST_HEADERS:
            if name in ex.client_headers:
                headers[name.decode()] = ex.client_headers[name].decode("latin-1")
        if ex.stream:
            headers["accept"] = "text/event-stream"
        if provider.api_key:
            for name, value in AUTH[provider.protocol](provider.api_key):
                headers[name.decode()] = value.decode()
        elif ex.forward_client_auth and provider.protocol != ex.protocol.name:
            key = _client_key(ex.client_headers)  # translated: the client's key, in the upstream protocol's header
            if key:
                for name, value in AUTH[provider.protocol](key):
                    headers[name.decode()] = value.decode()
        elif ex.forward_client_auth:
            for name in CLIENT_AUTH_HEADERS:
                if name in ex.client_headers:
                    headers[name.decode()] = ex.client_headers[name].decode("latin-1")
        if provider.protocol == "anthropic-messages":
            headers.setdefault("anthropic-version", "2023-06-01")
        for name in provider.forward_headers:
            value = ex.client_headers.get(name.encode())
            if value is not None:
                headers[name] = value.decode("latin-1")
        headers.update(provider.headers)
        return headers

    def _new_call(self, ex: Exchange, provider: Provider, deployment: Deployment, attempt: int) -> Call:
        a = ex.attribution
        tags = dict(a.tags)
        tags["deployment_provider"] = provider.name
        if a.task:
            tags["task"] = a.task
        if deployment.model != ex.model:
            tags["alias"] = ex.model
        call = Call(
            call_id=f"gateway:{random.getrandbits(128):032x}", source="gateway",
            provider=provider.name if provider.name in PRICED_PROVIDERS else None,
            model=deployment.model, harness=a.harness, tokens=Tokens(),
            run_id=a.run or (f"task:{a.task}" if a.task else None), session_id=a.run,
            started_at=_now(), attempt=attempt, user=a.user, feature=a.feature, tags=tags,
        )
        ex.calls.append(call)
        return call

    def _apply(self, call: Call, report) -> None:
        if report.tokens is not None:
            call.tokens = report.tokens
        if report.model:
            call.model = report.model
        call.tool_calls = report.tool_calls
        if report.error and call.status == "ok":
            call.status = "upstream_error_event"
        extra = report.extra or {}
        call.spec_draft_tokens = extra.get("spec_draft_tokens")
        call.spec_accepted_tokens = extra.get("spec_accepted_tokens")
        call.spec_steps = extra.get("spec_steps")

    def _failed(self, call: Call, status: str, http_status: int, ex: Exchange, message: str):
        call.status = status
        self._finish(call)
        body = orjson.dumps(ex.protocol.error_body(http_status, message or status))
        return http_status, body, [(b"content-type", b"application/json")], None

    def _finish(self, call: Call) -> None:
        if call.ended_at is not None:
            return  # already recorded
        call.ended_at = _now()
        self.record(call)


def _client_key(headers: dict[bytes, bytes]) -> str | None:
    bearer = headers.get(b"authorization", b"")
    raw = headers.get(b"x-api-key") or headers.get(b"x-goog-api-key") or (bearer[7:] if bearer[:7].lower() == b"bearer " else b"")
    return raw.decode("latin-1").strip() or None


# harnesses whose own logs name each API response; the gateway books the call under the same key,
# so importing those logs into a ledger the gateway also writes never counts a call twice
LOG_KEYS: dict[str, Callable[[str, Any], str | None]] = {
    "claude-code": lambda response_id, headers: (
        f"claude-code:{response_id}:{headers.get('request-id')}" if headers.get("request-id") else None),
}


def _same_key_as_logs(call: Call, response_id: str | None, headers) -> None:
    make = LOG_KEYS.get(call.harness or "")
    key = make(response_id, headers) if make and response_id else None
    if key:
        call.tags["gateway_call_id"] = call.call_id
        call.call_id = key


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc)


def _upstream_path(path: str, alias: str, model: str) -> str:
    if alias != model and f"/models/{alias}:" in path:  # Gemini names the model in the path
        return path.replace(f"/models/{alias}:", f"/models/{model}:")
    return path


def _response_headers(response: UpstreamResponse) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in response.raw_headers if k.lower() in PASS_RESPONSE_HEADERS]


def _without_usage_chunks(events) -> bytes:
    """The events again, minus the usage-only final chunk the client did not ask for."""
    out = []
    for event in events:
        chunk = event.json()
        if isinstance(chunk, dict) and chunk.get("usage") and is_usage_only_chunk(chunk):
            continue
        out.append(encode_event(event.data, event.event))
    return b"".join(out)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _feed(usage, events) -> None:
    for event in events:
        usage.feed(event)


def _first_malformed(events) -> int | None:
    """Index of the first event whose data is neither JSON nor ``[DONE]`` (every protocol here sends JSON)."""
    for i, event in enumerate(events):
        if not event.is_json and event.data != DONE:  # the parse is cached: the usage reader shares it
            return i
    return None


def _encode(event) -> bytes:
    return encode_event(event.data, event.event)
