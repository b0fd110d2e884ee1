"""What every emulated wire format shares.

Bodies and streams are rendered once per distinct request into byte
:class:`Template`\\ s; per request only the ids and the timestamp are filled
in, so the hot path is a dictionary lookup and a ``b"".join``.

A wire format is one small object (:class:`WireFormat`): it reads a request
into a :class:`RequestView`, renders a :class:`Scenario` into a
:class:`Prepared` response, and writes errors in its own shape.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ..usage import Tokens
from .scenario import Scenario, ToolSpec

_SLOT = re.compile(rb'"##(\w+)##"|@@(\w+)@@')


def slot(name: str) -> str:
    """A per-request value inside a JSON string (an id suffix)."""
    return f"@@{name}@@"


def number_slot(name: str) -> str:
    """A per-request JSON number (the quotes go too)."""
    return f"##{name}##"


_TO_B62 = bytes.maketrans(b"+/", b"Kq")


def _b62(n: int) -> bytes:
    return base64.b64encode(os.urandom(n))[:n].translate(_TO_B62)


def _hex(n: int) -> bytes:
    return os.urandom((n + 1) // 2).hex()[:n].encode()


# Id shapes as providers send them: chatcmpl-<29 base62>, call_<24>, resp_/msg_/fc_/rs_<48 hex>,
# Anthropic msg_01<22>, toolu_01<22>, request ids req_<32 hex> (OpenAI) and req_011C<20> (Anthropic).
ID_MAKERS: dict[str, Callable[[], bytes]] = {
    "created": lambda: b"%d" % time.time(),
    "chatcmpl": lambda: _b62(29),
    "call": lambda: _b62(24),
    "resp": lambda: _hex(48),
    "item": lambda: _hex(48),
    "fc": lambda: _hex(48),
    "rs": lambda: _hex(48),
    "amsg": lambda: b"01" + _b62(22),
    "toolu": lambda: b"01" + _b62(22),
    "gresp": lambda: _b62(23),
}


ID_PREFIX = {"chatcmpl": "chatcmpl-", "resp": "resp_", "amsg": "msg_", "gresp": ""}


def request_id(kind: str) -> str:
    return ("req_" + _hex(32).decode()) if kind == "openai" else ("req_011C" + _b62(20).decode())


class Template:
    """Bytes with named per-request slots."""

    __slots__ = ("names", "parts")

    def __init__(self, raw: bytes) -> None:
        pieces = _SLOT.split(raw)
        self.parts = pieces[0::3]
        self.names = tuple(a.decode() if a else b.decode() for a, b in zip(pieces[1::3], pieces[2::3]))

    def render(self, values: Mapping[str, bytes]) -> bytes:
        if not self.names:
            return self.parts[0]
        out = [self.parts[0]]
        for name, literal in zip(self.names, self.parts[1:]):
            out.append(values[name])
            out.append(literal)
        return b"".join(out)


def compact(obj: Any) -> bytes:
    return orjson.dumps(obj)


def indented(obj: Any, indent: int = 2) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=indent).encode()


def spaced(obj: Any) -> bytes:
    """Google's one-line style: ``{"a": 1,"b": 2}``."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ": ")).encode()


def sse(data: bytes, event: str | None = None, end: bytes = b"\n\n") -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + data + end


@dataclass(slots=True)
class RequestView:
    """What a wire format read from a request."""

    model: str
    stream: bool
    prompt: Any  # the part that seeds the answer
    tools: list[ToolSpec] = field(default_factory=list)
    wants_tool: bool = False  # tools offered, allowed, and the last turn is not a tool result
    body: dict[str, Any] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Prepared:
    """One rendered answer: a JSON body or SSE events, and the usage a client can read after each."""

    content_type: str
    scenario: Scenario
    id_slot: str
    body: Template | None = None
    events: list[Template] | None = None
    usage_after: list[Tokens | None] = field(default_factory=list)  # one per event (or [body's])
    names: tuple[str, ...] = ()
    model: str = ""
    stream: bool = False

    def __post_init__(self) -> None:
        parts = [self.body] if self.body is not None else list(self.events or ())
        self.names = tuple(sorted({n for t in parts for n in t.names}))

    def values(self) -> dict[str, bytes]:
        return {name: ID_MAKERS[name]() for name in self.names}

    def response_id(self, values: Mapping[str, bytes]) -> str | None:
        value = values.get(self.id_slot)
        return ID_PREFIX.get(self.id_slot, "") + value.decode() if value else None


def stream_of(content_type: str, scenario: Scenario, id_slot: str, events: list[tuple[bytes, Tokens | None]]) -> Prepared:
    return Prepared(
        content_type, scenario, id_slot, events=[Template(e) for e, _ in events], usage_after=[u for _, u in events]
    )


def body_of(content_type: str, scenario: Scenario, id_slot: str, body: bytes, usage: Tokens | None) -> Prepared:
    return Prepared(content_type, scenario, id_slot, body=Template(body), usage_after=[usage])


class BadRequest(Exception):
    """A request the real API would refuse with 400 (or ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class WireFormat(Protocol):
    name: str  # also the scenario family: "openai-chat", "openai-responses", "anthropic", "gemini"
    request_id_header: str  # "x-request-id" or "request-id"; "" for none

    def check(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Raise BadRequest where the real API refuses a request before reading it (auth, version)."""

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView: ...

    def prepare(self, view: RequestView, scenario: Scenario) -> Prepared: ...

    def error(self, status: int, message: str, request_id: str = "") -> tuple[bytes, str]:
        """The provider's own error body for ``status`` (default message when empty) and its content type."""
