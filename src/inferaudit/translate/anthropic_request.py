"""An OpenAI Chat Completions request rewritten as an Anthropic Messages request.

The case this exists for: an OpenAI SDK client (or any tool that only
speaks Chat Completions) routed to Claude.

Mapped:

- ``system`` and ``developer`` messages, wherever they stand -> the top-level ``system``
  (Messages has no system turn mid-conversation);
- user text and ``image_url`` parts (a base64 ``data:`` URL -> a base64 source, else a url source);
- assistant ``content`` -> text blocks, ``tool_calls`` -> ``tool_use`` blocks (arguments parsed);
- ``role: tool`` messages -> ``tool_result`` blocks in a user turn; consecutive turns of one
  role are merged into one, which also puts a turn's tool results first, as Messages requires;
- ``tools`` (``function.parameters`` -> ``input_schema``), ``tool_choice`` (auto / required /
  function / none -> auto / any / tool / none), ``parallel_tool_calls: false`` ->
  ``disable_parallel_tool_use``;
- ``max_completion_tokens`` or ``max_tokens`` -> ``max_tokens`` (which Messages requires: a
  default fills it), ``stop`` -> ``stop_sequences``, ``user`` (or ``safety_identifier``) ->
  ``metadata.user_id``, ``stream``.

``temperature`` and ``top_p`` are dropped by default: newer Claude models answer 400 to any
sampling parameter, the anthropic SDK this project installs no longer offers them, and OpenAI
clients send them out of habit. ``sampling=True`` keeps them for older models that accept
them (temperature clamped to Anthropic's 0..1).

Dropped, having no Messages equivalent (the request goes on without them): ``n`` (one choice
comes back), ``presence_penalty``, ``frequency_penalty``, ``logit_bias``, ``logprobs``,
``top_logprobs``, ``seed``, ``response_format``, ``reasoning_effort``, ``verbosity``,
``service_tier``, ``store``, ``metadata``, ``prompt_cache_key``, ``modalities``, ``audio``,
``prediction``, ``web_search_options``, ``stream_options`` (kept by the stream translator,
which decides whether the client sees a usage chunk), message ``name`` fields, ``refusal``
parts' distinction (their text stays), ``input_audio`` and ``file`` parts, legacy
``functions`` / ``function_call`` / ``role: function``, and non-function tools.
"""

from __future__ import annotations

from typing import Any

from .common import arguments_object, listed, mapping, text

DROPPED = (
    "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "seed",
    "response_format", "reasoning_effort", "verbosity", "service_tier", "store", "metadata",
    "prompt_cache_key", "modalities", "audio", "prediction", "web_search_options", "stream_options",
    "functions", "function_call",
)
# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.request": (
        "model", "messages[].role", "messages[].content", "messages[].content[].type", "messages[].content[].text",
        "messages[].content[].refusal", "messages[].content[].image_url.url", "messages[].tool_call_id",
        "messages[].tool_calls[].type", "messages[].tool_calls[].id", "messages[].tool_calls[].function.name",
        "messages[].tool_calls[].function.arguments", "max_completion_tokens", "max_tokens", "stop", "user",
        "safety_identifier", "tools[].type", "tools[].function.name", "tools[].function.description",
        "tools[].function.parameters", "tools[].function.strict", "tool_choice", "tool_choice.type",
        "tool_choice.function.name", "parallel_tool_calls", "stream", "temperature", "top_p",
    ),
}
DEFAULT_MAX_TOKENS = 4096  # every Claude model can emit this many; a client that wants more says so


def anthropic_request(
    body: dict[str, Any], *, default_max_tokens: int = DEFAULT_MAX_TOKENS, sampling: bool = False
) -> dict[str, Any]:
    """The Messages request for a Chat Completions request ``body``."""
    system, messages = _split(listed(body.get("messages")))
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages, "max_tokens": _max_tokens(body, default_max_tokens)}
    if system:
        out["system"] = system[0] if len(system) == 1 else [{"type": "text", "text": s} for s in system]
    if sampling:
        out.update(_sampling(body))
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else [s for s in listed(stop) if isinstance(s, str)]
    if stop:
        out["stop_sequences"] = stop
    user = text(body.get("user")) or text(body.get("safety_identifier"))
    if user:
        out["metadata"] = {"user_id": user}
    tools = [_tool(mapping(t.get("function"))) for t in map(mapping, listed(body.get("tools"))) if t.get("type") == "function"]
    tools = [t for t in tools if t]
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice:
            out["tool_choice"] = choice
    if body.get("stream") is True:
        out["stream"] = True
    return out


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    temperature = body.get("temperature")
    if isinstance(temperature, (int, float)) and not isinstance(temperature, bool):
        out["temperature"] = min(max(float(temperature), 0.0), 1.0)
    if isinstance(body.get("top_p"), (int, float)) and not isinstance(body.get("top_p"), bool):
        out["top_p"] = body["top_p"]
    return out


def _max_tokens(body: dict[str, Any], default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return default


def _split(messages: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(system texts, turns): system-like messages lifted out, the rest merged into alternating turns."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in map(mapping, messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(t for t in _texts(message.get("content")) if t)
            continue
        if role == "tool":
            role, blocks = "user", [_tool_result(message)]
        elif role == "assistant":
            blocks = _assistant(message)
        elif role == "user":
            blocks = _user(message.get("content"))
        else:
            continue  # legacy "function" turns
        if not blocks:
            continue  # Messages rejects empty turns
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        content = turn["content"]
        if len(content) == 1 and content[0]["type"] == "text":
            turn["content"] = content[0]["text"]  # what clients themselves send for a plain turn
    return system, turns


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    parts = map(mapping, listed(content))
    return [p.get("text") or p.get("refusal") or "" for p in parts if p.get("type") in ("text", "refusal")]


def _user(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in map(mapping, listed(content)):
        if part.get("type") == "text" and text(part.get("text")):
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            image = _image(mapping(part.get("image_url")).get("url"))
            if image:
                blocks.append(image)
    return blocks


def _image(url: Any) -> dict[str, Any] | None:
    if not text(url):
        return None
    if url.startswith("data:"):
        head, _, data = url[5:].partition(",")
        media_type, _, encoding = head.partition(";")
        if encoding != "base64" or not data:
            return None
        return {"type": "image", "source": {"type": "base64", "media_type": media_type or "image/png", "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _assistant(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": t} for t in _texts(message.get("content")) if t]
    for call in map(mapping, listed(message.get("tool_calls"))):
        function = mapping(call.get("function"))
        if call.get("type", "function") == "function" and text(function.get("name")):
            blocks.append({"type": "tool_use", "id": call.get("id"), "name": function["name"],
                           "input": arguments_object(function.get("arguments"))})
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    result: Any = content if isinstance(content, str) else [{"type": "text", "text": t} for t in _texts(content) if t]
    return {"type": "tool_result", "tool_use_id": message.get("tool_call_id"), "content": result}


def _tool(function: dict[str, Any]) -> dict[str, Any] | None:
    if not text(function.get("name")):
        return None
    tool: dict[str, Any] = {"name": function["name"]}
    if text(function.get("description")):
        tool["description"] = function["description"]
    tool["input_schema"] = mapping(function.get("parameters")) or {"type": "object", "properties": {}}
    if isinstance(function.get("strict"), bool):
        tool["strict"] = function["strict"]
    return tool


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice == "none":
        return {"type": "none"}  # Messages' "none" takes no parallel flag
    if choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function" and text(mapping(choice.get("function")).get("name")):
        out = {"type": "tool", "name": choice["function"]["name"]}
    elif choice == "auto" or parallel is False:
        out = {"type": "auto"}
    else:
        return None  # absent, or "allowed_tools" / custom choices Messages cannot express
    if parallel is False:
        out["disable_parallel_tool_use"] = True
    return out
