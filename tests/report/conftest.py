"""A realistic audit dict for the report tests, built the way the audit would build it.

``make_report()`` gives ~40 triples over the five OpenHands Index benchmarks,
with per-run costs of $0.05-$5 and success rates like the Index's, the cost
and wall-time Pareto flags and ``dominated_by`` computed properly, a few
sessions with timelines, one unpriced model, warnings, problems, some
``None`` fields, and strings carrying ``<script>`` to check escaping.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
COST_BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
EVIL = "<script>alert('x')</script>"
EVIL_URL = '<script src="https://evil.example/x.js"></script>'
EVIL_ATTR = '"><img src=x onerror=alert(1)>'

# model: (provider, skill 0..1, USD per M input, USD per M output, speed factor); None prices: unpriced
MODELS = {
    "claude-opus-4-6": ("anthropic", 0.74, 5.0, 25.0, 1.0),
    "claude-sonnet-4-5": ("anthropic", 0.70, 3.0, 15.0, 0.8),
    "GPT-5.5": ("openai", 0.75, 5.0, 30.0, 1.3),
    "GPT-5.4": ("openai", 0.71, 2.5, 15.0, 1.1),
    "gemini-3-pro": ("google", 0.68, 2.0, 12.0, 0.9),
    "deepseek-v3.2": ("deepseek", 0.60, 0.28, 0.42, 1.4),
    "qwen3-coder-480b": ("alibaba", 0.57, 0.45, 1.8, 1.2),
    EVIL: ("evil", 0.50, 1.0, 4.0, 1.0),
    "acme-coder-7b": ("local", 0.35, None, None, 0.7),
}
HARNESS = {"anthropic": ["openhands", "acp-claude"], "openai": ["openhands", "acp-codex"]}
POLICIES = ("default", "no-cache", "1h-ttl")
# benchmark: (difficulty factor on success, cost factor, base wall seconds, runs)
BENCHMARKS = {
    "swe-bench": (1.0, 1.0, 300, 500),
    "swe-bench-multimodal": (0.62, 1.3, 420, 102),
    "swt-bench": (0.9, 0.9, 280, 433),
    "commit0": (0.5, 3.5, 1500, 16),
    "gaia": (0.88, 1.4, 330, 165),
}


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    if n <= 0:
        return None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [max(0.0, mid - half), min(1.0, mid + half)]


def _key(t: dict) -> dict:
    return {k: t[k] for k in ("model", "harness", "cache_policy", "benchmark")}


def set_pareto(triples: list[dict]) -> None:
    """The audit's rule: a triple is dominated when another of its benchmark costs (or takes) no
    more and succeeds at least as often, one of the two strictly."""
    for t in triples:
        t["pareto"] = {"cost": False, "wall_time": False}
        t["dominated_by"] = []
    for axis, field, noun in (("cost", "cost_per_run", "cost"), ("wall_time", "wall_time_s", "time")):
        for t in triples:
            v, s = t.get(field), t.get("success_rate")
            if v is None or s is None:
                continue
            doms = []
            for o in triples:
                ov, osr = o.get(field), o.get("success_rate")
                if o is t or o["benchmark"] != t["benchmark"] or ov is None or osr is None:
                    continue
                if ov <= v and osr >= s and (ov < v or osr > s):
                    factor = v / ov if ov > 0 else float("inf")
                    how = "lower" if osr > s else "equal"
                    doms.append({**_key(o), "axis": axis, "factor": round(factor, 2),
                                 "text": f"{factor:.1f}x the {noun} at {how} success"})
            t["pareto"][axis] = not doms
            t["dominated_by"] += sorted(doms, key=lambda d: -d["factor"])


def _headline(triples: list[dict], within: float = 3.0) -> list[dict]:
    out = []
    for bench in BENCHMARKS:
        ts = [t for t in triples if t["benchmark"] == bench and t["success_rate"] is not None and t["cost_per_run"]]
        best = None
        for a in ts:
            for b in ts:
                if a["cost_per_run"] < b["cost_per_run"] and abs(a["success_rate"] - b["success_rate"]) * 100 <= within:
                    ratio = b["cost_per_run"] / a["cost_per_run"]
                    if best is None or ratio > best[0]:
                        best = (ratio, a, b)
        if best is None:
            continue
        ratio, a, b = best
        side = lambda t: {k: t[k] for k in ("model", "harness", "cache_policy", "success_rate", "cost_per_run")}  # noqa: E731
        out.append({
            "benchmark": bench, "within_points": within, "ratio": ratio, "cheap": side(a), "expensive": side(b),
            "text": (f"On {bench}, {b['model']} ({b['harness']}, {b['cache_policy']}) costs {ratio:.1f}x as much per run "
                     f"as {a['model']} ({a['harness']}, {a['cache_policy']}) for a success rate within {within:g} points "
                     f"({b['success_rate'] * 100:.1f}% vs {a['success_rate'] * 100:.1f}%)."),
        })
    return out


def _triple(rng: random.Random, model: str, harness: str, policy: str, bench: str) -> dict:
    provider, skill, pin, pout, speed = MODELS[model]
    difficulty, cost_f, wall_base, runs = BENCHMARKS[bench]
    rate = min(0.95, max(0.02, skill * difficulty + rng.uniform(-0.06, 0.06) - (0.02 if policy == "no-cache" else 0)))
    resolved = round(rate * runs)
    hit = {"default": 0.86, "no-cache": 0.0, "1h-ttl": 0.91}[policy] + rng.uniform(-0.04, 0.03) * (policy != "no-cache")
    prompt = rng.uniform(0.6e6, 2.5e6) * cost_f  # prompt tokens per run
    out_tok = prompt * rng.uniform(0.008, 0.02)
    per_run = {
        "input": prompt * (1 - hit) * (0.5 if policy != "no-cache" else 1.0),
        "cache_read": prompt * hit,
        "cache_write_5m": prompt * (1 - hit) * 0.5 if policy == "default" else 0.0,
        "cache_write_1h": prompt * (1 - hit) * 0.5 if policy == "1h-ttl" else 0.0,
        "output": out_tok,
    }
    tokens = {b: int(per_run.get(b, 0) * runs) for b in COST_BUCKETS}
    tokens["reasoning"] = int(tokens["output"] * rng.uniform(0.2, 0.6))
    if pin is None:
        cost_by_bucket = cost_usd = None
        unpriced = sum(tokens[b] for b in COST_BUCKETS)
    else:
        rates = {"input": pin, "cache_read": pin * 0.1, "cache_write_5m": pin * 1.25, "cache_write_1h": pin * 2, "output": pout}
        cost_by_bucket = {b: tokens[b] * rates[b] / 1e6 for b in COST_BUCKETS}
        cost_usd = sum(cost_by_bucket.values())
        unpriced = 0
    cpr = cost_usd / runs if cost_usd is not None else None
    cache_den = tokens["input"] + tokens["cache_read"] + tokens["cache_write_5m"] + tokens["cache_write_1h"]
    return {
        "model": model, "harness": harness, "cache_policy": policy, "benchmark": bench, "runs": runs,
        "resolved": resolved, "success_rate": resolved / runs, "success_ci": wilson(resolved, runs),
        "cost_per_run": cpr, "cost_per_run_median": cpr * rng.uniform(0.7, 0.95) if cpr else None,
        "cost_per_success": cost_usd / resolved if cost_usd is not None and resolved else None,
        "cost_usd": cost_usd, "tokens": tokens, "cost_by_bucket": cost_by_bucket,
        "cache_hit_rate": tokens["cache_read"] / cache_den if cache_den else None,
        "wall_time_s": wall_base * speed * rng.uniform(0.8, 1.25), "calls_per_run": rng.uniform(25, 90),
        "unpriced_tokens": unpriced, "_provider": provider,
    }


def _session(rng: random.Random, i: int, start: datetime, model: str | None, harness: str | None) -> dict:
    minutes = rng.uniform(4, 120)
    n = rng.randint(8, 40)
    total = rng.uniform(0.05, 12.0)
    times = sorted(rng.uniform(0, minutes) for _ in range(n))
    steps = sorted(rng.random() for _ in range(n))
    timeline = [[(start + timedelta(minutes=m)).isoformat(), round(total * s / steps[-1], 6)] for m, s in zip(times, steps)]
    return {
        "id": f"{i:08x}-4d56-11e5-241a-462a8d15{i:04d}", "model": model, "harness": harness,
        "tokens": {b: rng.randint(0, 4_000_000) for b in BUCKETS}, "cost_usd": timeline[-1][1],
        "start": timeline[0][0], "end": timeline[-1][0], "timeline": timeline,
    }


def _make_report(seed: int = 7, n_sessions: int = 6, n_problems: int = 60, problem_count: int = 73) -> dict:
    rng = random.Random(seed)
    combos = [(m, h, p) for m, v in MODELS.items() for h in HARNESS.get(v[0], ["openhands"]) for p in POLICIES]
    triples = []
    for bench in BENCHMARKS:
        picks = rng.sample([c for c in combos if EVIL not in c[0] and "acme" not in c[0]], 8)
        if bench == "swe-bench":
            picks[-1] = (EVIL, "openhands", "default")
            picks[-2] = ("acme-coder-7b", "openhands", "default")
        triples += [_triple(rng, m, h, p, bench) for m, h, p in picks]
    # Outcome unknown for one triple; another had no calls at all.
    triples[3].update(success_rate=None, success_ci=None, resolved=0, cost_per_success=None)
    triples[12].update(
        tokens={b: 0 for b in BUCKETS}, cost_by_bucket=None, cost_usd=None, cost_per_run=None, cost_per_run_median=None,
        cost_per_success=None, cache_hit_rate=None, wall_time_s=None, calls_per_run=None, unpriced_tokens=0,
    )
    set_pareto(triples)
    providers = {id(t): t.pop("_provider") for t in triples}
    totals = {b: sum(t["tokens"][b] for t in triples) for b in BUCKETS}
    den = totals["input"] + totals["cache_read"] + totals["cache_write_5m"] + totals["cache_write_1h"]
    unp = [t for t in triples if t["unpriced_tokens"]]
    start = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    sessions = [
        _session(rng, i, start + timedelta(hours=5 * i), rng.choice(["claude-opus-4-6", "GPT-5.5", None]), "claude-code")
        for i in range(n_sessions)
    ]
    if sessions:
        sessions[0]["id"] = EVIL
        sessions[-1].update(timeline=[], cost_usd=None, start=None, end=None)
    return {
        "generated_at": "2026-11-27T12:00:00+00:00",
        "ledger": "/home/dev/.inferaudit/ledger.duckdb",
        "inferaudit_version": "0.1.0",
        "totals": {
            **totals, "cost_usd": sum(t["cost_usd"] or 0 for t in triples),
            "unpriced_tokens": sum(t["unpriced_tokens"] for t in triples),
            "calls": int(sum((t["calls_per_run"] or 0) * t["runs"] for t in triples)),
            "runs": sum(t["runs"] for t in triples), "cache_hit_rate": totals["cache_read"] / den,
        },
        "headline": _headline(triples),
        "triples": triples,
        "sessions": sessions,
        "unpriced": [
            {"provider": providers[id(t)], "model": t["model"], "calls": int(t["calls_per_run"] * t["runs"]),
             "tokens": t["tokens"]} for t in unp
        ],
        "warnings": [
            {"kind": "outcome-unknown", "group": "GPT-5.4 / openhands", "message": "412 runs have no recorded outcome"},
            {"kind": "cache-miss", "group": "claude-opus-4-6", "message": "cache hit rate fell to 12% after 2026-11-21"},
            {"kind": "evil", "group": EVIL, "message": EVIL_ATTR},
        ],
        "problems": [
            {"file": f"/logs/claude-code/spotter/{i:03d}.jsonl" if i != 1 else EVIL_URL,
             "line": (i * 17 if i % 7 else None), "reason": "unparseable JSON" if i % 3 else "usage without a model"}
            for i in range(n_problems)
        ],
        "problem_count": problem_count,
    }


@pytest.fixture
def make_report():
    """The generator itself, to build variants: ``make_report(seed=..., n_sessions=...)``."""
    return _make_report


@pytest.fixture
def report():
    return _make_report()
