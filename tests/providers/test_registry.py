"""The protocol registry: names, ingress paths, and the public API of the part."""

from __future__ import annotations

import pytest

import inferaudit.providers as providers
from inferaudit.providers import PROTOCOLS, for_path


@pytest.mark.parametrize(
    "path, name",
    [
        ("/v1/chat/completions", "openai-chat"),
        ("/v1/responses", "openai-responses"),
        ("/v1/messages", "anthropic-messages"),
        ("/v1/messages?beta=true", "anthropic-messages"),  # Claude Code adds a query string
        ("/v1beta/models/gemini-2.5-flash:generateContent", "gemini"),
        ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", "gemini"),
        ("/v1/models/gemini-2.5-pro:streamGenerateContent", "gemini"),
    ],
)
def test_ingress_paths_map_to_protocols(path, name):
    assert for_path(path) is PROTOCOLS[name]


@pytest.mark.parametrize(
    "path",
    ["/v1/completions", "/v1/embeddings", "/v1/messages/count_tokens", "/v1beta/models/gemini-2.5-pro:countTokens",
     "/v1beta/models/gemini-2.5-pro:streamGenerateContentX", "/metrics", ""],
)
def test_other_paths_are_not_served(path):
    assert for_path(path) is None


def test_every_protocol_is_registered_under_its_own_name_and_implements_the_seam():
    assert set(PROTOCOLS) == {"openai-chat", "openai-responses", "anthropic-messages", "gemini"}
    methods = ("request_model", "is_stream", "prepare_upstream", "usage", "stream_usage", "error_body", "error_event")
    for name, protocol in PROTOCOLS.items():
        assert protocol.name == name
        assert all(callable(getattr(protocol, m)) for m in methods)
        stream = protocol.stream_usage()
        assert callable(stream.feed) and stream.report().tokens is None  # a stream with no events has no usage
        assert protocol.stream_usage() is not stream  # one accumulator per stream


def test_public_api():
    assert sorted(providers.__all__) == sorted(
        ["PROTOCOLS", "ROUTES", "for_path", "SSEEvent", "SSEParser", "StreamUsage", "UsageReport", "WireProtocol"]
    )
