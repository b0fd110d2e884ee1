"""The ranked levers: which knob would change the bill, by how much, on what evidence.

Each lever is a function of the waste analyses registered in ``LEVERS``
(add one by adding a function); it returns a :class:`Lever` or ``None``
when the data shows nothing for it. Levers are ranked by dollars; their
``share`` is of the audit's total spend. Levers overlap (a 1-hour TTL
also changes which writes are wasted), so their dollars do not add up.

``basis`` says what the dollars are: ``measured`` (what the records show
was paid), ``estimate`` (a model of what was not recorded, stated in the
evidence) or ``upper bound`` (a saving at most this large). ``confidence``
is ``high``, ``medium`` or ``low``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .loops import proposed_cap

MAX_EXAMPLES = 3


@dataclass(slots=True)
class Lever:
    name: str
    usd: float
    basis: str
    confidence: str
    action: str
    evidence: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    share: float | None = None


Analyses = dict[str, Any]
LEVERS: dict[str, Callable[[Analyses], Lever | None]] = {}


def lever(key: str):
    def register(fn: Callable[[Analyses], Lever | None]):
        LEVERS[key] = fn
        return fn
    return register


def ranked(analyses: Analyses, total_usd: float | None) -> list[dict[str, Any]]:
    """Every lever that applies, most dollars first, with its share of ``total_usd``."""
    found = []
    for key, fn in LEVERS.items():
        item = fn(analyses)
        if item is None or item.usd <= 0:
            continue
        item.key = key
        item.share = item.usd / total_usd if total_usd else None
        found.append(item)
    found.sort(key=lambda lv: -lv.usd)
    return [asdict(lv) for lv in found]


def _examples(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return items[:MAX_EXAMPLES]


@lever("cache_ttl")
def _cache_ttl(a: Analyses) -> Lever | None:
    ttl = a["what_if"]["cache_ttl"]
    best = ttl["best"]
    if best is None or best == ttl["actual_policy"]:
        return None
    saving = ttl["policies"][best]["saving_usd"]
    expiry = a["cache"]["misses"]["by_cause"].get("ttl_expiry", {"count": 0, "usd": 0.0})
    label = "no prompt caching" if best == "none" else f"a {best} cache TTL"
    return Lever(
        name=f"Cache TTL: {label} instead of {ttl['actual_policy']}",
        usd=saving, basis="measured", confidence="high" if ttl["calls"] >= 20 else "medium",
        action=f"write cache entries with {label}" if best != "none" else "stop writing to the prompt cache",
        evidence={
            "summary": (f"replaying {ttl['calls']} calls: actual ${ttl['actual_usd']:.4f}, "
                        + ", ".join(f"{k} ${v['usd']:.4f}" for k, v in ttl["policies"].items())
                        + f"; {expiry['count']} misses from TTL expiry cost ${expiry['usd']:.4f}"),
            "counts": {"calls": ttl["calls"], "ttl_expiry_misses": expiry["count"]},
            "examples": _examples(expiry.get("examples", [])),
        },
    )


def _miss_lever(cause: str, name: str, action: str, confidence: str) -> Callable[[Analyses], Lever | None]:
    def build(a: Analyses) -> Lever | None:
        row = a["cache"]["misses"]["by_cause"].get(cause)
        if not row:
            return None
        return Lever(
            name=name, usd=row["usd"], basis="measured", confidence=confidence, action=action,
            evidence={
                "summary": f"misses: {row['count']}, {row['tokens']:,} tokens billed beyond a cache read ({row['description']})",
                "counts": {"misses": row["count"], "tokens": row["tokens"]},
                "examples": _examples(row["examples"]),
            },
        )
    return build


LEVERS["prefix_changes"] = _miss_lever(
    "prefix_change", "Cache misses: prompt prefix changed", "keep the system prompt, tools and early messages byte-stable",
    "medium")
LEVERS["model_switches"] = _miss_lever(
    "model_switch", "Cache misses: model switched mid-conversation", "keep one model per conversation (side tasks in a subagent)",
    "high")


@lever("wasted_writes")
def _wasted_writes(a: Analyses) -> Lever | None:
    w = a["cache"]["wasted_writes"]
    if not w["count"]:
        return None
    return Lever(
        name="Cache writes never read before expiry", usd=w["usd"], basis="measured", confidence="high",
        action="place cache breakpoints only where a later call will read (not on one-off or final calls)",
        evidence={
            "summary": f"{w['count']} writes, {w['tokens']:,} tokens, paid the write premium and were never read",
            "counts": {"writes": w["count"], "tokens": w["tokens"]},
            "examples": _examples(a["cache"]["wasted_examples"]),
        },
    )


@lever("retries")
def _retries(a: Analyses) -> Lever | None:
    r = a["retries"]
    if not (r["failed_calls"] or r["retry_events"]):
        return None
    return Lever(
        name="Failed and retried calls", usd=r["failed_usd"], basis="measured",
        confidence="high" if r["failed_calls"] else "low",
        action="fix the failure cause (rate limits, timeouts) or retry with backoff on another deployment",
        evidence={
            "summary": (f"{r['failed_calls']} failed attempts billed ${r['failed_usd']:.4f}; {r['retried_calls']} calls "
                        f"were retries; {r['retry_events']} retry events waited {r['retry_wait_s']:.0f}s"),
            "counts": {"failed_calls": r["failed_calls"], "retried_calls": r["retried_calls"], "retry_events": r["retry_events"]},
            "examples": _examples(r["examples"]),
        },
    )


@lever("loop_cap")
def _loop_cap(a: Analyses) -> Lever | None:
    picks = [(g, proposed_cap(g)) for g in a["loop_caps"]]
    picks = [(g, c) for g, c in picks if c]
    if not picks:
        return None
    usd = sum(c["saved_usd"] for _, c in picks)
    lost = sum(c["successes_lost"] for _, c in picks)
    resolved = sum(g["resolved"] for g, _ in picks)
    exact = all(g["basis"] == "per-call costs" for g, _ in picks)
    return Lever(
        name="Cap agent turns per run", usd=usd, basis="measured" if exact else "estimate",
        confidence="medium" if exact else "low",
        action="stop a run after the turn count successful runs rarely exceed",
        evidence={
            "summary": (f"caps in {len(picks)} group(s) save ${usd:.2f} and lose {lost} of {resolved} successes "
                        "(each cap loses at most 1% of its group's)"),
            "counts": {"groups": len(picks), "successes_lost": lost},
            "examples": [{"group": f"{g['model']} / {g['harness']} / {g['benchmark']}", "cap": c["cap"],
                          "saved_usd": c["saved_usd"], "successes_lost": c["successes_lost"], "basis": g["basis"]}
                         for g, c in sorted(picks, key=lambda p: -p[1]["saved_usd"])[:MAX_EXAMPLES]],
        },
    )


@lever("context_growth")
def _context(a: Analyses) -> Lever | None:
    cap = a["context"]["context_cap"]
    if not cap["calls_over"]:
        return None
    return Lever(
        name=f"Context above {cap['target_tokens']:,} tokens", usd=cap["usd"], basis="upper bound", confidence="low",
        action="compact earlier, or drop stale tool output from the context",
        evidence={
            "summary": (f"{cap['calls_over']} calls re-sent {cap['tokens_over']:,} prompt tokens above the target; "
                        f"{a['context']['compactions']} compaction(s) seen"),
            "counts": {"calls_over": cap["calls_over"], "compactions": a["context"]["compactions"]},
            "examples": [cap["largest"]] if cap["largest"] else [],
        },
    )


@lever("model_tier")
def _model_tier(a: Analyses) -> Lever | None:
    moves = []
    for m in a["what_if"]["models"]:
        cheaper = [alt for alt in m["alternatives"] if alt["saving_usd"] > 0 and alt["provider"] == m["provider"]]
        if cheaper:
            moves.append((m, max(cheaper, key=lambda alt: alt["usd"])))  # the next tier down, not the cheapest
    if not moves:
        return None
    usd = sum(alt["saving_usd"] for _, alt in moves)
    return Lever(
        name="Model tier: the provider's next cheaper model seen", usd=usd, basis="upper bound", confidence="low",
        action="route work a cheaper model can do to it (check quality first: its token counts and success differ)",
        evidence={
            "summary": "; ".join(f"{m['model']} ({m['calls']} calls) at {alt['model']} prices: saves ${alt['saving_usd']:.4f}"
                                 for m, alt in moves[:MAX_EXAMPLES]),
            "counts": {"models": len(moves)},
            "examples": [],
        },
    )


@lever("batch")
def _batch(a: Analyses) -> Lever | None:
    b = a["what_if"]["batch"]["batchable"]
    if not b["calls"]:
        return None
    return Lever(
        name="Batch processing for calls nothing waits on", usd=b["saving_usd"], basis="estimate", confidence="medium",
        action="send one-off calls that tolerate up to 24 hours' delay through the batch API",
        evidence={"summary": f"{b['calls']} single-call runs: ${b['standard_usd_today']:.4f} at today's standard prices",
                  "counts": {"calls": b["calls"]}, "examples": []},
    )
