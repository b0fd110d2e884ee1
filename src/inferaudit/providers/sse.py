"""Incremental server-sent events parser, run on the side of every streamed byte.

The gateway passes upstream bytes to the client untouched and feeds a copy to
:class:`SSEParser` to read usage. Chunks arrive cut anywhere: inside a line,
inside a ``\\r\\n``, inside a multi-byte UTF-8 character. The parser follows
the WHATWG event-stream rules (``\\n``, ``\\r\\n`` and ``\\r`` line ends;
``:`` comment lines; ``event:`` and multi-line ``data:`` fields; one leading
space after the colon dropped; an event is dispatched at a blank line and
only if it has data) with these choices for speed:

- no per-byte Python loop: line ends are normalised with ``bytes.replace``,
  events are found with ``bytes.find``/``split`` on ``\\n\\n``, and a
  single-line ``data:`` event (almost every OpenAI and Gemini chunk) skips
  line parsing altogether;
- bytes of an unfinished event are kept as a list of pieces and joined once,
  so an event that trickles in over many chunks costs linear time;
- decoding to text happens per complete event, never per chunk, so a UTF-8
  character split across chunks is never mangled (``\\n`` never occurs
  inside a multi-byte UTF-8 sequence).

``data: [DONE]`` is an ordinary event whose data is ``[DONE]``; the
protocol that uses it (OpenAI chat) decides what it means.
"""

from __future__ import annotations

from .base import SSEEvent
from .errors import UpstreamProtocolError

__all__ = ["SSEParser", "SSEEvent", "encode_event", "DONE"]

DONE = "[DONE]"
_BOM = b"\xef\xbb\xbf"
_DEFAULT_MAX_EVENT = 64 << 20  # a Responses `response.completed` repeats the whole output; images make it big


class SSEParser:
    """Turns byte chunks into complete :class:`SSEEvent` s, in order."""

    __slots__ = ("_pending", "_pending_size", "_tail_lf", "_skip_lf", "_head", "_max_event")

    def __init__(self, max_event_bytes: int = _DEFAULT_MAX_EVENT) -> None:
        self._pending: list[bytes] = []  # normalised bytes of the unfinished event
        self._pending_size = 0
        self._tail_lf = False  # the pending bytes end with a line end
        self._skip_lf = False  # the last chunk ended in "\r": a "\n" opening the next belongs to it
        self._head: bytes | None = b""  # first bytes of the stream, until a BOM is ruled out
        self._max_event = max_event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Events completed by ``chunk`` (often none, sometimes several)."""
        if self._head is not None:
            chunk = self._strip_bom(chunk)
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        if b"\r" in chunk:
            self._skip_lf = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not (self._tail_lf and chunk[:1] == b"\n") and b"\n\n" not in chunk:
            self._keep(chunk)
            return []
        data = b"".join(self._pending) + chunk if self._pending else chunk
        end = data.rfind(b"\n\n")
        events = _parse_block(data[:end])
        self._pending, self._pending_size, self._tail_lf = [], 0, False
        rest = data[end + 2 :]
        if rest:
            self._keep(rest)
        return events

    @property
    def pending_bytes(self) -> int:
        """Bytes of the unfinished event held so far (after line-end normalisation)."""
        return self._pending_size

    def flush(self) -> list[SSEEvent]:
        """At the end of the stream: the last event if the upstream closed without its blank line.

        The spec drops such an event; we keep it when its lines are complete
        (end with a line end), because an upstream that closes early would
        otherwise lose its usage chunk. A cut last line is dropped.
        """
        data = b"".join(self._pending)
        self._pending, self._pending_size, self._tail_lf, self._skip_lf = [], 0, False, False
        if not data:
            return []
        cut = data.rfind(b"\n")
        return _parse_block(data[:cut]) if cut >= 0 else []

    def _keep(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        self._tail_lf = chunk[-1:] == b"\n"
        if self._pending_size > self._max_event:
            size = self._pending_size
            self._pending, self._pending_size = [], 0
            raise UpstreamProtocolError(f"server-sent event larger than {self._max_event} bytes ({size} so far)")

    def _strip_bom(self, chunk: bytes) -> bytes:
        head = self._head + chunk  # type: ignore[operator]
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head
            return b""
        self._head = None
        return head[len(_BOM) :] if head.startswith(_BOM) else head


def _parse_block(block: bytes) -> list[SSEEvent]:
    """Events of complete bytes, events separated by blank lines (line ends already ``\\n``)."""
    try:
        text = block.decode()  # once per block: it ends at an event boundary, so no character is cut
    except UnicodeDecodeError:  # bad bytes somewhere: decode event by event, replacing only in the bad one
        return [e for e in (_parse_event(_decode(raw)) for raw in block.split(b"\n\n")) if e is not None]
    events: list[SSEEvent] = []
    append = events.append
    for raw in text.split("\n\n"):
        # the common shapes, without line parsing: one data line (OpenAI, Gemini), or an
        # event line and one data line (Anthropic, Responses)
        if raw.startswith("data: "):
            if "\n" not in raw:
                append(SSEEvent(None, raw[6:]))
                continue
        elif raw.startswith("event: "):
            name, found, data = raw.partition("\ndata: ")
            if found and len(name) > 7 and "\n" not in data and "\n" not in name:
                append(SSEEvent(name[7:], data))
                continue
        event = _parse_event(raw)
        if event is not None:
            append(event)
    return events


def _decode(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _parse_event(text: str) -> SSEEvent | None:
    name: str | None = None
    data: list[str] = []
    for line in text.split("\n"):
        if not line or line[0] == ":":
            continue
        field, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value or None
        # "id" and "retry" matter to reconnecting browsers, not to usage accounting
    if not data:
        return None
    return SSEEvent(name, "\n".join(data))


def encode_event(data: str, event: str | None = None, *, line_end: str = "\n") -> bytes:
    """One event as wire bytes; multi-line ``data`` becomes several ``data:`` lines."""
    lines = [f"event: {event}"] if event else []
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return (line_end.join(lines) + line_end + line_end).encode()
