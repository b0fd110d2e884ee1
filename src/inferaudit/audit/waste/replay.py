"""What-if replays of the cache TTL on the same calls at the same times.

Over the threads with an explicit cache (writes billed), each call is
re-billed as if every write had used one TTL:

- a miss caused by TTL expiry whose gap fits the new TTL becomes a hit: its
  missed tokens move from the write (then input) buckets to cache reads;
- a hit on the thread's own cache whose gap exceeds the new TTL (though it
  fit the one actually used) becomes a miss: what it read is written again;
- every write is priced at the new TTL's write rate.

Misses of any other cause stay misses. Replaying the TTL a thread actually
used gives back its actual cost. Only providers whose writes can pick a TTL
are replayed (Anthropic; OpenAI's writes have one). ``none`` bills every prompt token as
plain input: what the calls would have cost with no prompt caching.
"""

from __future__ import annotations

from typing import Any

from ...usage import Tokens
from .cache import Step, split_missed
from .cache_rules import FIVE_MINUTES, ONE_HOUR, rule_for

POLICIES = {"5m": FIVE_MINUTES, "1h": ONE_HOUR}


def replay(step: Step, ttl_s: float | None) -> Tokens:
    """The call's buckets under one TTL for every write (``None``: no caching at all)."""
    t = step.call.tokens
    if ttl_s is None:
        return Tokens(input=t.prompt, output=t.output, reasoning=t.reasoning)
    read, write, plain = t.cache_read, t.cache_write, t.input
    if step.same_model and step.gap_s is not None and step.ttl_s is not None:
        if step.cause == "ttl_expiry" and step.gap_s <= ttl_s:
            w1, w5, inp = split_missed(step.call, step.missed)
            read, write, plain = read + step.missed, write - w1 - w5, plain - inp
        elif step.cause is None and step.gap_s <= step.ttl_s and step.gap_s > ttl_s:
            moved = min(read, step.expected)
            read, write = read - moved, write + moved
    one_hour = ttl_s > FIVE_MINUTES
    return Tokens(input=plain, cache_read=read, cache_write_5m=0 if one_hour else write,
                  cache_write_1h=write if one_hour else 0, output=t.output, reasoning=t.reasoning)


def ttl_what_if(steps: list[Step]) -> dict[str, Any]:
    """Actual cost of the explicit-cache threads' priced calls, and their cost under each policy."""
    priced = [s for s in steps if s.explicit and s.call.rates is not None and s.call.cost is not None
              and rule_for(s.call.provider).ttl_choice]
    actual = sum(s.call.cost for s in priced)
    policies = {}
    for name, ttl in (*POLICIES.items(), ("none", None)):
        usd = sum(s.call.rates.cost(replay(s, ttl)) for s in priced)
        policies[name] = {"usd": usd, "saving_usd": actual - usd}
    best = min(policies, key=lambda k: policies[k]["usd"]) if priced else None
    return {
        "calls": len(priced),
        "actual_usd": actual,
        "actual_policy": _actual_policy(priced),
        "policies": policies,
        "best": best,
        "basis": "replay: the same calls at the same times; only the cache TTL changes",
    }


def _actual_policy(steps: list[Step]) -> str | None:
    w5 = sum(s.call.tokens.cache_write_5m for s in steps)
    w1 = sum(s.call.tokens.cache_write_1h for s in steps)
    if not (w5 or w1):
        return None
    return "5m+1h" if w5 and w1 else ("1h" if w1 else "5m")
