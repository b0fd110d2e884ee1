"""Small helpers every wire-protocol module shares: JSON in and out, usage extras, safe bucket mapping.

Kept private: they are conveniences of this part, not a contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from ..usage import Tokens
from .base import SSEEvent, UsageReport
from .errors import UpstreamProtocolError


def loads(data: str | bytes) -> Any:
    """Parsed JSON, or None when ``data`` is not JSON (a stream keeps going past one bad event)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def event_json(event: SSEEvent) -> Any:
    """An event's data as parsed JSON (parsed once per event), or None when it is not JSON."""
    return event.json()


def dumps(obj: Any) -> str:
    try:
        return orjson.dumps(obj).decode()
    except TypeError:  # integers beyond 64 bits, which only a broken upstream sends
        return json.dumps(obj, default=repr)


def response_object(body: Any) -> dict[str, Any]:
    """A whole response body, which every protocol defines as a JSON object."""
    if not isinstance(body, dict):
        raise UpstreamProtocolError(f"response body is a JSON {type(body).__name__}, not an object")
    return body


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: upstreams send null where a doc says object."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def usage_extras(usage: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Every usage field the buckets did not take, flattened to dotted names.

    Providers add usage fields all the time (``cache_write_tokens``,
    ``server_tool_use.web_search_requests``, vLLM's
    ``prompt_tokens_details.created_cache_tokens``); keeping them lets a later
    analysis use them without a code change here. Nulls are dropped.
    """
    out: dict[str, Any] = {}
    stack: list[tuple[str, dict[str, Any]]] = [("", usage)]
    while stack:
        prefix, obj = stack.pop()
        for key, value in obj.items():
            name = prefix + key
            if value is None or name in known:
                continue
            if isinstance(value, dict):
                stack.append((name + ".", value))
            else:
                out[name] = value
    return out


def tokens_into(report: UsageReport, build: Callable[[], Tokens]) -> None:
    """Set ``report.tokens`` from ``build``; usage that breaks the bucket rules is reported, not raised.

    A response whose usage says ``cached > prompt`` is still a response the
    client should get; the gateway records the call without buckets and
    keeps the reason in ``extra["usage_problem"]``.
    """
    try:
        report.tokens = build()
    except (TypeError, ValueError, AttributeError) as exc:  # also shapes usage.py does not expect
        report.tokens = None
        report.extra["usage_problem"] = str(exc)


class ModelInBody:
    """Shared by the protocols whose request body names the model and asks to stream with ``"stream": true``."""

    def request_model(self, body: dict[str, Any], path: str) -> str | None:
        return text(body.get("model"))

    def is_stream(self, body: dict[str, Any], path: str) -> bool:
        return body.get("stream") is True

    def prepare_upstream(self, body: dict[str, Any], stream: bool) -> tuple[dict[str, Any], bool]:
        """Usage comes back without being asked for: nothing to add."""
        return body, False
