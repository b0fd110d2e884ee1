"""The translators: each a client protocol, an upstream protocol, and the modules that map them.

Each is a small frozen object with a knob or two, so a gateway can keep one
per route; per-request state lives only in the stream translators they make.
Pairs that go through the chat hub (Claude Code on Gemini) are built from
two of these by :class:`~.chain.Chain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .anthropic_events import AnthropicEvents
from .anthropic_request import DEFAULT_MAX_TOKENS, anthropic_request
from .chat_to_responses_answer import chat_completion as responses_chat_completion
from .chat_to_responses_chunks import ResponsesChunks
from .chat_to_responses_request import responses_request
from .common import client_error
from .gemini_answer import chat_completion
from .gemini_chunks import GeminiChunks
from .gemini_request import gemini_request
from .openai_chunks import OpenAIChunks
from .openai_request import openai_request
from .responses import anthropic_message, openai_completion
from .responses_api import chat_request, responses_response
from .responses_events import ResponsesEvents

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class AnthropicToOpenAI:
    """An Anthropic Messages client (Claude Code) in front of an OpenAI-compatible server."""

    max_tokens_field: str = "max_tokens"
    """``max_tokens`` is what vLLM, llama.cpp and Ollama read; OpenAI's reasoning models want
    ``max_completion_tokens``."""

    source = "anthropic-messages"
    target = "openai-chat"

    def upstream_path(self, model: str, stream: bool) -> str:
        return CHAT_PATH

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

    def upstream_path(self, model: str, stream: bool) -> str:
        return "/v1/messages"

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

    def upstream_path(self, model: str, stream: bool) -> str:
        return CHAT_PATH

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return chat_request(body)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return responses_response(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> ResponsesEvents:
        return ResponsesEvents(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)


@dataclass(frozen=True)
class ChatToGemini:
    """An OpenAI Chat Completions client in front of Gemini (Google AI's ``generateContent``)."""

    api_version: str = "v1beta"
    """The path's version segment: ``v1beta`` has every field this translator sends
    (``parametersJsonSchema``, ``responseJsonSchema``, ``thinkingConfig``)."""

    source = "openai-chat"
    target = "gemini"

    def upstream_path(self, model: str, stream: bool) -> str:
        """``/v1beta/models/{model}:generateContent``, or ``:streamGenerateContent?alt=sse`` (SSE, not a JSON array)."""
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/{self.api_version}/models/{quote(model.removeprefix('models/'), safe='')}:{method}"

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return gemini_request(body)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return chat_completion(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> GeminiChunks:
        return GeminiChunks(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)


@dataclass(frozen=True)
class ChatToResponses:
    """An OpenAI Chat Completions client in front of OpenAI Responses (models served only on ``/v1/responses``)."""

    source = "openai-chat"
    target = "openai-responses"

    def upstream_path(self, model: str, stream: bool) -> str:
        return "/v1/responses"

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return responses_request(body)

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return responses_chat_completion(body, request)

    def stream(self, request: dict[str, Any] | None = None) -> ResponsesChunks:
        return ResponsesChunks(request)

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return client_error(self.source, status, body)
