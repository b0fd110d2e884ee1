"""Context growth: prompt size across each session's main thread, and what compactions did.

Every call re-sends the conversation so far, so the prompt (input, cache
reads and writes together) grows call after call until a compaction
replaces the history with a summary. Per main thread: the prompt's first,
median and largest size and its mean growth per call; per compaction
event: the prompt just before and just after, and the mean cost per call
of up to ``WINDOW`` calls on either side.

The what-if ``context_cap`` prices the prompt tokens above a target size
(``TARGET_TOKENS``) at what each call paid per prompt token: what keeping
every prompt under the target would save at most. It is an **upper
bound**: summaries and the compaction calls themselves cost some of it back.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from .calls import MAIN, CallView, EventView

WINDOW = 5
TARGET_TOKENS = 100_000
MAX_SESSIONS = 20


def context_growth(threads: dict[tuple[str, str], list[CallView]], events: dict[str | None, list[EventView]],
                   target: int = TARGET_TOKENS) -> dict[str, Any]:
    sessions = []
    for (run_id, agent), calls in threads.items():
        if agent != MAIN or len(calls) < 2:
            continue
        prompts = [c.tokens.prompt for c in calls]
        compactions = [_compaction(e, calls) for e in events.get(run_id, []) if e.kind == "compact_boundary"]
        sessions.append({
            "run_id": run_id, "calls": len(calls), "prompt_first": prompts[0], "prompt_median": median(prompts),
            "prompt_max": max(prompts), "growth_per_call": (prompts[-1] - prompts[0]) / (len(prompts) - 1),
            "compactions": compactions,
        })
    sessions.sort(key=lambda s: -s["prompt_max"])
    all_calls = [c for calls in threads.values() for c in calls]
    return {"sessions": sessions[:MAX_SESSIONS], "session_count": len(sessions),
            "compactions": sum(len(s["compactions"]) for s in sessions), "context_cap": context_cap(all_calls, target)}


def _compaction(event: EventView, calls: list[CallView]) -> dict[str, Any]:
    before = [c for c in calls if event.at is not None and c.start is not None and c.start < event.at]
    after = [c for c in calls if event.at is not None and c.start is not None and c.start >= event.at]
    before, after = before[-WINDOW:], after[:WINDOW]
    return {
        **event.where(), "at": event.at.isoformat() if event.at else None,
        "trigger": event.data.get("trigger"), "pre_tokens": event.data.get("pre_tokens"),
        "prompt_before": before[-1].tokens.prompt if before else None,
        "prompt_after": after[0].tokens.prompt if after else None,
        "cost_per_call_before": _mean_cost(before), "cost_per_call_after": _mean_cost(after),
        "calls_before": len(before), "calls_after": len(after),
    }


def _mean_cost(calls: list[CallView]) -> float | None:
    priced = [c.cost for c in calls if c.cost is not None]
    return sum(priced) / len(priced) if priced else None


def prompt_cost(call: CallView) -> float | None:
    """What the call paid for its prompt: its cost less its output."""
    if call.cost is None or call.rates is None:
        return None
    return call.cost - call.tokens.output * call.rates.output / 1e6


def context_cap(calls: list[CallView], target: int) -> dict[str, Any]:
    over = [c for c in calls if c.tokens.prompt > target and prompt_cost(c) is not None]
    usd = sum(prompt_cost(c) * (c.tokens.prompt - target) / c.tokens.prompt for c in over)
    largest = max(over, key=lambda c: c.tokens.prompt, default=None)
    return {
        "target_tokens": target, "calls_over": len(over), "tokens_over": sum(c.tokens.prompt - target for c in over),
        "usd": usd, "largest": {**largest.where(), "prompt": largest.tokens.prompt} if largest else None,
        "basis": "upper bound: the prompt tokens above the target, at what each call paid per prompt token",
    }
