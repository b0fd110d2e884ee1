"""The translators: each a client protocol, an upstream protocol, and the modules that map them.

Both are small frozen objects with a knob or two, so a gateway can keep one
per route; per-request state lives only in the stream translators they make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .anthropic_events import AnthropicEvents
from .anthropic_request import DEFAULT_MAX_TOKENS, anthropic_request
from .common import client_error
from .openai_chunks import OpenAIChunks
from .openai_request import openai_request
from .responses import anthropic_message, openai_completion
from .responses_api import chat_request, responses_response
from .responses_events import ResponsesEvents


@dataclass(frozen=True)
class AnthropicToOpenAI:
    """An Anthropic Messages client (Claude Code) in front of an OpenAI-compatible server."""

    max_tokens_field: str = "max_tokens"
    """``max_tokens`` is what vLLM, llama.cpp and Ollama read; OpenAI's reasoning models want
    ``max_completion_tokens``."""

    source = "anthropic-messages"
    target = "openai-chat"
    upstream_path = "/v1/chat/completions"

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return openai_request(body, max_tokens_field=self.max_tokens_field)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return anthropic_message(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> AnthropicEvents:
        return AnthropicEvents(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)


@dataclass(frozen=True)
class OpenAIToAnthropic:
    """An OpenAI Chat Completions client in front of Anthropic Messages."""

    default_max_tokens: int = DEFAULT_MAX_TOKENS
    """Messages requires ``max_tokens``; this fills it when the client sent neither limit."""
    sampling: bool = False
    """Pass ``temperature`` / ``top_p`` on: only for older Claude models (current ones answer 400)."""

    source = "openai-chat"
    target = "anthropic-messages"
    upstream_path = "/v1/messages"

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return anthropic_request(body, default_max_tokens=self.default_max_tokens, sampling=self.sampling)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return openai_completion(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> OpenAIChunks:
        return OpenAIChunks(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)


@dataclass(frozen=True)
class ResponsesToChat:
    """An OpenAI Responses client (Codex CLI) in front of a Chat Completions server (vLLM, llama.cpp, Ollama)."""

    source = "openai-responses"
    target = "openai-chat"
    upstream_path = "/v1/chat/completions"

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return chat_request(body)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return responses_response(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> ResponsesEvents:
        return ResponsesEvents(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)
