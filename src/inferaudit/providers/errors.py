"""Upstream failures the gateway must tell apart, and how long a provider asks us to wait.

One module for every error of the ``providers`` part, in the style of
httpx's ``_exceptions.py``: foreign exceptions (aiohttp, socket, JSON) are
translated into these at the edge, so the gateway decides on retries,
fallbacks and the status it answers with from the class alone::

    ProviderError
     ├── RequestError               bad client input: answer the protocol's own 4xx
     └── UpstreamError              the upstream call failed
          ├── UpstreamConnectError  no connection (refused, DNS, TLS): retryable
          ├── UpstreamTimeout       connect or read timed out: retryable
          ├── UpstreamProtocolError garbage upstream (bad JSON, wrong content type): 502
          └── UpstreamStatusError   the upstream answered with an error status
               ├── UpstreamRateLimited   429: retryable, after ``retry_after`` seconds
               ├── UpstreamServerError   5xx (and 408 / 409): retryable
               └── UpstreamClientError   other 4xx: not retryable, the request itself is wrong

``UpstreamStatusError.from_response`` picks the subclass from the status and
the headers (``x-should-retry`` overrides the status, as the official SDKs
honour it), so no caller writes that table again. ``upstream_json`` turns a
body that is not a JSON object into ``UpstreamProtocolError``, and
``retry_after`` reads the wait from headers (or a Google error body).
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = [
    "ProviderError",
    "RequestError",
    "UpstreamError",
    "UpstreamConnectError",
    "UpstreamTimeout",
    "UpstreamProtocolError",
    "UpstreamStatusError",
    "UpstreamRateLimited",
    "UpstreamServerError",
    "UpstreamClientError",
    "retry_after",
    "upstream_json",
]


class ProviderError(Exception):
    """Base of every error raised by ``inferaudit.providers``."""

    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestError(ProviderError):
    """The client's request is unusable (not JSON, no model, wrong field type).

    ``status`` is what the gateway answers with, in the ingress protocol's own
    error shape (``WireProtocol.error_body``); ``param`` names the bad field.
    """

    def __init__(self, message: str, *, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


class UpstreamError(ProviderError):
    """The call to an upstream provider failed."""

    status_to_client = 502  # what the gateway answers when it cannot recover


class UpstreamConnectError(UpstreamError):
    """No connection to the upstream: refused, unresolvable, TLS failure. Nothing was sent."""

    retryable = True


class UpstreamTimeout(UpstreamError):
    """The upstream did not connect or answer in time."""

    retryable = True
    status_to_client = 504


class UpstreamProtocolError(UpstreamError):
    """The upstream answered with something that is not its protocol.

    Bad JSON, a JSON body that is not an object, an HTML error page where a
    stream was expected. Retrying the same upstream rarely helps, so it is not
    retryable; the gateway answers 502 with this message.
    """


class UpstreamStatusError(UpstreamError):
    """The upstream answered with an HTTP error status; ``body`` is what it said (parsed JSON or text)."""

    def __init__(self, status: int, body: Any = None, message: str | None = None) -> None:
        super().__init__(message or f"upstream answered HTTP {status}: {_excerpt(body)}")
        self.status = status
        self.body = body

    @classmethod
    def from_response(
        cls, status: int, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> UpstreamStatusError:
        """The subclass that fits ``status``; ``x-should-retry`` overrides the status's default."""
        headers = _lower(headers)
        if status == 429:
            error: UpstreamStatusError = UpstreamRateLimited(status, body, retry_after=retry_after(headers, body))
        elif status >= 500 or status in (408, 409):
            error = UpstreamServerError(status, body, retry_after=retry_after(headers, body))
        else:
            error = UpstreamClientError(status, body)
        should_retry = headers.get("x-should-retry", "").strip().lower()
        if should_retry in ("true", "false"):
            error.retryable = should_retry == "true"
        return error


class UpstreamRateLimited(UpstreamStatusError):
    """429: retry, on this upstream after ``retry_after`` seconds (None: the upstream did not say)."""

    retryable = True
    status_to_client = 429

    def __init__(self, status: int, body: Any = None, message: str | None = None, *, retry_after: float | None = None):
        super().__init__(status, body, message)
        self.retry_after = retry_after


class UpstreamServerError(UpstreamStatusError):
    """5xx, 408 or 409: the upstream failed or is overloaded; the same request may succeed later."""

    retryable = True

    def __init__(self, status: int, body: Any = None, message: str | None = None, *, retry_after: float | None = None):
        super().__init__(status, body, message)
        self.retry_after = retry_after


class UpstreamClientError(UpstreamStatusError):
    """Any other 4xx: the request is wrong for this upstream; retrying it unchanged cannot help.

    A 400, 404, 413 or 422 is about the client's request and is passed on; a
    401 or 403 is about the gateway's own upstream credentials, which the
    client can do nothing about, so it becomes a 502.
    """

    @property
    def status_to_client(self) -> int:  # type: ignore[override]
        return self.status if self.status in (400, 404, 413, 422) else 502


def upstream_json(raw: bytes, content_type: str | None = None) -> dict[str, Any]:
    """An upstream response body as a JSON object, or an :class:`UpstreamProtocolError` saying what came instead.

    The foreign failure (a JSON decode error, an HTML error page from a proxy)
    is translated here, once, into the message the gateway's 502 carries.
    """
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise UpstreamProtocolError(f"upstream sent {kind}, not JSON: {_excerpt(raw[:200].decode('utf-8', 'replace'))}")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(f"upstream sent invalid JSON ({exc}): {_excerpt(raw[:200].decode('utf-8', 'replace'))}")
    if not isinstance(body, dict):
        raise UpstreamProtocolError(f"upstream sent a JSON {type(body).__name__}, not an object")
    return body


# -- retry-after ---------------------------------------------------------------

_GOOGLE_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def retry_after(headers: Mapping[str, str] | None, body: Any = None, *, now: float | None = None) -> float | None:
    """Seconds the upstream asks us to wait before retrying, or None if it did not say.

    Read in the order the official SDKs read them: ``retry-after-ms``
    (OpenAI, Anthropic; milliseconds), then ``retry-after`` as seconds
    (fractions allowed), then ``retry-after`` as an HTTP date. Google's APIs
    put the delay in the error body instead (``google.rpc.RetryInfo``,
    ``"retryDelay": "34.4s"``), so a parsed Gemini error ``body`` is read last.
    A date in the past gives 0; unreadable values are ignored.
    """
    headers = _lower(headers)
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    date = headers.get("retry-after")
    if date:
        try:
            parsed = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return max(parsed.timestamp() - (time.time() if now is None else now), 0.0)
    return _google_retry_delay(body)


def _google_retry_delay(body: Any) -> float | None:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _GOOGLE_DELAY.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Header names are case-insensitive; plain dicts in tests and aiohttp's CIMultiDict both work."""
    if not headers:
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _excerpt(body: Any, limit: int = 300) -> str:
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= limit else text[:limit] + "..."
