"""An OpenAI Responses client (Codex CLI, the SDK's ``responses``) served by a Chat Completions upstream.

Most self-hosted servers (vLLM, llama.cpp, Ollama, SGLang) speak Chat
Completions only. The request maps as follows:

- ``instructions`` -> a leading ``system`` message; ``input`` (a string:
  one user message; a list of items): ``message`` items -> chat messages
  (``developer`` -> ``system``; ``input_text`` / ``output_text`` parts ->
  text, ``input_image`` -> an ``image_url`` part); consecutive
  ``function_call`` items -> one assistant message with ``tool_calls``
  (``call_id`` kept verbatim: the client names it again in its output);
  ``function_call_output`` -> a ``tool`` message; ``reasoning`` items are
  dropped (a chat server has nowhere to put them).
- ``tools`` of type ``function`` -> chat function tools; other tool types
  (hosted search, file search, computer use) cannot run on a chat server
  and are dropped. ``tool_choice``, ``parallel_tool_calls``,
  ``temperature``, ``top_p`` pass; ``max_output_tokens`` -> ``max_tokens``;
  ``text.format`` (JSON schema) -> ``response_format``.
- ``previous_response_id`` needs server-side state a chat server lacks: the
  request is refused (the client must send the whole conversation).

The answer becomes a ``response`` object: reasoning text (vLLM's
``reasoning_content``) as a ``reasoning`` item, the text as a ``message``
item with one ``output_text`` part, each tool call as a ``function_call``
item. ``finish_reason: length`` makes the response ``incomplete``. Usage
keeps OpenAI's convention on both sides (cached tokens are inside the
input count), renamed.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .base import TranslationError
from .common import ERROR_READS, count, error_message, listed, mapping, text

READS: dict[str, tuple[str, ...]] = {
    "responses.request": (
        "model", "instructions", "input", "input[].type", "input[].role", "input[].content", "input[].content[].type",
        "input[].content[].text", "input[].content[].image_url", "input[].call_id", "input[].name",
        "input[].arguments", "input[].output", "tools[].type", "tools[].name", "tools[].description",
        "tools[].parameters", "tools[].strict", "tool_choice", "tool_choice.name", "parallel_tool_calls",
        "temperature", "top_p", "max_output_tokens", "stream", "text.format.type", "text.format.name",
        "text.format.schema", "text.format.strict", "previous_response_id", "user",
    ),
    "chat.response": (
        "id", "model", "usage", *ERROR_READS, "choices[].message.content", "choices[].message.reasoning_content",
        "choices[].message.reasoning", "choices[].message.tool_calls[].id",
        "choices[].message.tool_calls[].function.name", "choices[].message.tool_calls[].function.arguments",
        "choices[].finish_reason",
    ),
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.request": (
        "model", "messages[].role", "messages[].content", "messages[].tool_calls[].id", "messages[].tool_calls[].type",
        "messages[].tool_calls[].function.name", "messages[].tool_calls[].function.arguments",
        "messages[].tool_call_id", "tools[].type", "tools[].function.name", "tools[].function.description",
        "tools[].function.parameters", "tools[].function.strict", "tool_choice", "parallel_tool_calls",
        "temperature", "top_p", "max_tokens", "stream", "stream_options.include_usage", "response_format", "user",
    ),
    "responses.response": (
        "id", "object", "created_at", "status", "model", "output[].type", "output[].id", "output[].status",
        "output[].role", "output[].content[].type", "output[].content[].text", "output[].content[].annotations",
        "output[].summary[].type", "output[].summary[].text", "output[].call_id", "output[].name",
        "output[].arguments", "usage", "incomplete_details", "error", "parallel_tool_calls", "tool_choice", "tools",
    ),
}

_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_PASS = ("tool_choice", "parallel_tool_calls", "temperature", "top_p", "user")


def chat_request(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses request as a Chat Completions request."""
    if body.get("previous_response_id"):
        raise TranslationError("previous_response_id needs a Responses server; this route's upstream speaks Chat "
                               "Completions: send the whole conversation as input instead")
    messages: list[dict[str, Any]] = []
    if text(body.get("instructions")):
        messages.append({"role": "system", "content": body["instructions"]})
    given = body.get("input")
    items = [{"type": "message", "role": "user", "content": given}] if isinstance(given, str) else listed(given)
    for item in map(mapping, items):
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            messages.append({"role": _ROLES.get(item.get("role"), "user"), "content": _content(item.get("content"))})
        elif kind == "function_call":
            call = {"id": text(item.get("call_id")) or f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                    "function": {"name": text(item.get("name")) or "", "arguments": item.get("arguments") or "{}"}}
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append({"role": "tool", "tool_call_id": text(item.get("call_id")) or "",
                             "content": output if isinstance(output, str) else _content(output)})
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    tools = [_tool(t) for t in map(mapping, listed(body.get("tools"))) if t.get("type") == "function"]
    if tools:
        out["tools"] = tools
    for name in _PASS:
        if body.get(name) is not None:
            out[name] = body[name]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        out["tool_choice"] = {"type": "function", "function": {"name": text(choice.get("name")) or ""}}
    if count(body.get("max_output_tokens")):
        out["max_tokens"] = body["max_output_tokens"]
    fmt = mapping(mapping(body.get("text")).get("format"))
    if fmt.get("type") == "json_schema":
        schema = {"name": text(fmt.get("name")) or "output", "schema": mapping(fmt.get("schema"))}
        if isinstance(fmt.get("strict"), bool):
            schema["strict"] = fmt["strict"]
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif fmt.get("type") == "json_object":
        out["response_format"] = {"type": "json_object"}
    if body.get("stream") is True:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _content(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts = []
    for part in map(mapping, listed(content)):
        if part.get("type") in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "input_image" and text(part.get("image_url")):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = {"name": text(tool.get("name")) or "", "parameters": mapping(tool.get("parameters")) or {"type": "object"}}
    if text(tool.get("description")):
        function["description"] = tool["description"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def response_id(upstream_id: Any) -> str:
    core = text(upstream_id) or uuid.uuid4().hex
    return "resp_" + core.removeprefix("chatcmpl-")


def responses_usage(usage: Any) -> dict[str, Any]:
    """Chat usage as Responses usage: the same convention (cached inside input), other names."""
    usage = mapping(usage)
    prompt, output = count(usage.get("prompt_tokens")), count(usage.get("completion_tokens"))
    cached = count(mapping(usage.get("prompt_tokens_details")).get("cached_tokens"))
    reasoning = count(mapping(usage.get("completion_tokens_details")).get("reasoning_tokens"))
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": prompt + output}


def response_object(rid: str, model: str, output: list[dict[str, Any]], usage: dict[str, Any] | None,
                    finish: Any, request: dict[str, Any] | None, created: int | None = None) -> dict[str, Any]:
    request = mapping(request)
    incomplete = finish == "length"
    return {
        "id": rid, "object": "response", "created_at": created or int(time.time()),
        "status": "incomplete" if incomplete else "completed", "model": model, "output": output,
        "usage": usage, "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None, "error": None,
        "parallel_tool_calls": request.get("parallel_tool_calls", True), "tool_choice": request.get("tool_choice", "auto"),
        "tools": listed(request.get("tools")), "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"), "temperature": request.get("temperature"),
        "top_p": request.get("top_p"), "text": {"format": {"type": "text"}}, "metadata": {},
    }


def message_item(item_id: str, said: str, status: str = "completed") -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": said, "annotations": []}]}


def reasoning_item(item_id: str, thought: str) -> dict[str, Any]:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": thought}]}


def call_item(item_id: str, call_id: str, name: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": name,
            "arguments": arguments}


def responses_response(body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole Chat Completion as a Responses ``response``."""
    choices = [mapping(c) for c in listed(body.get("choices"))]
    if not choices:
        raise TranslationError("upstream answer has no choices: " + error_message(body))
    choice = choices[0]
    message = mapping(choice.get("message"))
    core = response_id(body.get("id"))[5:]
    output: list[dict[str, Any]] = []
    thought = text(message.get("reasoning_content")) or text(message.get("reasoning"))
    if thought:
        output.append(reasoning_item(f"rs_{core}", thought))
    content = message.get("content")
    said = content if isinstance(content, str) else "".join(
        p.get("text") for p in map(mapping, listed(content)) if isinstance(p.get("text"), str))
    if said or not message.get("tool_calls"):
        output.append(message_item(f"msg_{core}", said or ""))
    for i, call in enumerate(map(mapping, listed(message.get("tool_calls")))):
        function = mapping(call.get("function"))
        arguments = function.get("arguments")
        output.append(call_item(f"fc_{core}_{i}", text(call.get("id")) or f"call_{core}_{i}",
                                text(function.get("name")) or "", arguments if isinstance(arguments, str) else "{}"))
    model = text(body.get("model")) or text(mapping(request).get("model")) or ""
    return response_object(response_id(body.get("id")), model, output, responses_usage(body.get("usage")),
                           choice.get("finish_reason"), request)
