"""An OpenAI Chat Completions request rewritten as an OpenAI Responses request.

The case this exists for: an app on the Chat Completions API (the OpenAI SDK's
``chat.completions``; through the chat hub, Claude Code) reaching a model that
OpenAI serves only on ``/v1/responses`` (o3-pro, the codex models). Each
request is stateless, as a chat request is: the whole conversation goes up
as ``input`` every turn, and nothing refers to a stored response.

Mapped (each field checked against OpenAI's spec, ``drift/specs/openai``):

- the first message, when it is ``system`` or ``developer`` -> ``instructions``; any later one ->
  a ``message`` input item with its own role, where it stood;
- user text -> ``input_text``; ``image_url`` -> ``input_image`` (``detail`` is required there: ``auto``
  unless the client named one); ``file`` -> ``input_file`` (``file_data``, ``file_id``, ``filename``);
- assistant text -> an assistant ``message`` item of ``output_text`` parts (``refusal`` -> a ``refusal``
  part), then one ``function_call`` item per tool call (``call_id`` = the call's id, verbatim: the
  client names it again in its tool message);
- ``role: tool`` -> ``function_call_output`` (``call_id`` = ``tool_call_id``; text parts joined);
- ``tools`` -> Responses' flat function tools; ``strict`` is always sent, false unless the client said
  true: Responses defaults it to *true*, and would then refuse schemas written for non-strict chat;
- ``tool_choice`` none / auto / required pass, a named function -> ``{"type": "function", "name"}``,
  ``allowed_tools`` -> Responses' flat ``allowed_tools``; ``parallel_tool_calls`` passes;
- ``max_completion_tokens`` (else ``max_tokens``) -> ``max_output_tokens``, raised to 16 when lower
  (Responses' minimum: Claude Code's start-up quota probe asks for 1 token, and would fail at every
  start); ``temperature``, ``top_p``;
- ``response_format`` json_object / json_schema -> ``text.format`` (the json_schema's ``name``,
  ``description``, ``schema``, ``strict`` flattened into it); ``verbosity`` -> ``text.verbosity``;
- ``reasoning_effort`` -> ``reasoning.effort``;
- ``logprobs`` -> ``include: ["message.output_text.logprobs"]``; ``top_logprobs`` passes;
- ``user``, ``safety_identifier``, ``prompt_cache_key``, ``prompt_cache_retention``, ``metadata``,
  ``service_tier`` pass; ``store`` passes, and is sent as false when the client left it out (chat's
  default is not to store; Responses' is to store);
- ``stream`` passes. ``stream_options.include_usage`` is read by the stream translator only: a
  Responses stream always ends with its usage, and the client sees a usage chunk only if it asked.

Refused with :class:`~.base.TranslationError` (the client gets its 400 and the upstream is never
called), because Responses cannot express them and the answer would differ from what was asked:
``n`` above 1, ``logit_bias``, ``audio`` and audio ``modalities``, ``stop`` (Responses has no stop
sequences), ``presence_penalty`` / ``frequency_penalty`` other than 0, ``web_search_options``, legacy
``functions`` / ``function_call`` / ``role: function``, custom (non-function) tools, tool calls and
tool choices, ``input_audio`` parts, an assistant ``audio`` reference, a token limit that is not a
positive integer, unknown roles, content parts and top-level fields.

Dropped (the request goes on without them): ``seed`` (deprecated, best effort only),
``prediction`` (a latency hint), ``stream_options``, message ``name`` fields.
"""

from __future__ import annotations

from typing import Any

from .base import TranslationError
from .common import count, listed, mapping, refuse_chat_fields, text

DROPPED = ("seed", "prediction", "stream_options")
PASSED = ("temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier", "prompt_cache_key",
          "prompt_cache_retention", "metadata", "service_tier", "top_logprobs")
# top-level fields read below; every other one is refused
MAPPED = (
    "model", "messages", "stream", "store", "max_completion_tokens", "max_tokens", "tools", "tool_choice",
    "response_format", "verbosity", "reasoning_effort", "logprobs", "n", "logit_bias", "modalities", "stop",
    "presence_penalty", "frequency_penalty", *PASSED,
)
LOGPROBS_INCLUDE = "message.output_text.logprobs"
MIN_OUTPUT_TOKENS = 16  # CreateResponse.max_output_tokens: minimum 16
# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# and tests/translate/test_chat_to_responses_fields.py fail when the code touches a path not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.request": (
        "model", "messages[].role", "messages[].content", "messages[].content[].type", "messages[].content[].text",
        "messages[].content[].refusal", "messages[].content[].image_url.url", "messages[].content[].image_url.detail",
        "messages[].content[].file.file_data", "messages[].content[].file.file_id",
        "messages[].content[].file.filename", "messages[].refusal", "messages[].audio", "messages[].function_call",
        "messages[].tool_call_id", "messages[].tool_calls[].type", "messages[].tool_calls[].id",
        "messages[].tool_calls[].function.name", "messages[].tool_calls[].function.arguments", "stream", "store",
        "max_completion_tokens", "max_tokens", "temperature", "top_p", "parallel_tool_calls", "user",
        "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "metadata", "service_tier", "logprobs",
        "top_logprobs", "response_format.type", "response_format.json_schema.name",
        "response_format.json_schema.description", "response_format.json_schema.schema",
        "response_format.json_schema.strict", "verbosity", "reasoning_effort", "tools[].type",
        "tools[].function.name", "tools[].function.description", "tools[].function.parameters",
        "tools[].function.strict", "tool_choice", "tool_choice.type", "tool_choice.function.name",
        "tool_choice.allowed_tools.mode", "tool_choice.allowed_tools.tools[].type",
        "tool_choice.allowed_tools.tools[].function.name", "n", "logit_bias", "modalities", "audio", "stop",
        "presence_penalty", "frequency_penalty", "web_search_options", "functions", "function_call",
    ),
}
WRITES: dict[str, tuple[str, ...]] = {
    "responses.request": (
        "model", "instructions", "input", "input[].type", "input[].role", "input[].content",
        "input[].content[].type", "input[].content[].text", "input[].content[].refusal",
        "input[].content[].image_url", "input[].content[].detail", "input[].content[].file_data",
        "input[].content[].file_id", "input[].content[].filename", "input[].call_id", "input[].name",
        "input[].arguments", "input[].output", "tools[].type", "tools[].name", "tools[].description",
        "tools[].parameters", "tools[].parameters.*", "tools[].strict", "tool_choice", "tool_choice.type",
        "tool_choice.name", "tool_choice.mode", "tool_choice.tools[].type", "tool_choice.tools[].name",
        "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "text.format", "text.format.type",
        "text.format.name", "text.format.description", "text.format.schema", "text.format.schema.*",
        "text.format.strict", "text.verbosity", "reasoning.effort", "include", "top_logprobs", "user",
        "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "metadata", "metadata.*", "service_tier",
        "store", "stream",
    ),
}

_REFUSED_WHEN_SET = {
    "audio": "audio output", "web_search_options": "chat web search (Responses' web_search is a different tool)",
    "functions": "legacy functions (send tools)", "function_call": "legacy function_call (send tool_choice)",
}


def responses_request(body: dict[str, Any]) -> dict[str, Any]:
    """The ``/v1/responses`` body for a Chat Completions request ``body``."""
    _refuse_unsupported(body)
    instructions, items = _input(listed(body.get("messages")))
    out: dict[str, Any] = {"model": body.get("model")}
    if instructions is not None:
        out["instructions"] = instructions
    out["input"] = items
    tools = [_tool(mapping(t), i) for i, t in enumerate(listed(body.get("tools")))]
    if tools:
        out["tools"] = tools
    if body.get("tool_choice") is not None:
        out["tool_choice"] = _tool_choice(body["tool_choice"])
    for name in PASSED:
        if body.get(name) is not None:
            out[name] = body[name]
    limit = body.get("max_completion_tokens") if body.get("max_completion_tokens") is not None else body.get("max_tokens")
    if limit is not None:
        if not count(limit):
            raise TranslationError(f"max_completion_tokens / max_tokens: {limit!r} is not a positive token count")
        out["max_output_tokens"] = max(limit, MIN_OUTPUT_TOKENS)
    text_config = _text_config(body)
    if text_config:
        out["text"] = text_config
    if body.get("reasoning_effort") is not None:
        out["reasoning"] = {"effort": body["reasoning_effort"]}
    if body.get("logprobs") is True:
        out["include"] = [LOGPROBS_INCLUDE]
    out["store"] = body.get("store") is True  # chat stores nothing unless asked; Responses would by default
    if body.get("stream") is not None:
        out["stream"] = body["stream"] is True
    return out


def _refuse_unsupported(body: dict[str, Any]) -> None:
    refuse_chat_fields(body, set(MAPPED) | set(DROPPED), _REFUSED_WHEN_SET, to="a Responses upstream",
                       on="a Responses upstream", name="Responses")
    if count(body.get("n")) > 1:
        raise TranslationError("n: Responses answers with one choice; send n requests instead")
    stop = body.get("stop")
    if stop is not None and stop != [] and stop != "":
        raise TranslationError("stop: Responses has no stop sequences")
    for name in ("presence_penalty", "frequency_penalty"):
        if body.get(name) not in (None, 0, 0.0):
            raise TranslationError(f"{name}: Responses has no {name.replace('_', ' ')}")


# -- messages ------------------------------------------------------------------------


def _input(messages: list[Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """(instructions, input items): a leading system or developer message becomes the instructions."""
    instructions: str | None = None
    items: list[dict[str, Any]] = []
    for position, message in enumerate(map(mapping, messages)):
        role, where = message.get("role"), f"messages[{position}]"
        if role in ("system", "developer"):
            said = "".join(_texts(message.get("content"), where))
            if position == 0:
                instructions = said
            else:
                items.append({"type": "message", "role": role, "content": said})
        elif role == "user":
            items.append({"type": "message", "role": "user", "content": _user(message.get("content"), where)})
        elif role == "assistant":
            items.extend(_assistant(message, where))
        elif role == "tool":
            items.append(_tool_output(message, where))
        else:
            raise TranslationError(f"{where}.role: {role!r} messages cannot be sent to a Responses upstream")
    return instructions, items


def _texts(content: Any, where: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts = []
    for i, part in enumerate(map(mapping, listed(content))):
        if part.get("type") != "text":
            raise TranslationError(f"{where}.content[{i}]: only text can go into this message on a Responses upstream")
        texts.append(part.get("text") or "")
    return texts


def _user(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(map(mapping, listed(content))):
        kind, at = part.get("type"), f"{where}.content[{i}]"
        if kind == "text":
            parts.append({"type": "input_text", "text": part.get("text") or ""})
        elif kind == "image_url":
            image = mapping(part.get("image_url"))
            if not text(image.get("url")):
                raise TranslationError(f"{at}.image_url.url: an image needs a URL")
            parts.append({"type": "input_image", "image_url": image["url"], "detail": text(image.get("detail")) or "auto"})
        elif kind == "file":
            parts.append(_file(mapping(part.get("file")), at))
        else:
            raise TranslationError(f"{at}.type: {kind!r} parts cannot be sent to a Responses upstream")
    return parts


def _file(file: dict[str, Any], at: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "input_file"}
    for key in ("file_data", "file_id", "filename"):
        if text(file.get(key)):
            out[key] = file[key]
    if "file_data" not in out and "file_id" not in out:
        raise TranslationError(f"{at}.file: needs file_data or file_id")
    return out


def _assistant(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    if message.get("audio") is not None:
        raise TranslationError(f"{where}.audio: an earlier audio answer cannot be replayed to a Responses upstream")
    if message.get("function_call") is not None:
        raise TranslationError(f"{where}.function_call: legacy function calls cannot be sent; use tool_calls")
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if isinstance(content, str):
        if content:
            parts.append({"type": "output_text", "text": content})
    else:
        for i, part in enumerate(map(mapping, listed(content))):
            if part.get("type") == "text":
                parts.append({"type": "output_text", "text": part.get("text") or ""})
            elif part.get("type") == "refusal":
                parts.append({"type": "refusal", "refusal": part.get("refusal") or ""})
            else:
                raise TranslationError(f"{where}.content[{i}]: only text and refusal parts can be replayed")
    if not parts and text(message.get("refusal")):
        parts.append({"type": "refusal", "refusal": message["refusal"]})
    items = [{"type": "message", "role": "assistant", "content": parts}] if parts else []
    for i, call in enumerate(map(mapping, listed(message.get("tool_calls")))):
        function = mapping(call.get("function"))
        if call.get("type", "function") != "function" or not text(function.get("name")) or not text(call.get("id")):
            raise TranslationError(f"{where}.tool_calls[{i}]: only function calls with an id and a name can be "
                                   "sent to a Responses upstream")
        arguments = function.get("arguments")
        items.append({"type": "function_call", "call_id": call["id"], "name": function["name"],
                      "arguments": arguments if isinstance(arguments, str) else "{}"})
    return items


def _tool_output(message: dict[str, Any], where: str) -> dict[str, Any]:
    if not text(message.get("tool_call_id")):
        raise TranslationError(f"{where}.tool_call_id: a tool message must name the call it answers")
    return {"type": "function_call_output", "call_id": message["tool_call_id"],
            "output": "".join(_texts(message.get("content"), where))}


# -- tools and options ---------------------------------------------------------------


def _tool(tool: dict[str, Any], position: int) -> dict[str, Any]:
    function = mapping(tool.get("function"))
    if tool.get("type") != "function" or not text(function.get("name")):
        raise TranslationError(f"tools[{position}]: only named function tools can be sent to a Responses upstream")
    out: dict[str, Any] = {"type": "function", "name": function["name"]}
    if text(function.get("description")):
        out["description"] = function["description"]
    out["parameters"] = mapping(function.get("parameters")) or {"type": "object", "properties": {}}
    out["strict"] = function.get("strict") is True
    return out


def _tool_choice(choice: Any) -> Any:
    if choice in ("none", "auto", "required"):
        return choice
    choice = mapping(choice)
    if choice.get("type") == "function" and text(mapping(choice.get("function")).get("name")):
        return {"type": "function", "name": choice["function"]["name"]}
    allowed = mapping(choice.get("allowed_tools"))
    tools = [mapping(t) for t in listed(allowed.get("tools"))]
    if choice.get("type") == "allowed_tools" and allowed.get("mode") in ("auto", "required") and tools and all(
            t.get("type") == "function" and text(mapping(t.get("function")).get("name")) for t in tools):
        return {"type": "allowed_tools", "mode": allowed["mode"],
                "tools": [{"type": "function", "name": t["function"]["name"]} for t in tools]}
    raise TranslationError("tool_choice: only none, auto, required, a function, or allowed function tools can be "
                           "sent to a Responses upstream")


def _text_config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    fmt = body.get("response_format")
    if fmt is not None:
        fmt = mapping(fmt)
        kind = fmt.get("type")
        if kind in ("text", "json_object"):
            config["format"] = {"type": kind}
        elif kind == "json_schema":
            schema = mapping(fmt.get("json_schema"))
            if not text(schema.get("name")):
                raise TranslationError("response_format.json_schema.name: a Responses upstream needs the schema's name")
            out: dict[str, Any] = {"type": "json_schema", "name": schema["name"], "schema": mapping(schema.get("schema"))}
            if text(schema.get("description")):
                out["description"] = schema["description"]
            if isinstance(schema.get("strict"), bool):
                out["strict"] = schema["strict"]
            config["format"] = out
        else:
            raise TranslationError(f"response_format: type {kind!r} cannot be sent to a Responses upstream")
    if body.get("verbosity") is not None:
        config["verbosity"] = body["verbosity"]
    return config
