"""The gateway's upstream HTTP/1.1 client against a real loopback server that answers from a script.

Each test's server is a plain asyncio TCP server: it reads one request head
and body at a time (by content-length) and answers with the raw bytes the
test gives, so framing, keep-alive, stalls, resets and garbage are exactly
what the test says, and the server counts the connections and requests it saw.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from typing import Self

import pytest

from inferaudit.gateway import upstream
from inferaudit.gateway.upstream import BodyError, ConnectError, UpstreamPool

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # (request, writer) -> keep the connection open?


class Scripted:
    """A loopback server; ``answer`` decides what each request gets."""

    def __init__(self, answer: Answer):
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    return  # the client closed, or the test is over
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    return
        finally:
            writer.close()


def fixed(*responses: bytes, keep: bool = True) -> Answer:
    """Answer the n-th request with the n-th response (the last one repeats)."""
    sent = []

    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(responses[min(len(sent), len(responses) - 1)])
        sent.append(request)
        await writer.drain()
        return keep

    return answer


def http(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def post(pool: UpstreamPool, url: str, body: bytes = b"{}", **kw) -> tuple[int, dict, bytes]:
    response = await pool.request("POST", url + "/v1/chat/completions", {"content-type": "application/json"}, body, **kw)
    try:
        return response.status, response.headers, await response.read()
    finally:
        response.release()


async def served(answer: Answer, requests: int = 2) -> tuple[list[bytes], int]:
    """The bodies of ``requests`` sequential posts through one pool, and how many connections the server saw."""
    async with Scripted(answer) as server:
        pool = UpstreamPool()
        bodies = [(await post(pool, server.url))[2] for _ in range(requests)]
        await pool.close()
    return bodies, server.connections


async def test_keep_alive_connection_is_reused_and_the_request_is_well_formed():
    async with Scripted(fixed(http(b'{"ok":1}', "content-type: application/json", "x-request-id: r1"))) as server:
        pool = UpstreamPool()
        for _ in range(5):
            status, headers, body = await post(pool, server.url, b'{"model":"m"}')
            assert (status, body, headers["content-type"], headers["x-request-id"]) == (200, b'{"ok":1}', "application/json", "r1")
        await pool.close()
    assert server.connections == 1 and len(server.requests) == 5
    head, _, sent = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions HTTP/1.1"
    port = server.url.rsplit(":", 1)[1]
    assert f"host: 127.0.0.1:{port}".encode() in lines and b"content-length: 13" in lines
    assert b"content-type: application/json" in lines and sent == b'{"model":"m"}'


async def test_chunked_and_close_delimited_bodies():
    chunked = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
               b"7\r\ndata: 1\r\n9\r\n\n\ndata: 2\r\n2\r\n\n\n\r\n0\r\n\r\n")
    async with Scripted(fixed(chunked)) as server:
        pool = UpstreamPool()
        assert (await post(pool, server.url))[2] == b"data: 1\n\ndata: 2\n\n"
        assert (await post(pool, server.url))[2] == b"data: 1\n\ndata: 2\n\n"
        await pool.close()
    assert server.connections == 1
    # no length, no chunking: the body is everything until the upstream closes; never reused
    close_delimited = fixed(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"a\": 1}", keep=False)
    assert await served(close_delimited) == ([b'{"a": 1}'] * 2, 2)


async def test_connection_close_and_unread_bodies_are_not_reused():
    assert await served(fixed(http(b"bye", "connection: close"), keep=False)) == ([b"bye"] * 2, 2)
    async with Scripted(fixed(http(b"x" * 100_000))) as server:
        pool = UpstreamPool()
        response = await pool.request("POST", server.url + "/", {}, b"")
        response.release()  # left unread: the rest would arrive as the next request's answer
        assert (await post(pool, server.url))[2] == b"x" * 100_000
        await pool.close()
    assert server.connections == 2


async def test_a_connection_the_upstream_closed_while_idle_is_not_handed_out():
    async with Scripted(fixed(http(b"ok"), keep=False)) as server:  # answers, then closes: a short keep-alive
        pool = UpstreamPool()
        for _ in range(3):
            assert (await post(pool, server.url))[2] == b"ok"
            await asyncio.sleep(0.05)  # the FIN arrives while the connection sits in the pool
        await pool.close()
    assert server.connections == 3 and len(server.requests) == 3


async def test_idle_connections_expire():
    async with Scripted(fixed(http(b"ok"))) as server:
        pool = UpstreamPool(keepalive_s=0.05)
        await post(pool, server.url)
        await asyncio.sleep(0.1)
        await post(pool, server.url)
        await pool.close()
    assert server.connections == 2


async def test_a_request_is_never_sent_twice():
    """The upstream reads the request on a reused connection and closes without a byte: one copy only."""
    calls = []

    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        calls.append(request)
        if len(calls) == 1:
            writer.write(http(b"first"))
            await writer.drain()
            return True
        return False  # read it, answer nothing, close

    async with Scripted(answer) as server:
        pool = UpstreamPool()
        assert (await post(pool, server.url))[2] == b"first"
        with pytest.raises(ConnectError, match="before its response headers"):
            await post(pool, server.url)
        await pool.close()
    assert len(server.requests) == 2  # the first request and one copy of the second


async def test_timeouts_first_byte_and_idle():
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async with Scripted(silent) as server:
        pool = UpstreamPool()
        with pytest.raises(asyncio.TimeoutError):
            await post(pool, server.url, first_byte=0.1)
        await pool.close()

    async def stall(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await asyncio.sleep(5)
        return False

    async with Scripted(stall) as server:
        pool = UpstreamPool(idle=0.1)
        response = await pool.request("POST", server.url + "/", {}, b"", first_byte=1)
        pieces = []
        with pytest.raises(asyncio.TimeoutError, match="no data from upstream for 0.1s"):
            async for piece in response.iter_any():
                pieces.append(piece)
        response.release()
        assert pieces == [b"hello"]
        await pool.close()


async def test_failures_before_and_inside_the_body():
    async def cut(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        await writer.drain()
        return False

    async with Scripted(cut) as server:
        pool = UpstreamPool()
        response = await pool.request("POST", server.url + "/", {}, b"")
        with pytest.raises(BodyError, match="inside the response body"):
            await response.read()
        response.release()
        await pool.close()

    async with Scripted(fixed(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", keep=False)) as server:
        pool = UpstreamPool()
        with pytest.raises(ConnectError, match="not HTTP/1.1"):
            await post(pool, server.url)
        await pool.close()

    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    pool = UpstreamPool()
    with pytest.raises(ConnectError, match=f"cannot connect to 127.0.0.1:{port}"):
        await post(pool, f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectError, match="not an http"):
        await post(pool, "ftp://127.0.0.1:21")
    with pytest.raises(ValueError, match="line break"):
        await pool.request("POST", f"http://127.0.0.1:{port}/", {"x-evil": "a\r\nx-injected: 1"}, b"")
    await pool.close()


async def test_a_slow_reader_pauses_the_socket_and_gets_every_byte(monkeypatch):
    monkeypatch.setattr(upstream, "HIGH_WATER", 4096)
    body = bytes(range(256)) * 4096  # 1 MiB
    paused = []
    original = upstream._Connection.pause

    def pause(self):
        paused.append(True)
        original(self)

    monkeypatch.setattr(upstream._Connection, "pause", pause)
    async with Scripted(fixed(http(body))) as server:
        pool = UpstreamPool()
        response = await pool.request("POST", server.url + "/", {}, b"")
        received = []
        async for piece in response.iter_any():
            received.append(piece)
            await asyncio.sleep(0.002)
        response.release()
        assert b"".join(received) == body and paused
        assert (await post(pool, server.url))[2] == body  # the connection was resumed and reused
        await pool.close()
    assert server.connections == 1


async def test_cancelled_request_closes_its_connection():
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.3)
        writer.write(http(b"late"))
        await writer.drain()
        return True

    async with Scripted(slow) as server:
        pool = UpstreamPool()
        task = asyncio.create_task(post(pool, server.url))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await post(pool, server.url))[2] == b"late"  # a new connection, not the late answer's
        await pool.close()
    assert server.connections == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


async def test_https_with_a_trusted_certificate_and_refused_without(certificate):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    scripted = Scripted(fixed(http(b'{"tls":true}')))
    server = await asyncio.start_server(scripted._serve, "127.0.0.1", 0, ssl=server_tls)
    url = f"https://localhost:{server.sockets[0].getsockname()[1]}"
    try:
        trusting = UpstreamPool(ssl_context=ssl.create_default_context(cafile=str(cert)))
        for _ in range(2):
            assert (await post(trusting, url))[2] == b'{"tls":true}'
        await trusting.close()
        assert scripted.connections == 1 and b"host: localhost:" in scripted.requests[0]
        default = UpstreamPool()  # the system's trust store does not know a throwaway certificate
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await post(default, url)
        await default.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_an_unsolicited_second_response_is_not_read_and_the_connection_not_reused():
    assert await served(fixed(http(b"asked") + http(b"not asked"))) == ([b"asked"] * 2, 2)


async def test_interim_1xx_responses_are_skipped():
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n"
    async with Scripted(fixed(interim + http(b"final", "x-request-id: r9"))) as server:
        pool = UpstreamPool()
        for _ in range(2):
            status, headers, body = await post(pool, server.url)
            assert (status, body, headers.get("x-request-id"), "link" in headers) == (200, b"final", "r9", False)
        await pool.close()
    assert server.connections == 1


async def test_a_decoded_path_goes_out_percent_encoded():
    async with Scripted(fixed(http(b"ok"))) as server:
        pool = UpstreamPool()
        response = await pool.request("POST", server.url + "/v1beta/models/my model é:generateContent?alt=sse", {}, b"")
        await response.read()
        response.release()
        await pool.close()
    assert server.requests[0].startswith(b"POST /v1beta/models/my%20model%20%C3%A9:generateContent?alt=sse HTTP/1.1\r\n")
