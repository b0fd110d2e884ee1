"""Prompt-cache misses and wasted cache writes, found from each thread's call sequence.

After each call, the thread's cache holds a prefix per model: with an
explicit cache (writes billed: Anthropic) the tokens the call read or
wrote; with an automatic one (OpenAI, Gemini) its whole prompt. The next
call of the same thread *expects* to read ``min(held prefix, its prompt)``
tokens; a shortfall is a **miss**. Each miss is priced at what its tokens
cost beyond a cache read (as the write or input they were billed as,
write buckets first), and given the first cause that fits:

``compaction`` a compaction event lies between the cache's last use and the call;
``model_switch`` the thread's previous calls were another model (caches are per model);
``ttl_expiry`` the time since the cache's last use exceeds its TTL (5 minutes
or 1 hour by what was written, 30 minutes for OpenAI's billed writes; the
provider's idle time for automatic caches);
``under_minimum`` the prompt is below the model's smallest cacheable size;
``prefix_change`` anything else: something early in the prompt changed (or,
for automatic caches, the provider did not serve the prefix).

A **wasted write** is a cache write no later call of its thread read
before it expired; it cost the write premium (write rate minus input
rate) for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...pricing import Rates
from .cache_rules import ONE_HOUR, rule_for
from .calls import MAIN, CallView, EventView

CAUSES = {
    "ttl_expiry": "the cache expired: the gap since its last use exceeded the TTL",
    "compaction": "the conversation was compacted: the new prompt shares only its opening with the old one",
    "model_switch": "the thread switched models: each model has its own cache",
    "prefix_change": "something early in the prompt changed, or the provider did not serve the cached prefix",
    "under_minimum": "the prompt is below the model's minimum cacheable size",
}
MAX_EXAMPLES = 5
MAX_SESSIONS = 50  # the sessions with the most dollars of misses and wasted writes


@dataclass(slots=True)
class _Entry:
    prefix: int
    last_use: datetime | None
    ttl_s: float


@dataclass(slots=True)
class Step:
    """What the cache did for one call."""

    call: CallView
    explicit: bool
    expected: int = 0
    missed: int = 0
    cause: str | None = None
    gap_s: float | None = None
    ttl_s: float | None = None
    same_model: bool = False  # the expectation came from this model's own cache entry
    miss_usd: float | None = 0.0
    wasted: int = 0
    wasted_usd: float | None = 0.0


def analyse_thread(calls: list[CallView], events: list[EventView]) -> list[Step]:
    """One Step per call of a thread (calls in order)."""
    explicit = any(c.tokens.cache_write for c in calls)
    compactions = [e.at for e in events if e.kind == "compact_boundary" and e.at is not None] if (
        calls and calls[0].agent == MAIN) else []
    state: dict[str | None, _Entry] = {}
    steps = []
    for call in calls:
        step = Step(call, explicit)
        rule = rule_for(call.provider)
        t = call.tokens
        entry = state.get(call.model)
        step.same_model = entry is not None
        if entry is None and state:
            entry = max(state.values(), key=_ts)  # the cache the thread used last
        if entry is not None:
            step.expected = min(entry.prefix, t.prompt)
            step.ttl_s = entry.ttl_s
            if entry.last_use is not None and call.start is not None:
                step.gap_s = (call.start - entry.last_use).total_seconds()
            shortfall = step.expected - t.cache_read
            if shortfall > (0 if explicit else rule.tolerance):
                step.missed = shortfall
                step.cause = _cause(step, entry, compactions, rule.minimum(call.model))
                step.miss_usd = _miss_usd(call, shortfall)
        state[call.model] = _after(call, explicit, state.get(call.model), rule.auto_ttl_s)
        steps.append(step)
    if explicit:
        _wasted_writes(steps)
    return steps


def _ts(entry: _Entry) -> float:
    return entry.last_use.timestamp() if entry.last_use is not None else float("-inf")


def _cause(step: Step, entry: _Entry, compactions: list[datetime], minimum: int) -> str:
    start = step.call.start
    if start is not None and any((entry.last_use is None or at > entry.last_use) and at <= start for at in compactions):
        return "compaction"
    if not step.same_model:
        return "model_switch"
    if step.gap_s is not None and step.gap_s > entry.ttl_s:
        return "ttl_expiry"
    if step.call.tokens.prompt < minimum:
        return "under_minimum"
    return "prefix_change"


def _after(call: CallView, explicit: bool, before: _Entry | None, auto_ttl: float) -> _Entry:
    t = call.tokens
    if not explicit:
        return _Entry(t.prompt, call.end, auto_ttl)
    if t.cache_write:
        ttl = write_ttl(call)
    else:
        ttl = before.ttl_s if before else rule_for(call.provider).write_ttl_s
    return _Entry(t.cache_read + t.cache_write, call.end, ttl)


def split_missed(call: CallView, missed: int) -> tuple[int, int, int]:
    """Where ``missed`` tokens were billed: (1-hour writes, 5-minute writes, input), writes first."""
    t = call.tokens
    w1 = min(missed, t.cache_write_1h)
    w5 = min(missed - w1, t.cache_write_5m)
    return w1, w5, min(missed - w1 - w5, t.input)


def _miss_usd(call: CallView, missed: int) -> float | None:
    r = call.rates
    if r is None:
        return None
    w1, w5, inp = split_missed(call, missed)
    return (w1 * (r.cache_write_1h - r.cache_read) + w5 * (r.cache_write_5m - r.cache_read)
            + inp * (r.input - r.cache_read)) / 1e6


def write_ttl(call: CallView) -> float:
    t = call.tokens
    return ONE_HOUR if t.cache_write_1h >= t.cache_write_5m else rule_for(call.provider).write_ttl_s


def _wasted_writes(steps: list[Step]) -> None:
    for i, step in enumerate(steps):
        call = step.call
        written = call.tokens.cache_write
        if not written:
            continue
        low, ttl, last, read = call.tokens.cache_read, write_ttl(call), call.end, 0
        for later in steps[i + 1:]:
            other = later.call
            if other.model != call.model:
                continue
            if last is not None and other.start is not None and (other.start - last).total_seconds() > ttl:
                break
            got = min(max(other.tokens.cache_read - low, 0), written)
            if got:
                read, last = max(read, got), other.end
            if read == written:
                break
        step.wasted = written - read
        step.wasted_usd = _premium(call.rates, call, step.wasted) if step.wasted else 0.0


def _premium(r: Rates | None, call: CallView, unread: int) -> float | None:
    """The write premium paid on ``unread`` of the call's written tokens (split by TTL in proportion)."""
    if r is None:
        return None
    t = call.tokens
    share = unread / t.cache_write
    return share * (t.cache_write_5m * (r.cache_write_5m - r.input) + t.cache_write_1h * (r.cache_write_1h - r.input)) / 1e6


def summarise(steps: list[Step]) -> dict[str, Any]:
    """The cache section: hit rate, misses by cause, wasted writes, examples, per session."""
    sessions: dict[str, list[Step]] = {}
    for s in steps:
        sessions.setdefault(s.call.run_id, []).append(s)
    out = _totals(steps)
    out["session_count"] = len(sessions)
    out["sessions"] = sorted(
        ({"run_id": run_id, **_totals(group, examples=False)} for run_id, group in sessions.items()),
        key=lambda s: -(s["misses"]["usd"] + s["wasted_writes"]["usd"]),
    )[:MAX_SESSIONS]
    return out


def _totals(steps: list[Step], *, examples: bool = True) -> dict[str, Any]:
    read = sum(s.call.tokens.cache_read for s in steps)
    prompt = sum(s.call.tokens.prompt for s in steps)
    misses = [s for s in steps if s.missed]
    by_cause = {}
    for cause, text in CAUSES.items():
        group = [s for s in misses if s.cause == cause]
        if group:
            by_cause[cause] = {"count": len(group), "tokens": sum(s.missed for s in group),
                               "usd": _sum(s.miss_usd for s in group), "description": text}
    wasted = [s for s in steps if s.wasted]
    out: dict[str, Any] = {
        "calls": len(steps),
        "explicit_calls": sum(s.explicit for s in steps),
        "hit_rate": read / prompt if prompt else None,
        "cache_read": read,
        "cache_write": sum(s.call.tokens.cache_write for s in steps),
        "misses": {"count": len(misses), "tokens": sum(s.missed for s in misses),
                   "usd": _sum(s.miss_usd for s in misses), "by_cause": by_cause},
        "wasted_writes": {"count": len(wasted), "tokens": sum(s.wasted for s in wasted),
                          "usd": _sum(s.wasted_usd for s in wasted)},
    }
    if examples:
        ranked = sorted(misses, key=lambda s: -(s.miss_usd or 0))
        out["examples"] = [_example(s) for s in ranked[:MAX_EXAMPLES]]
        for cause, row in by_cause.items():
            row["examples"] = [_example(s) for s in ranked if s.cause == cause][:MAX_EXAMPLES]
        out["wasted_examples"] = [
            {**s.call.where(), "model": s.call.model, "tokens": s.wasted, "usd": s.wasted_usd}
            for s in sorted(wasted, key=lambda s: -(s.wasted_usd or 0))[:MAX_EXAMPLES]
        ]
    return out


def _example(s: Step) -> dict[str, Any]:
    return {**s.call.where(), "model": s.call.model, "cause": s.cause, "tokens": s.missed, "usd": s.miss_usd,
            "gap_s": s.gap_s, "ttl_s": s.ttl_s}


def _sum(values) -> float:
    """A total over the priced amounts (an unpriced call's tokens are counted, its dollars unknown)."""
    return sum(v for v in values if v is not None)
