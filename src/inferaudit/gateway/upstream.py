"""The gateway's HTTP/1.1 client for upstream calls: pooled keep-alive connections, parsed by httptools.

Why not aiohttp's ``ClientSession``: on the gateway's hot path every request
is one upstream POST, and the session's generic machinery (URL objects,
multidict headers, cookie jar, tracing hooks, payload registry, a task per
timeout) cost 190–270 µs of CPU per request here, about twice this
client's 90–120 µs, on the same loopback upstream (OpenAI JSON and SSE
bodies, one kept-alive connection: ``bench/upstream_client.py``). The
gateway spends that CPU on every request; it was most of what separated
the gateway from a bare relay.

What it does, and no more:

- one request at a time per connection; idle connections are kept per
  origin (scheme, host, port) for ``keepalive_s`` and reused most recent
  first; a connection the upstream closed is never handed out;
- a request is never sent twice: the upstream may have received it, and
  a second copy would be billed without a ledger row. A reused connection
  that the upstream closed just as the request went out (the keep-alive
  race) fails like any other connection, and the relay's retry rule makes
  the next attempt, recorded as one (aiohttp likewise retries only
  idempotent methods, never a POST);
- bodies framed by ``content-length``, chunked transfer encoding or the end
  of the connection, decoded by httptools (llhttp); no decompression (the
  gateway forwards bytes as they came and asks for ``identity``);
- timeouts: ``connect`` (opening a connection, TLS included), the first
  byte (``request(first_byte=...)``: from sending to the status line and
  headers) and ``idle`` (longest silence while reading a body);
- flow control: reading from the socket pauses while more than
  ``HIGH_WATER`` bytes wait unread, so a slow client never makes the
  gateway buffer a whole upstream stream;
- TLS for ``https``, with the system's trust store or the given context;
- interim 1xx responses (100 Continue, 103 Early Hints) are skipped; bytes
  the upstream sends beyond the final response it was asked for (a second,
  unsolicited response) are never read as part of it: the connection is closed.

Errors: :class:`ConnectError` (no connection, or the connection ended before
the response's headers), :class:`BodyError` (the connection ended or broke
inside a response body), :class:`asyncio.TimeoutError` for the timeouts.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import httptools

HIGH_WATER = 256 << 10  # unread body bytes above which the socket is not read
_PORTS = {"http": 80, "https": 443}
_SAFE = "/:?=&%@!$'()*+,;~._-"  # left as they are in a request target; anything else is percent-encoded
_UNSAFE = re.compile(f"[^A-Za-z0-9{re.escape(_SAFE)}]")


class UpstreamError(Exception):
    """A transport failure talking to an upstream."""


class ConnectError(UpstreamError):
    """No connection could be opened, or it ended before the response's headers arrived."""


class BodyError(UpstreamError):
    """The connection ended or broke inside a response body."""


class UpstreamResponse:
    """Status, headers and a body read as it arrives; ``release()`` when done (the relay does, in ``finally``)."""

    __slots__ = (
        "_chunks",
        "_complete",
        "_conn",
        "_error",
        "_headers",
        "_idle",
        "_released",
        "_size",
        "_waiter",
        "raw_headers",
        "status",
    )

    def __init__(self, conn: _Connection, idle: float | None):
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []  # as received
        self._headers: dict[str, str] | None = None
        self._conn = conn
        self._chunks: list[bytes] = []
        self._size = 0
        self._waiter: asyncio.Future | None = None
        self._complete = False
        self._error: BaseException | None = None
        self._idle = idle
        self._released = False

    @property
    def headers(self) -> dict[str, str]:
        """Names lower-cased; a repeated header keeps its last value (built on first use)."""
        if self._headers is None:
            self._headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.raw_headers}
        return self._headers

    def framed(self) -> bool:
        """Whether the body's end is marked (a content-length, or chunked) rather than the connection's close."""
        headers = self.headers
        return "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()

    # -- reading ---------------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body."""
        parts = [chunk async for chunk in self.iter_any()]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def iter_any(self) -> AsyncIterator[bytes]:
        """The body in pieces as they arrive: everything received since the last piece, joined."""
        while True:
            if self._chunks:
                yield self._take()
                continue
            if self._complete:
                return
            if self._error is not None:
                raise self._error
            await self._wait()

    def at_eof(self) -> bool:
        """Whether the whole body has arrived and been read."""
        return self._complete and not self._chunks

    def release(self) -> None:
        """Give the connection back: to the pool if the body was read whole and the upstream keeps it alive."""
        if self._released:
            return
        self._released = True
        self._conn.finished(reusable=self._complete and not self._chunks)

    def _take(self) -> bytes:
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        paused = self._size > HIGH_WATER
        self._size = 0
        if paused:
            self._conn.resume()
        return data

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(self._idle, _expire, waiter, self._idle) if self._idle else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    # -- fed by the connection ---------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > HIGH_WATER:
            self._conn.pause()
        self._wake()

    def _finish(self) -> None:
        self._complete = True
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if not self._complete:
            self._error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _expire(future: asyncio.Future, seconds: float) -> None:
    if not future.done():
        future.set_exception(TimeoutError(f"no data from upstream for {seconds:g}s"))


class _Connection(asyncio.Protocol):
    """One keep-alive connection; it carries one request and its response at a time."""

    def __init__(self, pool: UpstreamPool, key: tuple[str, str, int]):
        self.pool, self.key = pool, key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)  # one per connection: llhttp resets between messages
        self._response: UpstreamResponse | None = None
        self._headers: asyncio.Future | None = None
        self._paused = False
        self._keep_alive = False  # the finished response lets the connection carry another request
        self._begun = self._stray = False  # a response has begun; a second one began on the same request
        self._interim = False  # the message being parsed is a 1xx (100 Continue, 103 Early Hints): skipped

    # -- one exchange --------------------------------------------------------------------------

    def send(self, head: bytes, body: bytes, idle: float | None) -> asyncio.Future:
        """Write the request; the returned future resolves to the response once its headers are in."""
        loop = asyncio.get_running_loop()
        self._response = UpstreamResponse(self, idle)
        self._headers = loop.create_future()
        self._keep_alive = self._begun = self._stray = self._interim = False
        if len(body) < 65536:
            self.transport.write(head + body)
        else:
            self.transport.writelines((head, body))
        return self._headers

    def finished(self, reusable: bool) -> None:
        self._response = self._headers = None
        if reusable and self._keep_alive and not self._stray and not self.closed:
            if self._paused:
                self.resume()
            self.pool._put(self)
        else:
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def pause(self) -> None:
        if not self._paused and not self.closed:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and not self.closed:
            self._paused = False
            self.transport.resume_reading()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._response is None:  # bytes on an idle connection: nothing asked for them; never reuse it
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._broken(f"upstream sent bytes that are not HTTP/1.1: {exc}")
            return
        if self._stray:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response, headers = self._response, self._headers
        if headers is not None and not headers.done():
            headers.set_exception(ConnectError("upstream closed the connection before its response headers"
                                               + (f" ({exc})" if exc else "")))
        elif response is not None and not response._complete:
            if exc is None and not response.framed():
                response._finish()  # a body without length or chunking ends with the connection
            else:
                response._fail(BodyError("upstream closed the connection inside the response body"
                                         + (f" ({exc})" if exc else "")))

    def _broken(self, message: str) -> None:
        headers, response = self._headers, self._response
        if headers is not None and not headers.done():
            headers.set_exception(ConnectError(message))
        elif response is not None:
            response._fail(BodyError(message))
        self.close()

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._begun:
            self._stray = True
        self._begun = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._stray:
            self._response.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._stray:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # a client must read and skip these (RFC 9110, 15.2)
            self._interim = True
            self._response.raw_headers.clear()
            return
        self._response.status = status
        if not self._headers.done():
            self._headers.set_result(self._response)

    def on_body(self, body: bytes) -> None:
        if not self._stray:
            self._response._feed(body)

    def on_message_complete(self) -> None:
        if self._interim:  # the final response follows on the same connection
            self._interim = self._begun = False
            return
        if self._stray:
            return
        self._keep_alive = self._parser.should_keep_alive()  # llhttp answers this only inside its callbacks
        self._response._finish()


class UpstreamPool:
    """Keep-alive connections to upstream origins; ``request`` sends one request and returns its response."""

    def __init__(self, *, connect: float | None = 10.0, idle: float | None = 300.0, keepalive_s: float = 60.0,
                 ssl_context: ssl.SSLContext | None = None):
        """``ssl_context``: for ``https`` origins; default: the system's trust store (``SSL_CERT_FILE`` honoured)."""
        self.connect_timeout, self.idle_timeout, self.keepalive_s = connect, idle, keepalive_s
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._origins: dict[str, tuple[tuple[str, str, int], bytes]] = {}
        self._ssl = ssl_context
        self._closed = False

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes = b"", *,
                      first_byte: float | None = None) -> UpstreamResponse:
        """Send; return once the status line and headers are in (within ``first_byte`` seconds)."""
        if self._closed:
            raise ConnectError("the upstream pool is closed")
        key, target, host = self._target(url)
        lines = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", host, b"\r\ncontent-length: ",
                 str(len(body)).encode(), b"\r\n"]
        for name, value in headers.items():
            if name.lower() in ("host", "content-length", "transfer-encoding"):
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"header {name!r} has a line break or a colon in it")
            lines += (name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        loop = asyncio.get_running_loop()
        deadline = None if first_byte is None else loop.time() + first_byte
        conn = self._take(key) or await self._open(key, deadline)
        timer = None
        try:
            headers_in = conn.send(head, body, self.idle_timeout)
            if deadline is not None:
                timer = loop.call_at(deadline, _expire, headers_in, first_byte)
            return await headers_in
        except BaseException:
            conn.close()  # failed, timed out or cancelled: whatever comes on this connection is no one's
            raise
        finally:
            if timer is not None:
                timer.cancel()

    async def close(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    # -- connections -------------------------------------------------------------------------------

    def _target(self, url: str) -> tuple[tuple[str, str, int], bytes, bytes]:
        """(origin key, request target, Host header value) of a URL; origins are cached, paths are not."""
        cut = url.find("/", url.find("//") + 2) if "//" in url else -1
        origin, target = (url, "/") if cut < 0 else (url[:cut], url[cut:])
        known = self._origins.get(origin)
        if known is None:
            parts = urlsplit(origin)
            if parts.scheme not in _PORTS or not parts.hostname:
                raise ConnectError(f"not an http(s) URL: {url!r}")
            port = parts.port or _PORTS[parts.scheme]
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            if parts.port and parts.port != _PORTS[parts.scheme]:
                host += f":{parts.port}"
            known = self._origins[origin] = ((parts.scheme, parts.hostname, port), host.encode("idna"))
        if _UNSAFE.search(target):  # the ASGI path arrives percent-decoded: a space or a non-ASCII name goes back encoded
            target = quote(target, safe=_SAFE)
        return known[0], target.encode("ascii"), known[1]

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        conns = self._idle.get(key)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            if conn.closed or conn.transport.is_closing():
                continue
            if now - conn.idle_since > self.keepalive_s:
                conn.close()
                continue
            return conn
        return None

    def _put(self, conn: _Connection) -> None:
        if self._closed:
            conn.close()
            return
        conn.idle_since = now = time.monotonic()
        conns = self._idle.setdefault(conn.key, deque())
        while conns and (conns[0].closed or now - conns[0].idle_since > self.keepalive_s):
            conns.popleft().close()  # the oldest expire first: tidied on the way in, never by a timer
        conns.append(conn)

    async def _open(self, key: tuple[str, str, int], deadline: float | None) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        timeout = self.connect_timeout
        if deadline is not None:
            left = deadline - loop.time()
            timeout = left if timeout is None else min(timeout, left)
        tls = None
        if scheme == "https":
            tls = self._ssl = self._ssl or ssl.create_default_context()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(self, key), host, port, ssl=tls), timeout)
        except TimeoutError:
            raise TimeoutError(f"no connection to {host}:{port} within {timeout:g}s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        return conn
