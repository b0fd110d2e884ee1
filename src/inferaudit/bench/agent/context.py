"""Context policies: which messages each model call sends. The full episode is always kept raw.

The first message (the task) is always sent. ``truncate`` and ``summarise``
keep the last ``keep_last`` messages (reaching back to the assistant message
whose tool results they hold); ``summarise`` replaces the dropped steps with one message
built from the raw episode at the time of the call (no model call). A
moving window changes the prompt's prefix every turn, which defeats prompt
caching: that is the trade-off the audit measures.
"""

from __future__ import annotations

import json
from typing import Any, Callable

Messages = list[dict[str, Any]]


def full(messages: Messages, keep_last: int) -> Messages:
    return messages


def _window(messages: Messages, keep_last: int) -> tuple[Messages, Messages, Messages]:
    head, body = messages[:1], messages[1:]
    if len(body) <= keep_last:
        return head, [], body
    cut = len(body) - keep_last
    while cut > 0 and body[cut]["role"] == "tool":
        cut -= 1  # keep the call a kept tool result answers
    return head, body[:cut], body[cut:]


def truncate(messages: Messages, keep_last: int) -> Messages:
    head, dropped, tail = _window(messages, keep_last)
    return messages if not dropped else head + tail


def summarise(messages: Messages, keep_last: int) -> Messages:
    head, dropped, tail = _window(messages, keep_last)
    if not dropped:
        return messages
    results = {m.get("tool_call_id"): m.get("content") or "" for m in dropped if m["role"] == "tool"}
    lines = []
    for m in dropped:
        for call in m.get("tool_calls") or ():
            fn = call["function"]
            result = results.get(call["id"], "")
            first = result.strip().splitlines()[0][:120] if result.strip() else "(no output)"
            lines.append(f"- {fn['name']}({_brief(fn.get('arguments'))}) -> {first}")
    summary = "Summary of earlier steps (details dropped to save context):\n" + ("\n".join(lines) or "- (no tool calls)")
    return head + [{"role": "user", "content": summary}] + tail


def _brief(arguments: Any) -> str:
    try:
        args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments or {})
    except (ValueError, TypeError):
        return "..."
    return ", ".join(f"{k}={str(v)[:40]!r}" for k, v in args.items() if k != "content")


CONTEXT_POLICIES: dict[str, Callable[[Messages, int], Messages]] = {
    "full": full, "truncate": truncate, "summarise": summarise,
}
