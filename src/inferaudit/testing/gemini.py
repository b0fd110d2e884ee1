"""Gemini ``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent``.

Shapes follow Google's reference for ``GenerateContentResponse`` and
``UsageMetadata`` (``promptTokenCount`` includes ``cachedContentTokenCount``;
``thoughtsTokenCount`` is beside ``candidatesTokenCount``, and
``totalTokenCount`` adds them up) and real responses quoted in public code
and posts: key order (``candidates``, ``usageMetadata``, ``modelVersion``,
``responseId``; usage keys in proto order), JSON bodies indented by two
spaces, SSE chunks in Google's one-line ``{"a": 1,"b": 2}`` style framed by
``\\r\\n\\r\\n`` with no end sentinel, usage repeated on every chunk as a
running total, ``finishReason`` on the last chunk. Without ``alt=sse`` the
stream is a JSON array, as the API sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..usage import Tokens
from .scenario import Scenario, ToolSpec
from .wire import BadRequest, Prepared, RequestView, body_of, indented, slot, spaced, sse, stream_of

JSON = "application/json; charset=UTF-8"
SSE = "text/event-stream"
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {429: "Resource has been exhausted (e.g. check quota).",
             500: "An internal error has occurred. Please retry or report in "
                  "https://developers.generativeai.google/guide/troubleshooting",
             503: "The model is overloaded. Please try again later."}
_PIECES_PER_CHUNK = 4  # Gemini streams several tokens per chunk


def gemini_error(status: int, message: str) -> tuple[bytes, str]:
    state = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    body = {"error": {"code": status, "message": message or _MESSAGES.get(status, state), "status": state}}
    return indented(body) + b"\n", JSON


def usage_metadata(t: Tokens, candidates: int) -> dict[str, Any]:
    u: dict[str, Any] = {"promptTokenCount": t.prompt}
    if candidates:
        u["candidatesTokenCount"] = candidates
    u["totalTokenCount"] = t.prompt + candidates + t.reasoning
    if t.cache_read:
        u["cachedContentTokenCount"] = t.cache_read
    u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": t.prompt}]
    if t.cache_read:
        u["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": t.cache_read}]
    if t.reasoning:
        u["thoughtsTokenCount"] = t.reasoning
    return u


def _tools(body: dict[str, Any]) -> list[ToolSpec]:
    found = []
    for tool in body.get("tools") or ():
        if not isinstance(tool, dict):
            continue
        for fn in tool.get("functionDeclarations") or tool.get("function_declarations") or ():
            props = (fn.get("parameters") or fn.get("parametersJsonSchema") or {}).get("properties") or {}
            found.append(ToolSpec(str(fn.get("name")), tuple(props)))
    return found


class Gemini:
    name = "gemini"
    request_id_header = ""

    def check(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        if not headers.get("x-goog-api-key") and not query.get("key"):
            raise BadRequest("Method doesn't allow unregistered callers (callers without established identity). "
                             "Please use API Key or other form of API consumer identity to call this API.", 403)

    def error(self, status: int, message: str, request_id: str = "") -> tuple[bytes, str]:
        return gemini_error(status, message)

    def stream_error(self, status: int = 500, message: str = "") -> bytes:
        """A failure after the 200: the same error object, as one ``data:`` line of the SSE stream."""
        state = _STATUS.get(status, "INTERNAL")
        body = {"error": {"code": status, "message": message or _MESSAGES.get(status, state), "status": state}}
        return sse(spaced(body), end=b"\r\n\r\n")

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView:
        model, _, method = match.get("target", "").partition(":")
        if method not in ("generateContent", "streamGenerateContent"):
            raise BadRequest(f"Method not found: {method or '(none)'}.", 404)
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
        tools = _tools(body)
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
        last = contents[-1] if isinstance(contents[-1], dict) else {}
        answered = any(isinstance(p, dict) and "functionResponse" in p for p in last.get("parts") or ())
        wants = bool(tools) and mode != "NONE" and not answered
        prompt = [body.get("systemInstruction"), contents, body.get("tools")]
        return RequestView(model, method == "streamGenerateContent", prompt, tools, wants, body, query)

    def prepare(self, view: RequestView, s: Scenario) -> Prepared:
        if s.usage.cache_write:
            raise BadRequest("x-emulator-usage: Gemini reports no cache writes")
        if not view.stream:
            body = indented(_chunk(view, s, _parts(s, s.pieces), s.usage.output - s.usage.reasoning, True))
            return body_of(JSON, s, "gresp", body + b"\n", s.usage)
        sse_framing = view.query.get("alt") == "sse"
        events: list[tuple[bytes, Tokens | None]] = []
        step = _PIECES_PER_CHUNK
        groups = [s.pieces[i : i + step] for i in range(0, len(s.pieces), step)] or [()]
        seen = 0
        for n, group in enumerate(groups):
            last = n == len(groups) - 1
            seen = s.usage.output - s.usage.reasoning if last else seen + len(group)
            chunk = _chunk(view, s, _parts(s, group), seen, last)
            running = Tokens(s.usage.input, s.usage.cache_read, output=seen + s.usage.reasoning,
                             reasoning=s.usage.reasoning)
            if sse_framing:
                events.append((sse(spaced(chunk), end=b"\r\n\r\n"), running))
            else:
                data = indented(chunk)
                events.append(((b"[" if n == 0 else b",\r\n") + data + (b"\n]" if last else b"\n"), running))
        return stream_of(SSE if sse_framing else JSON, s, "gresp", events)


def _parts(s: Scenario, pieces: tuple[str, ...]) -> list[dict[str, Any]]:
    if s.tool_call:
        return [{"functionCall": {"name": s.tool_call.name, "args": json.loads(s.tool_call.arguments)}}]
    return [{"text": "".join(pieces)}]


def _chunk(view: RequestView, s: Scenario, parts: list[dict[str, Any]], candidates: int, last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if last:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    return {"candidates": [candidate], "usageMetadata": usage_metadata(s.usage, candidates),
            "modelVersion": view.model, "responseId": slot("gresp")}
