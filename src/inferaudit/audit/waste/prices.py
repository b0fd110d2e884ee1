"""What-if prices on the same token counts: another model's rates, and batch processing.

Another model would not produce the same tokens (it may need more turns,
or fewer), so a saving computed this way is an **upper bound**, labelled
so. Batch prices are genai-prices' batch variants at today's rates, set
beside today's standard rates for the same calls; they fit only work that
can wait (a batch may take up to 24 hours), never an interactive agent
loop, so only calls that are a run of their own count as batchable.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ...pricing import PriceBook
from .calls import CallView


def model_what_if(calls: list[CallView], book: PriceBook) -> list[dict[str, Any]]:
    """For each priced model: its calls' cost, and the same calls at every other priced model's rates."""
    by_model: dict[str, list[CallView]] = defaultdict(list)
    providers: dict[str, str | None] = {}
    for c in calls:
        if c.cost is not None and c.model:
            by_model[c.model].append(c)
            providers.setdefault(c.model, c.provider)
    out = []
    for model, group in by_model.items():
        actual = sum(c.cost for c in group)
        alternatives = []
        for other in by_model:
            if other == model:
                continue
            usd = _at(group, book, providers[other], other)
            if usd is not None:
                alternatives.append({"model": other, "provider": providers[other], "usd": usd, "saving_usd": actual - usd})
        alternatives.sort(key=lambda a: a["usd"])
        out.append({"model": model, "provider": providers[model], "calls": len(group), "actual_usd": actual, "alternatives": alternatives,
                    "basis": "upper bound: the same token counts at another model's prices; its tokens would differ"})
    out.sort(key=lambda m: -m["actual_usd"])
    return out


def _at(calls: list[CallView], book: PriceBook, provider: str | None, model: str) -> float | None:
    total = 0.0
    for c in calls:
        rates = book.rates(provider, model, c.start)
        if rates is None:
            return None
        total += rates.cost(c.tokens)
    return total


def batch_what_if(calls: list[CallView], book: PriceBook) -> dict[str, Any]:
    """Today's standard vs batch prices for the priced calls that have a batch price."""
    per_run: dict[str, int] = defaultdict(int)
    for c in calls:
        per_run[c.run_id] += 1
    standard = batch = 0.0
    lone_standard = lone_batch = 0.0
    n = lone = 0
    for c in calls:
        if c.cost is None:
            continue
        rates, batch_rates = book.rates(c.provider, c.model), book.batch_rates(c.provider, c.model)
        if rates is None or batch_rates is None:
            continue
        s, b = rates.cost(c.tokens), batch_rates.cost(c.tokens)
        standard, batch, n = standard + s, batch + b, n + 1
        if per_run[c.run_id] == 1:
            lone_standard, lone_batch, lone = lone_standard + s, lone_batch + b, lone + 1
    return {
        "calls": n,
        "standard_usd_today": standard,
        "batch_usd_today": batch,
        "saving_usd": standard - batch,
        "batchable": {"calls": lone, "standard_usd_today": lone_standard, "saving_usd": lone_standard - lone_batch},
        "basis": "estimate at today's prices; batchable = calls that are a run of their own (no conversation waits on them)",
    }
