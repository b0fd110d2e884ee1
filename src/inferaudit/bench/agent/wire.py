"""What the agent sends and reads on each protocol, cache-policy request shaping included.

The episode is held in OpenAI chat form (``role`` user / assistant / tool,
``tool_calls``); a wire turns it into its own request and turns the answer
back. Cache policies shape the request (registries :data:`OPENAI_CACHE` and
:data:`ANTHROPIC_CACHE`, one function per policy):

========  ==============================================  =================================================
policy    anthropic-messages                              openai-chat
========  ==============================================  =================================================
none      no ``cache_control`` anywhere                   nothing (a provider may still cache on its own)
auto      top-level ``cache_control: {type: ephemeral}``  ``prompt_cache_key`` (routes a shared prefix to
          (the provider places the breakpoint)            one cache)
5m / 1h   ``cache_control {type: ephemeral, ttl}`` on     ``prompt_cache_key`` and OpenRouter-style
          the last tool, the system prompt and the        ``cache_control`` on the system part and the last
          last block of the last message (3 of the 4      message's last part, for OpenAI-compatible proxies
          breakpoints allowed)                            in front of Anthropic models
========  ==============================================  =================================================
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ...providers.openai_chat import map_usage
from ...usage import Tokens
from .tools import TOOLS

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    message: dict[str, Any]
    """The assistant message in OpenAI chat form, as it joins the episode."""
    tool_calls: list[ToolCall]
    tokens: Tokens


@dataclass(frozen=True)
class Request:
    model: str
    system: str
    messages: Messages
    max_tokens: int
    temperature: float | None
    cache_policy: str
    cache_key: str
    """Names the shared prefix (the task): the ``prompt_cache_key`` of policies that send one."""


class Wire(Protocol):
    path: str

    def headers(self, api_key: str) -> dict[str, str]: ...
    def body(self, request: Request) -> dict[str, Any]: ...
    def parse(self, answer: dict[str, Any]) -> Reply: ...


# -- OpenAI chat ----------------------------------------------------------------


def _parts(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else [{"type": "text", "text": content or ""}]


def _openai_key(body: dict[str, Any], request: Request) -> None:
    body["prompt_cache_key"] = request.cache_key


def _openai_breakpoints(ttl: str) -> Callable[[dict[str, Any], Request], None]:
    def shape(body: dict[str, Any], request: Request) -> None:
        _openai_key(body, request)
        marker = {"type": "ephemeral", "ttl": ttl}
        for message in (body["messages"][0], body["messages"][-1]):
            parts = _parts(message.get("content"))
            parts[-1] = {**parts[-1], "cache_control": marker}
            message["content"] = parts
    return shape


OPENAI_CACHE: dict[str, Callable[[dict[str, Any], Request], None]] = {
    "none": lambda body, request: None,
    "auto": _openai_key,
    "5m": _openai_breakpoints("5m"),
    "1h": _openai_breakpoints("1h"),
}


class OpenAIChat:
    path = "/v1/chat/completions"

    def headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": "system", "content": request.system}, *copy.deepcopy(request.messages)],
            "tools": [tool.schema() for tool in TOOLS.values()],
            "max_tokens": request.max_tokens,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        OPENAI_CACHE[request.cache_policy](body, request)
        return body

    def parse(self, answer: dict[str, Any]) -> Reply:
        choices = answer.get("choices") or [{}]
        message = choices[0].get("message") or {}
        calls = [ToolCall(c.get("id") or f"call_{i}", c["function"]["name"], c["function"].get("arguments") or "{}")
                 for i, c in enumerate(message.get("tool_calls") or []) if c.get("function")]
        kept: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        if calls:
            kept["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                                  for c in calls]
        usage = answer.get("usage")
        return Reply(kept, calls, map_usage(usage) if isinstance(usage, dict) else Tokens())


# -- Anthropic messages -----------------------------------------------------------


def anthropic_messages(messages: Messages) -> Messages:
    """OpenAI-form episode messages as Messages turns (tool results in user turns, same roles merged)."""
    out: Messages = []
    for m in messages:
        if m["role"] == "assistant":
            role, blocks = "assistant", ([{"type": "text", "text": m["content"]}] if m.get("content") else [])
            for call in m.get("tool_calls") or ():
                try:
                    args = json.loads(call["function"].get("arguments") or "{}")
                except ValueError:
                    args = {}
                blocks.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"],
                               "input": args if isinstance(args, dict) else {}})
        elif m["role"] == "tool":
            role, blocks = "user", [{"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": m.get("content") or ""}]
        else:
            role, blocks = "user", [{"type": "text", "text": m.get("content") or ""}]
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _anthropic_breakpoints(ttl: str) -> Callable[[dict[str, Any], Request], None]:
    def shape(body: dict[str, Any], request: Request) -> None:
        marker = {"type": "ephemeral", "ttl": ttl}
        for block in (body["tools"][-1], body["system"][-1], body["messages"][-1]["content"][-1]):
            block["cache_control"] = dict(marker)
    return shape


ANTHROPIC_CACHE: dict[str, Callable[[dict[str, Any], Request], None]] = {
    "none": lambda body, request: None,
    "auto": lambda body, request: body.__setitem__("cache_control", {"type": "ephemeral"}),
    "5m": _anthropic_breakpoints("5m"),
    "1h": _anthropic_breakpoints("1h"),
}


class AnthropicMessages:
    path = "/v1/messages"

    def headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key, "anthropic-version": "2023-06-01"}

    def body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "system": [{"type": "text", "text": request.system}],
            "messages": anthropic_messages(request.messages),
            "tools": [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in TOOLS.values()],
            "max_tokens": request.max_tokens,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        ANTHROPIC_CACHE[request.cache_policy](body, request)
        return body

    def parse(self, answer: dict[str, Any]) -> Reply:
        texts, calls = [], []
        for block in answer.get("content") or ():
            if block.get("type") == "text":
                texts.append(block.get("text") or "")
            elif block.get("type") == "tool_use":
                calls.append(ToolCall(block["id"], block["name"], json.dumps(block.get("input") or {})))
        kept: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
        if calls:
            kept["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                                  for c in calls]
        usage = answer.get("usage")
        return Reply(kept, calls, Tokens.from_anthropic(usage) if isinstance(usage, dict) else Tokens())


WIRES: dict[str, Wire] = {"openai-chat": OpenAIChat(), "anthropic-messages": AnthropicMessages()}
