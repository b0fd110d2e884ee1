"""``inferaudit.Client``: the gateway's providers in-process, for code that wants to drop a vendor SDK.

The client runs the very same gateway app (routing, fallback, retries,
usage mapping, attribution, ledger writes) inside your process, without a
socket between you and it: requests are ASGI calls. So accounting is the
same whether a call goes through ``inferaudit serve`` or through here.

    from inferaudit import Client
    with Client("gateway.yaml") as client:
        reply = client.chat(model="fast", messages=[{"role": "user", "content": "hi"}], feature="search")
        print(reply.json["choices"][0]["message"]["content"])
        for event in client.chat(model="fast", messages=[...], stream=True).events():
            ...

``AsyncClient`` is the same for asyncio code.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from .gateway import Gateway, GatewayConfig
from .providers.base import SSEEvent
from .providers.sse import SSEParser

PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}


@dataclass
class Response:
    """A finished exchange: status, headers, and the body (JSON, or an SSE stream's bytes)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    def events(self) -> Iterator[SSEEvent]:
        parser = SSEParser()
        for chunk in self.chunks or [self.body]:
            yield from parser.feed(chunk)
        yield from parser.flush()

    def raise_for_status(self) -> Response:
        if self.status >= 400:
            raise ClientError(self.status, self.body.decode("utf-8", "replace"))
        return self


class ClientError(RuntimeError):
    """The gateway answered with an error: the protocol's own error body is in the message."""

    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def _attribution_headers(user: str | None, feature: str | None, task: str | None, run: str | None,
                         harness: str | None, tags: dict[str, str] | None) -> list[tuple[bytes, bytes]]:
    pairs = [("x-inferaudit-user", user), ("x-inferaudit-feature", feature), ("x-inferaudit-task", task),
             ("x-inferaudit-run", run), ("x-inferaudit-harness", harness or "inferaudit-client")]
    out = [(k.encode(), v.encode()) for k, v in pairs if v]
    if tags:
        out.append((b"x-inferaudit-tags", ",".join(f"{k}={v}" for k, v in tags.items()).encode()))
    return out


class AsyncClient:
    """The gateway app called in-process. Use ``async with``, or call ``start()`` / ``close()``."""

    def __init__(self, config: GatewayConfig | str | Path, *, ledger: str | Path | None = None):
        cfg = config if isinstance(config, GatewayConfig) else GatewayConfig.load(config)
        if ledger is not None:
            import dataclasses

            cfg = dataclasses.replace(cfg, ledger=str(ledger))
        self.gateway = Gateway(cfg)
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self.gateway.startup()
            self._started = True

    async def close(self) -> None:
        if self._started:
            await self.gateway.shutdown()
            self._started = False

    async def __aenter__(self) -> AsyncClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, path: str, body: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> Response:
        """POST ``body`` to an ingress path (``/v1/chat/completions``, ``/v1/messages``, ...)."""
        await self.start()
        raw = orjson.dumps(body)
        path, _, query = path.partition("?")
        scope = {"type": "http", "method": "POST", "path": path, "query_string": query.encode(),
                 "headers": [(b"content-type", b"application/json"), *headers]}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # the app never reads past the body
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        response = Response(status=0, headers={})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response.status = message["status"]
                response.headers = {k.decode(): v.decode("latin-1") for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body" and message.get("body"):
                response.chunks.append(message["body"])

        await self.gateway(scope, receive, send)
        response.body = b"".join(response.chunks)
        return response

    async def chat(self, *, model: str, messages: list[dict[str, Any]], stream: bool = False, user: str | None = None,
                   feature: str | None = None, task: str | None = None, run: str | None = None,
                   harness: str | None = None, tags: dict[str, str] | None = None, **params: Any) -> Response:
        """OpenAI Chat Completions format, routed like any gateway request."""
        body = {"model": model, "messages": messages, "stream": stream, **params}
        return await self.request(PATHS["chat"], body, _attribution_headers(user, feature, task, run, harness, tags))

    async def messages(self, *, model: str, messages: list[dict[str, Any]], max_tokens: int = 1024,
                       stream: bool = False, user: str | None = None, feature: str | None = None,
                       task: str | None = None, run: str | None = None, harness: str | None = None,
                       tags: dict[str, str] | None = None, **params: Any) -> Response:
        """Anthropic Messages format."""
        body = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream, **params}
        headers = [(b"anthropic-version", b"2023-06-01"), *_attribution_headers(user, feature, task, run, harness, tags)]
        return await self.request(PATHS["messages"], body, headers)


class Client:
    """Synchronous ``AsyncClient``: its event loop runs in a background thread."""

    def __init__(self, config: GatewayConfig | str | Path, *, ledger: str | Path | None = None):
        self._async = AsyncClient(config, ledger=ledger)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="inferaudit-client", daemon=True)
        self._thread.start()
        self._run(self._async.start())

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def chat(self, **kwargs: Any) -> Response:
        return self._run(self._async.chat(**kwargs))

    def messages(self, **kwargs: Any) -> Response:
        return self._run(self._async.messages(**kwargs))

    def request(self, path: str, body: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> Response:
        return self._run(self._async.request(path, body, headers))

    def close(self) -> None:
        """Flush the ledger and stop."""
        if self._thread.is_alive():
            self._run(self._async.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
