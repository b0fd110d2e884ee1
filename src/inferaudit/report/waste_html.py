"""The HTML section "Where the money went, and what would change it".

Reads the audit's ``levers`` and ``waste`` keys; like the rest of the HTML
report it accepts any value in any field and escapes every string.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from . import htmlfmt as fmt
from .htmlfmt import DASH, as_dict, as_list, as_text, esc, num

MAX_CAP_GROUPS = 8


def _where(example: Any) -> str:
    e = as_dict(example)
    file = as_text(e.get("file"))
    if not file:
        return as_text(e.get("group"))
    line = num(e.get("line"))
    short = "/".join(PurePath(file).parts[-2:])
    return f"{short}:{int(line)}" if line is not None else short


def _share(value: Any) -> str:
    share = num(value)
    return "<0.1%" if share is not None and 0 < share < 0.001 else fmt.pct(share)


def _levers(r: dict) -> str:
    levers = [lv for lv in as_list(r.get("levers")) if isinstance(lv, dict)]
    if not levers:
        return '<p class="empty">No lever found in these records.</p>'
    rows = []
    for i, lv in enumerate(levers, 1):
        ev = as_dict(lv.get("evidence"))
        examples = [x for x in as_list(ev.get("examples")) if isinstance(x, dict)]
        where = "".join(f'<div class="where" title="{esc(x.get("file"))}">{esc(_where(x))}</div>' for x in examples)
        basis = as_text(lv.get("basis"))
        rows.append(
            f"<tr><td>{i}</td><td class='name'>{esc(lv.get('name')) or DASH}"
            f"<div class='muted'>{esc(lv.get('action'))}</div></td>"
            f"<td data-v='{num(lv.get('usd')) or 0!r}'>{esc(fmt.usd(lv.get('usd')))}</td>"
            f"<td>{esc(_share(lv.get('share')))}</td>"
            f"<td><span class='tag basis-{esc(basis.replace(' ', '-'))}'>{esc(basis) or DASH}</span></td>"
            f"<td>{esc(lv.get('confidence')) or DASH}</td><td>{esc(ev.get('summary'))}{where}</td></tr>"
        )
    return (
        '<div class="table-wrap"><table class="plain text levers"><thead><tr><th>#</th><th>Lever</th><th>USD</th>'
        "<th>Share</th><th>Basis</th><th>Confidence</th><th>Evidence</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cache(w: dict) -> str:
    cache = as_dict(w.get("cache"))
    if not num(cache.get("calls")):
        return ""
    misses, wasted = as_dict(cache.get("misses")), as_dict(cache.get("wasted_writes"))
    rows = "".join(
        f"<tr><td>{esc(cause)}</td><td>{esc(as_dict(row).get('description'))}</td>"
        f"<td>{fmt.integer(as_dict(row).get('count'))}</td><td>{fmt.compact(as_dict(row).get('tokens'))}</td>"
        f"<td>{esc(fmt.usd(as_dict(row).get('usd')))}</td>"
        f"<td>{''.join(f'<div class=where>{esc(_where(x))}</div>' for x in as_list(as_dict(row).get('examples'))[:3])}</td></tr>"
        for cause, row in as_dict(misses.get("by_cause")).items()
    )
    table = (
        '<div class="table-wrap"><table class="plain text"><thead><tr><th>Cause</th><th>Meaning</th><th>Misses</th>'
        f"<th>Tokens</th><th>USD</th><th>Examples</th></tr></thead><tbody>{rows}</tbody></table></div>" if rows else ""
    )
    no_cache = as_dict(as_dict(w.get("what_if")).get("no_cache_all_calls"))
    return (
        f"<h3>Prompt cache</h3><p>Hit rate <b>{esc(fmt.pct(cache.get('hit_rate')))}</b> over "
        f"{fmt.integer(cache.get('calls'))} calls; {fmt.integer(misses.get('count'))} misses "
        f"({fmt.compact(misses.get('tokens'))} tokens, {esc(fmt.usd(misses.get('usd')))}); "
        f"{fmt.integer(wasted.get('count'))} cache writes never read before expiry "
        f"({fmt.compact(wasted.get('tokens'))} tokens, {esc(fmt.usd(wasted.get('usd')))} of write premium). "
        f"Caching saved {esc(fmt.usd(no_cache.get('caching_saved_usd')))} against no caching.</p>{table}"
    )


def _ttl(w: dict) -> str:
    ttl = as_dict(as_dict(w.get("what_if")).get("cache_ttl"))
    if not num(ttl.get("calls")):
        return ""
    cells = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(fmt.usd(as_dict(p).get('usd')))}</td>"
        f"<td>{esc(fmt.usd(as_dict(p).get('saving_usd')))}</td></tr>"
        for name, p in as_dict(ttl.get("policies")).items()
    )
    return (
        f"<h3>What if: cache TTL</h3><p class='lede'>{esc(ttl.get('basis'))}. {fmt.integer(ttl.get('calls'))} calls; "
        f"actual ({esc(ttl.get('actual_policy'))}) {esc(fmt.usd(ttl.get('actual_usd')))}.</p>"
        '<div class="table-wrap"><table class="plain"><thead><tr><th>Policy</th><th>USD</th><th>Saving</th></tr></thead>'
        f"<tbody>{cells}</tbody></table></div>"
    )


def _models(w: dict) -> str:
    what_if = as_dict(w.get("what_if"))
    rows = []
    for m in as_list(what_if.get("models")):
        m = as_dict(m)
        for a in as_list(m.get("alternatives")):
            a = as_dict(a)
            rows.append(f"<tr><td>{esc(m.get('model'))}</td><td>{esc(a.get('model'))}</td>"
                        f"<td>{fmt.integer(m.get('calls'))}</td><td>{esc(fmt.usd(m.get('actual_usd')))}</td>"
                        f"<td>{esc(fmt.usd(a.get('usd')))}</td><td>{esc(fmt.usd(a.get('saving_usd')))}</td></tr>")
    batch = as_dict(what_if.get("batch"))
    batch_text = (
        f"<p>Batch (estimate at today's prices): {fmt.integer(batch.get('calls'))} calls cost "
        f"{esc(fmt.usd(batch.get('standard_usd_today')))} at standard rates, {esc(fmt.usd(batch.get('batch_usd_today')))} "
        f"as batches; {fmt.integer(as_dict(batch.get('batchable')).get('calls'))} of them are calls nothing waits on.</p>"
        if num(batch.get("calls")) else ""
    )
    if not rows:
        return batch_text
    return (
        "<h3>What if: another model's prices</h3><p class='lede'>Upper bounds: the same token counts at another "
        "model's prices; another model would use different tokens and succeed differently.</p>"
        '<div class="table-wrap"><table class="plain"><thead><tr><th>Model</th><th>At the prices of</th><th>Calls</th>'
        f"<th>Actual</th><th>What-if</th><th>Saving</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>{batch_text}"
    )


def _loop_caps(w: dict) -> str:
    groups = [as_dict(g) for g in as_list(w.get("loop_caps")) if as_list(as_dict(g).get("caps"))][:MAX_CAP_GROUPS]
    if not groups:
        return ""
    rows = []
    for g in groups:
        name = " \u00b7 ".join(as_text(g.get(k)) for k in ("model", "harness", "benchmark") if g.get(k))
        for c in as_list(g.get("caps")):
            c = as_dict(c)
            rows.append(f"<tr><td>{esc(name)}</td><td>{esc(g.get('basis'))}</td><td>{fmt.integer(c.get('cap'))}</td>"
                        f"<td>{fmt.integer(c.get('runs_capped'))}</td><td>{fmt.integer(c.get('successes_lost'))}</td>"
                        f"<td>{esc(fmt.usd(c.get('saved_usd')))}</td><td>{esc(fmt.usd(c.get('saved_on_failed_usd')))}</td>"
                        f"<td>{esc(fmt.pct(c.get('success_rate_after')))}</td>"
                        f"<td>{esc(fmt.usd(c.get('cost_per_success_after')))}</td></tr>")
    return (
        "<h3>What if: a cap on turns per run</h3><p class='lede'>Caps at percentiles of the turns successful runs "
        "took. Successes lost: runs that succeeded after more turns than the cap.</p>"
        '<div class="table-wrap"><table class="plain"><thead><tr><th>Group</th><th>Basis</th><th>Cap</th><th>Runs capped</th>'
        "<th>Successes lost</th><th>Saved</th><th>Saved on failed runs</th><th>Success after</th><th>$/success after</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _context_and_retries(w: dict) -> str:
    ctx, r = as_dict(w.get("context")), as_dict(w.get("retries"))
    items = []
    for s in as_list(ctx.get("sessions")):
        for c in as_list(as_dict(s).get("compactions")):
            c = as_dict(c)
            items.append(f"<li><span class='where'>{esc(_where(c))}</span>: prompt {fmt.compact(c.get('prompt_before'))}"
                         f" \u2192 {fmt.compact(c.get('prompt_after'))} tokens; cost per call "
                         f"{esc(fmt.usd(c.get('cost_per_call_before')))} \u2192 {esc(fmt.usd(c.get('cost_per_call_after')))}</li>")
    out = f"<h3>Context and compactions</h3><ul>{''.join(items)}</ul>" if items else ""
    if num(r.get("failed_calls")) or num(r.get("retry_events")) or num(r.get("retried_calls")):
        out += (f"<h3>Retries</h3><p>{fmt.integer(r.get('failed_calls'))} failed attempts billed "
                f"{esc(fmt.usd(r.get('failed_usd')))}; {fmt.integer(r.get('retried_calls'))} calls were retries; "
                f"{fmt.integer(r.get('retry_events'))} retry events ({esc(fmt.duration(r.get('retry_wait_s')))} waiting).</p>")
    return out


def levers(r: dict) -> str:
    """The whole section."""
    w = as_dict(r.get("waste"))
    return (
        '<section id="levers"><h2>Where the money went, and what would change it</h2><p class="lede">Levers ranked '
        "by dollars. <b>measured</b>: paid, per the records; <b>estimate</b>: a model of what was not recorded; "
        "<b>upper bound</b>: a saving at most this large. Levers overlap: their dollars do not add up.</p>"
        f"{_levers(r)}{_cache(w)}{_ttl(w)}{_models(w)}{_loop_caps(w)}{_context_and_retries(w)}</section>"
    )
