"""Upstream failures by class, and retry-after parsing in every form providers use."""

from __future__ import annotations

import email.utils

import pytest

from inferaudit.providers import errors
from inferaudit.providers.errors import (
    UpstreamClientError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamStatusError,
    UpstreamProtocolError,
    retry_after,
    upstream_json,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after": "20"}, 20.0),
        ({"Retry-After": "1.5"}, 1.5),  # header names are case-insensitive; fractions allowed
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "20"}, 0.25),  # milliseconds win, as the SDKs read them
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),  # unreadable ms falls back to seconds
        ({"retry-after": email.utils.formatdate(NOW + 90, usegmt=True)}, 90.0),  # HTTP-date form
        ({"retry-after": email.utils.formatdate(NOW - 90, usegmt=True)}, 0.0),  # a date in the past: now
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_headers(headers, expected):
    assert retry_after(headers, now=NOW) == expected


def test_retry_after_from_a_gemini_error_body(data):
    body = data.json("gemini-error-429-retry-info.json")
    assert retry_after({}, body) == 34.4
    assert retry_after({"retry-after": "2"}, body) == 2.0  # a header, when there is one, wins
    assert retry_after({}, {"error": {"details": [{"@type": "x.RetryInfo", "retryDelay": "later"}]}}) is None


@pytest.mark.parametrize(
    "status, cls, retryable",
    [(429, UpstreamRateLimited, True), (500, UpstreamServerError, True), (503, UpstreamServerError, True),
     (529, UpstreamServerError, True), (408, UpstreamServerError, True), (409, UpstreamServerError, True),
     (400, UpstreamClientError, False), (401, UpstreamClientError, False), (404, UpstreamClientError, False)],
)
def test_status_errors_tell_retryable_from_not(status, cls, retryable):
    error = UpstreamStatusError.from_response(status, {"error": {"message": "x"}})
    assert type(error) is cls and error.retryable is retryable
    assert isinstance(error, UpstreamError) and error.status == status


def test_rate_limit_carries_its_wait_and_headers_can_override_retrying():
    error = UpstreamStatusError.from_response(429, None, {"retry-after-ms": "1500"})
    assert isinstance(error, UpstreamRateLimited) and error.retry_after == 1.5 and error.status_to_client == 429
    assert UpstreamStatusError.from_response(500, None, {"x-should-retry": "false"}).retryable is False
    assert UpstreamStatusError.from_response(400, None, {"X-Should-Retry": "true"}).retryable is True


def test_what_the_gateway_answers_for_each_failure():
    assert errors.UpstreamProtocolError("upstream sent HTML, not JSON").status_to_client == 502
    assert errors.UpstreamTimeout("read timed out").status_to_client == 504
    assert errors.UpstreamConnectError("refused").retryable is True
    assert UpstreamStatusError.from_response(400, "bad").status_to_client == 400  # the client's request was wrong
    assert UpstreamStatusError.from_response(401, "bad key").status_to_client == 502  # our upstream key was wrong
    assert errors.RequestError("no model", param="model").status == 400


def test_status_error_message_quotes_the_upstream_body():
    error = UpstreamStatusError.from_response(400, {"error": {"message": "max_tokens too large"}})
    assert "HTTP 400" in str(error) and "max_tokens too large" in str(error)


def test_upstream_json_translates_garbage_into_a_clear_protocol_error():
    assert upstream_json(b'{"id": "x"}', "application/json; charset=utf-8") == {"id": "x"}
    assert upstream_json(b'{"id": "x"}') == {"id": "x"}
    cases = [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", "upstream sent text/html, not JSON: <html>"),
        (b'{"id": "x"', "application/json", "upstream sent invalid JSON"),
        (b"[1, 2]", "application/json", "a JSON list, not an object"),
    ]
    for raw, content_type, message in cases:
        with pytest.raises(UpstreamProtocolError, match=message.replace("(", r"\(")) as raised:
            upstream_json(raw, content_type)
        assert raised.value.status_to_client == 502 and not raised.value.retryable


def test_docstring_draws_every_exception_class():
    classes = [name for name in errors.__all__ if name[0].isupper()]
    assert len(classes) == 10
    for name in classes:
        assert name in errors.__doc__, name
