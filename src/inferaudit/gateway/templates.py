"""A fingerprint of a request's fixed part: its system prompt and the names of the tools it offers.

Requests of one endpoint that come from one prompt template share it even
when their user content differs; the distillation backlog measures how
stable an endpoint's input is by the share of its calls under the most
common fingerprint. Digits are folded and whitespace collapsed first, so a
date or a count in the system prompt does not split a template. Only the
hash is recorded (in the call's tags): no prompt text is stored.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Callable

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    if isinstance(value, dict):
        return _text(value.get("text") if "text" in value else value.get("parts", ""))
    return ""


def _names(tools: Any, *path: str) -> list[str]:
    names = []
    for tool in tools if isinstance(tools, list) else []:
        node = tool
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str):
            names.append(node)
    return sorted(names)


def _chat(body: dict) -> tuple[str, list[str]]:
    system = [m.get("content") for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") in ("system", "developer")]
    return _text(system), _names(body.get("tools"), "function", "name")


def _responses(body: dict) -> tuple[str, list[str]]:
    items = body.get("input") if isinstance(body.get("input"), list) else []
    system = [i.get("content") for i in items if isinstance(i, dict) and i.get("role") in ("system", "developer")]
    return _text([body.get("instructions") or "", *system]), _names(body.get("tools"), "name")


def _messages(body: dict) -> tuple[str, list[str]]:
    return _text(body.get("system")), _names(body.get("tools"), "name")


def _gemini(body: dict) -> tuple[str, list[str]]:
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    declared = [d for t in body.get("tools") or [] if isinstance(t, dict) for d in t.get("functionDeclarations") or []]
    return _text(system), _names(declared, "name")


FIXED_PART: dict[str, Callable[[dict], tuple[str, list[str]]]] = {
    "openai-chat": _chat, "openai-responses": _responses, "anthropic-messages": _messages, "gemini": _gemini,
}


def fingerprint(protocol: str, body: dict) -> str | None:
    """16 hex digits naming the request's template, or None when it has no system prompt and no tools."""
    reader = FIXED_PART.get(protocol)
    if reader is None:
        return None
    system, tools = reader(body)
    if not system.strip() and not tools:
        return None
    normal = _SPACE.sub(" ", _DIGITS.sub("0", system)).strip() + "\x00" + ",".join(tools)
    return hashlib.blake2b(normal.encode("utf-8", "replace"), digest_size=8).hexdigest()
