"""An Anthropic Messages request rewritten as an OpenAI Chat Completions request.

The case this exists for: Claude Code (or any Anthropic SDK client) routed
to an OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama).

Mapped:

- ``system`` (string or text blocks, joined by a blank line) -> a leading ``system`` message;
- user text and images (base64 -> a ``data:`` URL, url -> url) -> content parts (one text -> a string);
- ``tool_result`` blocks -> ``role: tool`` messages with ``tool_call_id``, placed before the
  rest of that user turn, as OpenAI wants them right after the assistant's ``tool_calls``;
  images inside a tool result move to the user message after them (a tool message holds text only);
- assistant text -> ``content``; ``tool_use`` -> ``tool_calls`` with JSON-string arguments;
- ``tools`` (``input_schema`` -> ``function.parameters``), ``tool_choice`` (auto / any / tool / none
  -> auto / required / function / none; ``disable_parallel_tool_use`` -> ``parallel_tool_calls``);
- ``max_tokens`` -> ``max_tokens`` (or ``max_completion_tokens``, for OpenAI's own reasoning models),
  ``temperature``, ``top_p``, ``stop_sequences`` -> ``stop``, ``metadata.user_id`` -> ``user``,
  ``stream`` (a stream also asks for ``stream_options.include_usage``, so usage comes back).

Dropped, having no Chat Completions equivalent (the request goes on without them):
``cache_control`` everywhere, ``thinking`` and assistant ``thinking`` / ``redacted_thinking``
blocks, ``top_k`` (OpenAI itself rejects it), ``service_tier``, ``container``, ``mcp_servers``,
``context_management``, ``output_config`` / ``output_format``, ``inference_geo``, server tools
(``web_search_*``, ``bash_*``, ``code_execution_*``...) and their blocks, ``document`` and
``search_result`` blocks, image ``file`` sources, a tool result's ``is_error`` flag (its text stays).
"""

from __future__ import annotations

from typing import Any

from .common import dumps, listed, mapping, text

DROPPED = (
    "thinking", "top_k", "service_tier", "container", "mcp_servers", "context_management",
    "output_config", "output_format", "inference_geo",
)
# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
WRITES: dict[str, tuple[str, ...]] = {
    "chat.request": (
        "model", "messages[].role", "messages[].content", "messages[].content[].type", "messages[].content[].text",
        "messages[].content[].image_url.url", "messages[].tool_call_id", "messages[].tool_calls[].id",
        "messages[].tool_calls[].type", "messages[].tool_calls[].function.name",
        "messages[].tool_calls[].function.arguments", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "stop", "user", "tools[].type", "tools[].function.name", "tools[].function.description",
        "tools[].function.parameters.*", "tools[].function.strict", "tool_choice", "tool_choice.type",
        "tool_choice.function.name", "parallel_tool_calls", "stream", "stream_options.include_usage",
    ),
}
SYSTEM_JOIN = "\n\n"  # system blocks are separate prompts (Claude Code sends several)
TOOL_RESULT_JOIN = "\n\n"


def openai_request(body: dict[str, Any], *, max_tokens_field: str = "max_tokens") -> dict[str, Any]:
    """The Chat Completions request for an Anthropic Messages request ``body``."""
    out: dict[str, Any] = {"model": body.get("model"), "messages": _system(body.get("system")) + _messages(body.get("messages"))}
    if body.get("max_tokens") is not None:
        out[max_tokens_field] = body["max_tokens"]
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    stop = [s for s in listed(body.get("stop_sequences")) if isinstance(s, str)]
    if stop:
        out["stop"] = stop
    user = text(mapping(body.get("metadata")).get("user_id"))
    if user:
        out["user"] = user
    tools = [_tool(t) for t in map(mapping, listed(body.get("tools"))) if _is_client_tool(t)]
    if tools:
        out["tools"] = tools
        out.update(_tool_choice(mapping(body.get("tool_choice"))))
    if body.get("stream") is True:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    elif "stream" in body:
        out["stream"] = False
    return out


def _system(system: Any) -> list[dict[str, Any]]:
    if isinstance(system, str):
        return [{"role": "system", "content": system}] if system else []
    texts = [t for t in (text(mapping(b).get("text")) for b in listed(system)) if t]
    return [{"role": "system", "content": SYSTEM_JOIN.join(texts)}] if texts else []


def _messages(messages: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in map(mapping, listed(messages)):
        content = message.get("content")
        out.extend(_assistant(content) if message.get("role") == "assistant" else _user(content))
    return out


def _user(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    tool_messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in map(mapping, listed(content)):
        kind = block.get("type")
        if kind == "tool_result":
            result, images = _tool_result(block.get("content"))
            tool_messages.append({"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": result})
            parts.extend(images)
        elif kind == "text" and isinstance(block.get("text"), str):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            image = _image(block)
            if image:
                parts.append(image)
    if parts:
        single_text = len(parts) == 1 and parts[0]["type"] == "text"
        tool_messages.append({"role": "user", "content": parts[0]["text"] if single_text else parts})
    return tool_messages


def _tool_result(content: Any) -> tuple[str, list[dict[str, Any]]]:
    """A tool result's text, and the images it carried (which a tool message cannot hold)."""
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for block in map(mapping, listed(content)):
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "image":
            image = _image(block)
            if image:
                images.append(image)
    return TOOL_RESULT_JOIN.join(texts), images


def _image(block: dict[str, Any]) -> dict[str, Any] | None:
    source = mapping(block.get("source"))
    if source.get("type") == "base64" and text(source.get("data")):
        url = f"data:{source.get('media_type') or 'image/png'};base64,{source['data']}"
    elif source.get("type") == "url" and text(source.get("url")):
        url = source["url"]
    else:
        return None  # a Files API id has no meaning to another server
    return {"type": "image_url", "image_url": {"url": url}}


def _assistant(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "assistant", "content": content}]
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in map(mapping, listed(content)):
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            arguments = dumps(block["input"]) if isinstance(block.get("input"), dict) else "{}"
            calls.append({"id": block.get("id"), "type": "function",
                          "function": {"name": block.get("name"), "arguments": arguments}})
    if not texts and not calls:
        return []  # e.g. a turn of thinking only: nothing the upstream can read
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return [message]


def _is_client_tool(tool: dict[str, Any]) -> bool:
    """A tool the client runs (has an ``input_schema``); server tools run at Anthropic only."""
    return tool.get("type", "custom") in ("custom", None) and bool(text(tool.get("name")))


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool["name"]}
    if text(tool.get("description")):
        function["description"] = tool["description"]
    function["parameters"] = mapping(tool.get("input_schema")) or {"type": "object", "properties": {}}
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: dict[str, Any]) -> dict[str, Any]:
    kind = choice.get("type")
    out: dict[str, Any] = {}
    if kind in ("auto", "none"):
        out["tool_choice"] = kind
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool" and text(choice.get("name")):
        out["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    if choice.get("disable_parallel_tool_use") is True and kind != "none":
        out["parallel_tool_calls"] = False
    return out
