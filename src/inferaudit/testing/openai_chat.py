"""OpenAI Chat Completions (``POST /v1/chat/completions``), JSON and SSE, plus ``GET /v1/models``.

Shapes follow OpenAI's published OpenAPI document (2026-08-21: chat
completion object, chunk object with ``obfuscation``, ``stream_options``)
and streams recorded from the real API in public test fixtures (tool-call
deltas, ``"usage":null`` on every chunk under ``include_usage``, the final
``"choices":[]`` usage chunk, ``data: [DONE]``). JSON bodies are indented
by two spaces, errors by four, chunks compact, as the API sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..usage import Tokens
from .scenario import Scenario, ToolSpec
from .wire import BadRequest, Prepared, RequestView, body_of, compact, indented, number_slot, slot, sse, stream_of

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"

_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "You didn't provide an API key."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


def openai_error(status: int, message: str | None = None) -> tuple[bytes, str]:
    kind, code, default = _ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, ""))
    body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    return indented(body, indent=4) + b"\n", JSON


def check_bearer(headers: Mapping[str, str]) -> None:
    if not headers.get("authorization", "").startswith("Bearer "):
        raise BadRequest("You didn't provide an API key. You need to provide your API key in an Authorization "
                         "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 401)


def chat_usage(t: Tokens) -> dict[str, Any]:
    prompt_details: dict[str, int] = {"cached_tokens": t.cache_read, "audio_tokens": 0}
    if t.cache_write:
        prompt_details["cache_write_tokens"] = t.cache_write
    return {
        "prompt_tokens": t.prompt,
        "completion_tokens": t.output,
        "total_tokens": t.prompt + t.output,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": t.reasoning, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    }


def function_tools(tools: Any, nested: bool) -> list[ToolSpec]:
    """Function tools of a chat (``{"function": {...}}``) or responses (flat) request."""
    found = []
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and tool.get("type") == "function":
            spec = tool.get("function", {}) if nested else tool
            props = (spec.get("parameters") or {}).get("properties") or {}
            found.append(ToolSpec(str(spec.get("name")), tuple(props)))
    return found


def obfuscation(scenario: Scenario, index: int) -> str:
    """Padding that varies chunk lengths, as the API's ``obfuscation`` field does."""
    return (scenario.fingerprint * 3)[: (index * 7 + len(scenario.fingerprint)) % 13]


class OpenAIWire:
    """What OpenAI's two formats share: bearer auth, ``x-request-id``, the ``{"error": ...}`` body."""

    request_id_header = "x-request-id"

    def check(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        check_bearer(headers)

    def error(self, status: int, message: str, request_id: str = "") -> tuple[bytes, str]:
        return openai_error(status, message)


class OpenAIChat(OpenAIWire):
    name = "openai-chat"

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView:
        messages = body.get("messages")
        if not body.get("model") or not isinstance(messages, list) or not messages:
            raise BadRequest("'model' and a non-empty 'messages' array are required.")
        tools = function_tools(body.get("tools"), nested=True)
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        wants = bool(tools) and body.get("tool_choice") != "none" and last.get("role") != "tool"
        return RequestView(str(body["model"]), bool(body.get("stream")), [messages, body.get("tools")], tools, wants, body)

    def prepare(self, view: RequestView, scenario: Scenario) -> Prepared:
        return self._stream(view, scenario) if view.stream else self._json(view, scenario)

    def _json(self, view: RequestView, s: Scenario) -> Prepared:
        message: dict[str, Any] = {"role": "assistant", "content": s.text if s.pieces else None}
        if s.tool_call:
            message["tool_calls"] = [{
                "id": "call_" + slot("call"), "type": "function",
                "function": {"name": s.tool_call.name, "arguments": s.tool_call.arguments},
            }]
        message.update(refusal=None, annotations=[])
        body = {
            "id": "chatcmpl-" + slot("chatcmpl"), "object": "chat.completion", "created": number_slot("created"),
            "model": view.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if s.tool_call else "stop"}],
            "usage": chat_usage(s.usage), "service_tier": "default", "system_fingerprint": "fp_" + s.fingerprint,
        }
        return body_of(JSON, s, "chatcmpl", indented(body) + b"\n", s.usage)

    def _stream(self, view: RequestView, s: Scenario) -> Prepared:
        options = view.body.get("stream_options") or {}
        with_usage = bool(options.get("include_usage"))
        obfuscate = options.get("include_obfuscation", True) is not False
        head = {"id": "chatcmpl-" + slot("chatcmpl"), "object": "chat.completion.chunk",
                "created": number_slot("created"), "model": view.model, "service_tier": "default",
                "system_fingerprint": "fp_" + s.fingerprint}
        chunks: list[tuple[bytes, Tokens | None]] = []

        def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None, sent: Tokens | None = None) -> None:
            obj = dict(head, choices=choices)
            if with_usage:
                obj["usage"] = usage
            if obfuscate:
                obj["obfuscation"] = obfuscation(s, len(chunks))
            chunks.append((sse(compact(obj)), sent))

        def delta(d: dict[str, Any], finish: str | None = None) -> None:
            chunk([{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}])

        call = s.tool_call
        if call:
            delta({"role": "assistant", "content": None, "tool_calls": [{
                "index": 0, "id": "call_" + slot("call"), "type": "function",
                "function": {"name": call.name, "arguments": ""}}], "refusal": None})
            for piece in call.pieces:
                delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        else:
            delta({"role": "assistant", "content": "", "refusal": None})
            for piece in s.pieces:
                delta({"content": piece})
        delta({}, "tool_calls" if call else "stop")
        if with_usage:
            chunk([], chat_usage(s.usage), s.usage)
        chunks.append((sse(b"[DONE]"), None))
        return stream_of(SSE, s, "chatcmpl", chunks)


_MODEL_CREATED = {"gpt-4o-mini": 1721172741, "gpt-4o": 1715367049, "gpt-4.1": 1744316542, "gpt-5": 1754425777}


def models_body(models: list[str]) -> bytes:
    data = [{"id": m, "object": "model", "created": _MODEL_CREATED.get(m, 1700000000), "owned_by": "system"}
            for m in models]
    return indented({"object": "list", "data": data}) + b"\n"
