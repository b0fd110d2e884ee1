"""Putting a prepared answer on the wire, with the faults a request asked for.

Each step updates the request's record *before* the bytes go out (a client
may read them and look at the record before this coroutine resumes), and
takes the update back when the write fails.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from aiohttp import web

from ..usage import Tokens
from .faults import FaultPlan

RESET_GRACE = 0.05  # seconds between the last byte and a mid-stream reset
PROXY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
              b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@dataclass(slots=True)
class RequestRecord:
    """One request the emulator received, and what it answered."""

    seq: int  # 1-based arrival order: one per upstream attempt
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # secrets shown as "[redacted]"
    body: Any = None  # the parsed JSON body (None when empty or not JSON)
    protocol: str | None = None  # "openai-chat", "openai-responses", "anthropic", "gemini"
    model: str | None = None
    stream: bool = False
    faults: tuple[str, ...] = ()
    status: int | None = None  # None: the connection was reset before a status line
    outcome: str = "pending"  # ok, error, reset-before-headers, reset-mid-stream, truncated, malformed,
    # error-mid-stream, wrong-content-type, client-disconnected
    usage: Tokens | None = None  # the usage a client could read from what was sent
    planned: Tokens | None = None  # the scenario's whole usage, sent or not
    response_id: str | None = None
    request_id: str | None = None
    tool_calls: int = 0
    events_sent: int = 0
    events_total: int = 0


async def reset_after_flush(request: web.BaseRequest) -> None:
    """Reset once the client has had time to read what was sent: an RST drops unread data."""
    await asyncio.sleep(RESET_GRACE)
    abort(request)


def abort(request: web.BaseRequest) -> None:
    """Reset the connection (RST, not FIN), as a crashed upstream or a dropped link does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


def break_event(event: bytes) -> bytes:
    """Cut the JSON of an SSE event in half, keeping its ``data:`` line and blank-line framing."""
    end = b"\r\n\r\n" if event.endswith(b"\r\n\r\n") else b"\n\n"
    start = event.rfind(b"data: ") + len(b"data: ")
    payload = event[start : len(event) - len(end)]
    return event[:start] + payload[: max(1, len(payload) // 2)] + end


async def send_body(
    request: web.BaseRequest, headers: Mapping[str, str], body: bytes, usage: Tokens | None,
    plan: FaultPlan, rec: RequestRecord,
) -> web.StreamResponse:
    rec.status = 200
    if plan.mid is None:
        rec.usage, rec.outcome = usage, "ok"
        return web.Response(body=body, headers=headers)
    half = body[: len(body) // 2]
    if plan.mid in ("truncated", "malformed"):
        rec.outcome = "truncated"
        return web.Response(body=half, headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(half)
    if plan.mid == "reset":
        rec.outcome = "reset-mid-stream"
        await reset_after_flush(request)
        return response
    await asyncio.sleep(plan.stall)
    await _write(response, body[len(half) :], rec, usage, 0, True)
    return response


def segments(
    events: list[bytes], usage_after: list[Tokens | None], writes: int
) -> list[tuple[bytes, Tokens | None, int]]:
    """A stream cut into at most ``writes`` writes: the first event alone (the first byte comes when
    it would), the rest at byte offsets that ignore event and UTF-8 boundaries, as TCP and proxies
    cut streams. Each write comes with the usage readable once it is in and the events it completes."""
    ends = list(accumulate(len(e) for e in events))
    blob, first = b"".join(events), ends[0]
    pieces = max(1, min(writes - 1, len(events) - 1))
    cuts = [first] + [first + (len(blob) - first) * j // pieces for j in range(1, pieces + 1)]
    if writes == 1:
        cuts = [len(blob)]
    out: list[tuple[bytes, Tokens | None, int]] = []
    start, done, readable = 0, 0, None
    for cut in cuts:
        if cut <= start:
            continue
        while done < len(events) and ends[done] <= cut:
            readable = usage_after[done] or readable
            done += 1
        out.append((blob[start:cut], readable, done))
        start = cut
    return out


async def send_stream(
    request: web.BaseRequest, headers: Mapping[str, str], events: list[bytes], usage_after: list[Tokens | None],
    plan: FaultPlan, rec: RequestRecord, writes: int = 0, error_event: bytes = b"",
) -> web.StreamResponse:
    """Send SSE events: one write each when paced or faulted (or ``writes`` is 0), else coalesced.

    ``error_event``: the provider's mid-stream error, sent in place of the middle event for ``error-mid-stream``.
    """
    rec.status, rec.events_total = 200, len(events)
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    if writes and not plan.pace and not plan.mid:
        for data, readable, done in segments(events, usage_after, writes):
            if not await _write(response, data, rec, readable, done, done == len(events)):
                break
        return response
    cut = len(events) // 2
    for i, event in enumerate(events):
        if i and plan.pace:
            await asyncio.sleep(plan.pace)
        readable = usage_after[i]
        if i == cut and plan.mid:
            if plan.mid == "reset":
                rec.outcome = "reset-mid-stream"
                await reset_after_flush(request)
                return response
            if plan.mid == "stall":
                await asyncio.sleep(plan.stall)
            elif plan.mid == "truncated":
                rec.outcome = "truncated"
                await response.write(event[: len(event) // 2])
                await response.write_eof()
                return response
            elif plan.mid == "malformed":
                event, readable, rec.outcome = break_event(event), None, "malformed"
            elif plan.mid == "error":
                rec.outcome = "error-mid-stream"
                await response.write(error_event)
                await response.write_eof()
                return response
        if not await _write(response, event, rec, readable, i + 1, i == len(events) - 1):
            break
    return response


async def _write(
    response: web.StreamResponse, data: bytes, rec: RequestRecord, readable: Tokens | None, sent: int, last: bool
) -> bool:
    """Write, having recorded what the client can read once the bytes are in; undo that if they are not."""
    before = rec.usage, rec.events_sent, rec.outcome
    rec.usage, rec.events_sent = readable or rec.usage, sent
    if last and rec.outcome == "pending":
        rec.outcome = "ok"
    try:
        await response.write(data)
        return True
    except ConnectionError:
        rec.usage, rec.events_sent = before[0], before[1]
        rec.outcome = "client-disconnected" if before[2] in ("pending", "ok") else before[2]
        return False
