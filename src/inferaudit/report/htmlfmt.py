"""Number and text formatting, and safe access to the audit dict, for the HTML report.

Every function accepts anything (``None``, strings, NaN) and never raises:
a value that is not a finite number is shown as an em dash.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timezone
from html import escape
from typing import Any

DASH = "\u2014"


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes included); ``None`` is the empty string."""
    return "" if value is None else escape(str(value), quote=True)


def num(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (bools and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def usd(value: Any) -> str:
    """USD: 2 decimals from $1 up, 3 significant digits (at most 4 decimals) below."""
    v = num(value)
    if v is None:
        return DASH
    sign, a = ("-" if v < 0 else ""), abs(v)
    if a == 0:
        return "$0.00"
    if a >= 1:
        return f"{sign}${a:,.2f}"
    if a < 0.0001:
        return f"{sign}<$0.0001"
    decimals = min(4, max(2, 2 - math.floor(math.log10(a))))
    return f"{sign}${a:.{decimals}f}"


def usd_short(value: Any) -> str:
    """USD for axis ticks: as few digits as the value needs."""
    v = num(value)
    if v is None:
        return DASH
    if abs(v) >= 1000:
        return f"${v / 1000:g}k"
    if abs(v) >= 1 or v == 0:
        return f"${v:,.2f}".replace(".00", "")
    return f"${v:.4f}".rstrip("0")


def pct(value: Any, digits: int = 1) -> str:
    """A 0..1 fraction as a percentage."""
    v = num(value)
    return DASH if v is None else f"{v * 100:.{digits}f}%"


def ci(value: Any) -> str:
    """A ``[lo, hi]`` 0..1 interval as ``[lo–hi]`` in percent."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return DASH
    lo, hi = num(value[0]), num(value[1])
    if lo is None or hi is None:
        return DASH
    return f"[{lo * 100:.1f}\u2013{hi * 100:.1f}]"


def integer(value: Any) -> str:
    v = num(value)
    return DASH if v is None else f"{round(v):,}"


def compact(value: Any) -> str:
    """Token counts: 950, 12.3k, 4.56M, 1.2B."""
    v = num(value)
    if v is None:
        return DASH
    a = abs(v)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            q = v / div
            return f"{q:.3g}{suffix}" if abs(q) < 1000 else f"{q:,.0f}{suffix}"
    return f"{round(v):,}"


def number(value: Any, digits: int = 1) -> str:
    v = num(value)
    return DASH if v is None else f"{v:,.{digits}f}"


def duration(value: Any) -> str:
    """Seconds as ``42s``, ``4m 12s`` or ``2h 05m``."""
    v = num(value)
    if v is None:
        return DASH
    s = round(v)
    if s < 60:
        return f"{v:.0f}s" if v >= 10 else f"{v:.1f}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def duration_short(value: Any) -> str:
    """Seconds for axis ticks: ``30s``, ``5m``, ``1h``, ``1h30m``."""
    v = num(value)
    if v is None:
        return DASH
    s = round(v)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m" + (f"{s % 60:02d}s" if s % 60 else "")
    return f"{s // 3600}h" + (f"{s % 3600 // 60:02d}m" if s % 3600 // 60 else "")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware datetime (naive means UTC), or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def when(value: Any) -> str:
    """An ISO time as ``2026-11-27 12:00 UTC``; unparseable text is shown as it is."""
    t = parse_time(value)
    if t is None:
        return DASH if not value else str(value)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "\u2026"


TOKEN_BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
COST_BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
BUCKET_NAMES = {
    "input": "Input",
    "cache_read": "Cache read",
    "cache_write_5m": "Cache write 5m",
    "cache_write_1h": "Cache write 1h",
    "output": "Output",
    "reasoning": "Reasoning",
}


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def triple_name(t: dict, benchmark: bool = True) -> str:
    """``model · harness · cache_policy (benchmark)``."""
    name = " \u00b7 ".join(as_text(t.get(k)) or "?" for k in ("model", "harness", "cache_policy"))
    return f"{name} ({t['benchmark']})" if benchmark and t.get("benchmark") else name


def frontier_flags(triples: list[dict], axis: str, value_key: str) -> list[bool]:
    """Each triple's frontier flag on ``axis``: the audit's, or, where it gave none, computed
    within the triple's benchmark (no other is as good on both and better on one)."""
    out = []
    for t in triples:
        given = as_dict(t.get("pareto")).get(axis)
        c, s = num(t.get(value_key)), num(t.get("success_rate"))
        if isinstance(given, bool) or c is None or s is None:
            out.append(given is True)
            continue
        rivals = [(num(o.get(value_key)), num(o.get("success_rate"))) for o in triples
                  if o is not t and o.get("benchmark") == t.get("benchmark")]
        out.append(not any(
            oc is not None and os_ is not None and oc <= c and os_ >= s and (oc < c or os_ > s) for oc, os_ in rivals
        ))
    return out


def by_benchmark(triples: list[dict]) -> list[tuple[str | None, list[dict]]]:
    groups: dict[str | None, list[dict]] = defaultdict(list)
    for t in triples:
        b = t.get("benchmark")
        groups[None if b is None else str(b)].append(t)
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
