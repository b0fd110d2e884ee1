"""An OpenAI Chat Completions request rewritten as a Gemini ``generateContent`` request.

The case this exists for: an OpenAI SDK client (and, through the chat hub,
Claude Code or the Codex CLI) routed to Gemini. The model and the stream
flag go in the URL (:meth:`~.pairs.ChatToGemini.upstream_path`), never in
the body, which Google's API would refuse for an unknown field.

Mapped:

- ``system`` and ``developer`` messages, wherever they stand -> ``systemInstruction`` (one text part each);
- user text -> text parts; ``image_url`` with a base64 ``data:`` URL, ``input_audio`` and ``file``
  with ``file_data`` (a ``data:`` URL) -> ``inlineData``;
- assistant turns -> ``role: model``: text (and ``refusal`` text) -> text parts, ``tool_calls`` ->
  ``functionCall`` parts (arguments parsed to an object; the ``thoughtSignature`` Gemini gave the call
  is read back out of the id the gateway minted for it, see :mod:`.gemini_answer`);
- ``role: tool`` messages -> ``functionResponse`` parts (``response: {"output": text}``), the
  function's name looked up from the assistant tool call the ``tool_call_id`` names; consecutive
  turns of one role are merged, so a turn's tool results travel together;
- ``tools`` -> one ``functionDeclarations`` tool, ``function.parameters`` passed whole as
  ``parametersJsonSchema`` (Gemini's field for JSON Schema, beside the OpenAPI-subset ``parameters``),
  less its ``$schema`` keywords: they are not among the keywords Gemini's JSON Schema fields take,
  and Claude Code sends one on every tool (Google's own gemini-cli strips them too); ``tool_choice`` none / auto /
  required / one function / ``allowed_tools`` -> ``toolConfig.functionCallingConfig`` NONE / AUTO /
  ANY / ANY with ``allowedFunctionNames`` / VALIDATED or ANY with ``allowedFunctionNames``;
- ``generationConfig``: ``max_completion_tokens`` or ``max_tokens`` -> ``maxOutputTokens``,
  ``temperature``, ``top_p`` -> ``topP``, ``top_k`` (a common extension) -> ``topK``, ``stop`` ->
  ``stopSequences``, ``seed``, ``n`` -> ``candidateCount``, ``presence_penalty`` / ``frequency_penalty``
  -> ``presencePenalty`` / ``frequencyPenalty``, ``response_format`` json_object / json_schema ->
  ``responseMimeType: application/json`` (+ the schema as ``responseJsonSchema``, ``$schema`` removed),
  ``reasoning_effort`` -> ``thinkingConfig.thinkingBudget`` (none 0, low 1024, medium 8192, high 24576,
  as quoted for Google's own OpenAI-compatible endpoint; minimal 1024 and xhigh / max 24576 are our
  nearest choices, since that endpoint does not name those levels).

Refused with :class:`~.base.TranslationError` (the client gets its protocol's 400 and the upstream
is never called), because the answer would silently differ from what was asked: ``logprobs`` /
``top_logprobs``, ``logit_bias``, ``audio`` and audio ``modalities``, ``web_search_options``,
legacy ``functions`` / ``function_call`` / ``role: function``, non-function tools and tool choices,
image URLs that are not ``data:`` URLs and ``file_id`` files (Gemini cannot fetch either), an
assistant ``audio`` reference, a tool result whose call is not in the conversation, unknown
roles, content parts and top-level fields.

Dropped (hints and bookkeeping with no Gemini counterpart; the request goes on without them):
``user``, ``safety_identifier``, ``metadata``, ``store``, ``service_tier``, ``prompt_cache_key``,
``prompt_cache_retention``, ``verbosity``, ``prediction``, ``parallel_tool_calls`` (Gemini may
always call several functions), ``stream_options`` (read by the stream translator, which decides
whether the client sees a usage chunk), a tool's ``strict`` flag, an image's ``detail``, a
json_schema's ``name`` / ``strict`` / ``description``, message ``name`` fields.
"""

from __future__ import annotations

from typing import Any

from .base import TranslationError
from .common import arguments_object, count, listed, mapping, refuse_chat_fields, text
from .gemini_answer import signature_of

DROPPED = (
    "user", "safety_identifier", "metadata", "store", "service_tier", "prompt_cache_key", "prompt_cache_retention",
    "verbosity", "prediction", "parallel_tool_calls", "stream_options",
)
# top-level fields read below (or by the stream translator); every other field is refused
MAPPED = (
    "model", "messages", "stream", "max_completion_tokens", "max_tokens", "temperature", "top_p", "top_k", "stop",
    "seed", "n", "presence_penalty", "frequency_penalty", "response_format", "reasoning_effort", "tools",
    "tool_choice", "logprobs", "top_logprobs", "logit_bias", "modalities",
)
# JSON paths this module reads, per OpenAI object (``[]``: each item). ``inferaudit drift check``
# compares them with OpenAI's spec; tests/translate/test_gemini_fields.py fails when the code
# touches a path not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.request": (
        "model", "messages[].role", "messages[].content", "messages[].content[].type", "messages[].content[].text",
        "messages[].content[].refusal", "messages[].content[].image_url.url", "messages[].content[].input_audio.data",
        "messages[].content[].input_audio.format", "messages[].content[].file.file_data",
        "messages[].content[].file.file_id", "messages[].refusal", "messages[].audio", "messages[].function_call",
        "messages[].tool_call_id", "messages[].tool_calls[].type", "messages[].tool_calls[].id",
        "messages[].tool_calls[].function.name", "messages[].tool_calls[].function.arguments",
        "max_completion_tokens", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed", "n", "presence_penalty",
        "frequency_penalty", "response_format.type", "response_format.json_schema.schema",
        "response_format.json_schema.schema.*", "reasoning_effort", "tools[].type", "tools[].function.name",
        "tools[].function.description", "tools[].function.parameters", "tools[].function.parameters.*",
        "tool_choice", "tool_choice.type", "tool_choice.function.name", "tool_choice.allowed_tools.mode",
        "tool_choice.allowed_tools.tools[].type", "tool_choice.allowed_tools.tools[].function.name",
        "logprobs", "top_logprobs", "logit_bias", "modalities", "audio", "web_search_options", "functions",
        "function_call",
    ),
}

# Google's OpenAI-compatible endpoint maps low / medium / high to these thinking budgets, none to 0
# "max" is new in OpenAI's 2026-08-21 spec (found by `inferaudit drift check`): the highest budget, as xhigh
THINKING_BUDGETS = {"none": 0, "minimal": 1024, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 24576, "max": 24576}
_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mp3"}
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_LITERALS = frozenset({"enum", "const", "default", "examples"})
_CHOICE_MODES = {"none": "NONE", "auto": "AUTO", "required": "ANY"}
_ALLOWED_MODES = {"auto": "VALIDATED", "required": "ANY"}
_REFUSED_WHEN_SET = {
    "audio": "audio output", "web_search_options": "web search (Gemini's search grounding is a different tool)",
    "functions": "legacy functions (send tools)", "function_call": "legacy function_call (send tool_choice)",
}


def gemini_request(body: dict[str, Any]) -> dict[str, Any]:
    """The ``generateContent`` body for a Chat Completions request ``body`` (no model, no stream flag)."""
    _refuse_unsupported(body)
    system, contents = _contents(listed(body.get("messages")))
    out: dict[str, Any] = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": [{"text": s} for s in system]}
    declarations = [_declaration(t) for t in map(mapping, listed(body.get("tools")))]
    if declarations:
        out["tools"] = [{"functionDeclarations": declarations}]
        config = _tool_config(body.get("tool_choice"))
        if config:
            out["toolConfig"] = {"functionCallingConfig": config}
    generation = _generation_config(body)
    if generation:
        out["generationConfig"] = generation
    return out


def _refuse_unsupported(body: dict[str, Any]) -> None:
    refuse_chat_fields(body, set(MAPPED) | set(DROPPED), _REFUSED_WHEN_SET, to="Gemini", on="a Gemini upstream",
                       name="Gemini")
    if body.get("logprobs") is True or body.get("top_logprobs") not in (None, 0):
        raise TranslationError("logprobs / top_logprobs: log probabilities are not translated from Gemini")


# -- messages ------------------------------------------------------------------------


def _contents(messages: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(system texts, contents): system-like messages lifted out, the rest as merged user / model turns."""
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool_call_id -> function name, from the assistant turns so far
    for position, message in enumerate(map(mapping, messages)):
        role = message.get("role")
        where = f"messages[{position}]"
        if role in ("system", "developer"):
            system.extend(t for t in _texts(message.get("content"), where) if t)
            continue
        if role == "user":
            turn, parts = "user", _user(message.get("content"), where)
        elif role == "assistant":
            turn, parts = "model", _assistant(message, where, names)
        elif role == "tool":
            turn, parts = "user", [_tool_result(message, where, names)]
        else:
            raise TranslationError(f"{where}.role: {role!r} messages cannot be sent to Gemini")
        if not parts:
            continue  # Gemini rejects a turn without parts
        if contents and contents[-1]["role"] == turn:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": turn, "parts": parts})
    return system, contents


def _texts(content: Any, where: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts = []
    for i, part in enumerate(map(mapping, listed(content))):
        if part.get("type") not in ("text", "refusal"):
            raise TranslationError(f"{where}.content[{i}]: only text can go into this message on a Gemini upstream")
        texts.append(part.get("text") or part.get("refusal") or "")
    return texts


def _user(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(map(mapping, listed(content))):
        kind, at = part.get("type"), f"{where}.content[{i}]"
        if kind == "text":
            if text(part.get("text")):
                parts.append({"text": part["text"]})
        elif kind == "image_url":
            parts.append(_inline(mapping(part.get("image_url")).get("url"), at + ".image_url.url"))
        elif kind == "input_audio":
            audio = mapping(part.get("input_audio"))
            mime = _AUDIO_TYPES.get(audio.get("format"))
            if not mime or not text(audio.get("data")):
                raise TranslationError(f"{at}.input_audio: needs base64 data in wav or mp3")
            parts.append({"inlineData": {"mimeType": mime, "data": audio["data"]}})
        elif kind == "file":
            file = mapping(part.get("file"))
            if text(file.get("file_id")) and not text(file.get("file_data")):
                raise TranslationError(f"{at}.file.file_id: an OpenAI file id means nothing to Gemini; send file_data")
            parts.append(_inline(file.get("file_data"), at + ".file.file_data"))
        else:
            raise TranslationError(f"{at}.type: {kind!r} parts cannot be sent to Gemini")
    return parts


def _inline(url: Any, where: str) -> dict[str, Any]:
    """A base64 ``data:`` URL as an ``inlineData`` part; Gemini cannot fetch other URLs."""
    head, _, data = (url or "").partition(",") if isinstance(url, str) else ("", "", "")
    media_type, _, encoding = head.removeprefix("data:").partition(";")
    if not head.startswith("data:") or encoding != "base64" or not data:
        raise TranslationError(f"{where}: a Gemini upstream takes only base64 data: URLs here")
    return {"inlineData": {"mimeType": media_type or "application/octet-stream", "data": data}}


def _assistant(message: dict[str, Any], where: str, names: dict[str, str]) -> list[dict[str, Any]]:
    if message.get("audio") is not None:
        raise TranslationError(f"{where}.audio: an earlier audio answer cannot be replayed to Gemini")
    if message.get("function_call") is not None:
        raise TranslationError(f"{where}.function_call: legacy function calls cannot be sent; use tool_calls")
    content = message.get("content")
    texts = _texts(content, where) if content is not None else []
    if not any(texts) and text(message.get("refusal")):
        texts = [message["refusal"]]
    parts: list[dict[str, Any]] = [{"text": t} for t in texts if t]
    for i, call in enumerate(map(mapping, listed(message.get("tool_calls")))):
        function = mapping(call.get("function"))
        if call.get("type", "function") != "function" or not text(function.get("name")):
            raise TranslationError(f"{where}.tool_calls[{i}]: only named function calls can be sent to Gemini")
        part: dict[str, Any] = {"functionCall": {"name": function["name"], "args": arguments_object(function.get("arguments"))}}
        signature = signature_of(call.get("id"))
        if signature:
            part["thoughtSignature"] = signature  # Gemini 3 refuses a replayed call without its signature
        parts.append(part)
        if text(call.get("id")):
            names[call["id"]] = function["name"]
    return parts


def _tool_result(message: dict[str, Any], where: str, names: dict[str, str]) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    name = names.get(call_id) if isinstance(call_id, str) else None
    if name is None:
        raise TranslationError(f"{where}.tool_call_id: {call_id!r} names no earlier assistant tool call; "
                               "Gemini needs the function's name")
    output = "".join(_texts(message.get("content"), where))
    return {"functionResponse": {"name": name, "response": {"output": output}}}


# -- tools and options ---------------------------------------------------------------


def _declaration(tool: dict[str, Any]) -> dict[str, Any]:
    function = mapping(tool.get("function"))
    if tool.get("type") != "function" or not text(function.get("name")):
        raise TranslationError(f"tools: only named function tools can be sent to Gemini (got type {tool.get('type')!r})")
    declaration: dict[str, Any] = {"name": function["name"]}
    if text(function.get("description")):
        declaration["description"] = function["description"]
    if mapping(function.get("parameters")):
        declaration["parametersJsonSchema"] = json_schema(function["parameters"])
    return declaration


def json_schema(schema: Any) -> Any:
    """A JSON Schema without its ``$schema`` keywords (property names and literal values are left alone)."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$schema":
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = value if key in _LITERALS else json_schema(value)
    return out


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, str) and choice in _CHOICE_MODES:
        return {"mode": _CHOICE_MODES[choice]}
    choice = mapping(choice)
    if choice.get("type") == "function" and text(mapping(choice.get("function")).get("name")):
        return {"mode": "ANY", "allowedFunctionNames": [choice["function"]["name"]]}
    allowed = mapping(choice.get("allowed_tools"))
    tools = [mapping(t) for t in listed(allowed.get("tools"))]
    if choice.get("type") == "allowed_tools" and allowed.get("mode") in _ALLOWED_MODES and all(
            t.get("type") == "function" and text(mapping(t.get("function")).get("name")) for t in tools):
        return {"mode": _ALLOWED_MODES[allowed["mode"]],
                "allowedFunctionNames": [t["function"]["name"] for t in tools]}
    raise TranslationError("tool_choice: only none, auto, required, a function, or allowed function tools "
                           "can be sent to Gemini")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _generation_config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    limit = count(body.get("max_completion_tokens")) or count(body.get("max_tokens"))
    if limit:
        config["maxOutputTokens"] = limit
    for source, target in (("temperature", "temperature"), ("top_p", "topP"), ("presence_penalty", "presencePenalty"),
                           ("frequency_penalty", "frequencyPenalty")):
        if _number(body.get(source)):
            config[target] = body[source]
    for source, target in (("top_k", "topK"), ("seed", "seed")):
        if isinstance(body.get(source), int) and not isinstance(body.get(source), bool):
            config[target] = body[source]
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else [s for s in listed(stop) if isinstance(s, str)]
    if stop:
        config["stopSequences"] = stop
    if count(body.get("n")) > 1:
        config["candidateCount"] = body["n"]
    config.update(_response_format(body.get("response_format")))
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in THINKING_BUDGETS:
            raise TranslationError(f"reasoning_effort: {effort!r} has no Gemini thinking budget")
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGETS[effort]}
    return config


def _response_format(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    fmt = mapping(value)
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        schema = mapping(mapping(fmt.get("json_schema")).get("schema"))
        out: dict[str, Any] = {"responseMimeType": "application/json"}
        if schema:
            out["responseJsonSchema"] = json_schema(schema)
        return out
    raise TranslationError(f"response_format: type {kind!r} cannot be sent to Gemini")
