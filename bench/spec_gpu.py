"""Speculative decoding on a GPU: step costs before/after static KV + CUDA graphs, synthetic-acceptance
speedups against the advisor's prediction, and greedy token identity.

One command on the GPU machine (PYTHONPATH=src):

    python bench/spec_gpu.py --out $OUT             # the full run (H100/H200, ~8 min)
    python bench/spec_gpu.py --tiny                  # a CPU dry run with small shapes

Models are Llama-architecture with random weights (latency does not depend
on the values): an 8B-shaped target, 1B-shaped and 135M-shaped drafters
(the 135M shape is SmolLM2's: 30 thin layers), sharing the target's
vocabulary. Acceptance is synthetic (see inferaudit.speculative.synthetic).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from inferaudit.speculative.advisor import expected_tokens, speedup  # noqa: E402
from inferaudit.speculative.backends.hf import HFBackend  # noqa: E402
from inferaudit.speculative.backends.static import StaticBackend, StaticLlama  # noqa: E402
from inferaudit.speculative.decode import Sampling, decode  # noqa: E402
from inferaudit.speculative.drafters import NGramDrafter  # noqa: E402
from inferaudit.speculative.engine import KPolicy, SpecStats, speculate  # noqa: E402
from inferaudit.speculative.synthetic import plain, speculative, step_time  # noqa: E402

SHAPES = {  # hidden, intermediate, layers, heads, kv heads
    "8B": (4096, 14336, 32, 32, 8),
    "1B": (2048, 8192, 16, 32, 8),
    "135M": (576, 1536, 30, 9, 3),
}
TINY = {"8B": (256, 512, 4, 8, 2), "1B": (128, 256, 2, 4, 2), "135M": (64, 128, 3, 2, 1)}


def build(shape, vocab: int, dtype, device):
    hidden, inter, layers, heads, kv = shape
    cfg = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
                      num_key_value_heads=kv, vocab_size=vocab, max_position_embeddings=4096, rope_theta=500000.0,
                      tie_word_embeddings=False, attn_implementation="sdpa")
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(previous)
    return model.eval()


def copy_bandwidth(device) -> float:
    """Bytes read plus written per second for a large device-to-device copy."""
    if device.type != "cuda":
        return float("nan")
    src = torch.randn(1 << 30, dtype=torch.bfloat16, device=device)  # 2 GiB
    dst = torch.empty_like(src)
    times = []
    for _ in range(10):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        times.append(begin.elapsed_time(end) / 1000)
    del src, dst
    return 2 * (1 << 30) * 2 / statistics.median(times[2:])


def eager_step(model, batch: int, context: int, device, repeats: int = 20) -> float:
    """Median seconds of one eager transformers decode step (dynamic cache) after a ``context``-token prefill."""
    with torch.inference_mode():
        ids = torch.randint(0, 1000, (batch, context), device=device)
        out = model(input_ids=ids, use_cache=True)
        cache, token = out.past_key_values, ids[:, -1:]
        times = []
        for _ in range(repeats + 3):
            sync(device)
            start = time.perf_counter()
            out = model(input_ids=token, past_key_values=cache, use_cache=True)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            sync(device)
            times.append(time.perf_counter() - start)
    return statistics.median(times[3:])


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def weight_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def prefill(static: StaticLlama, context: int) -> None:
    static.set_lengths(0)
    static.forward(torch.randint(0, 1000, (static.batch, context), device=static.device))
    static.set_lengths(context)


def step_costs(models, batches, context, max_len, k_max, device, bw, report, compile_too: bool):
    """Eager transformers vs static cache vs + CUDA graphs (vs + torch.compile), per model and batch.

    Returns the fastest graphed static decoder per (model, batch); the 8B target has graphs for 1..k_max+1 tokens.
    """
    statics = {}
    for name, model in models.items():
        sizes = range(1, k_max + 2) if name == "8B" else [1]
        for batch in batches:
            row = {"model": name, "batch": batch, "eager_ms": eager_step(model, batch, context, device) * 1e3}
            static = StaticLlama(model, batch=batch, max_len=max_len)
            prefill(static, context)
            row["static_ms"] = step_time(static, 1) * 1e3
            candidates = {"graphs": static}
            if compile_too:
                start = time.perf_counter()
                candidates["compiled"] = StaticLlama(model, batch=batch, max_len=max_len, compile=True)
                prefill(candidates["compiled"], context)
                row["compile_s"] = time.perf_counter() - start
            for label, decoder in candidates.items():
                if device.type == "cuda":
                    start = time.perf_counter()
                    decoder.capture(sizes)
                    row[f"{label}_capture_s"] = time.perf_counter() - start
                prefill(decoder, context)
                row[f"{label}_ms"] = step_time(decoder, 1) * 1e3
            best = min(candidates, key=lambda label: row[f"{label}_ms"])
            decoder = candidates[best]
            kv_read = 2 * len(decoder.k) * batch * decoder.n_kv * max_len * decoder.head_dim * 2
            row["floor_ms"] = (weight_bytes(model) + kv_read) / bw * 1e3
            row["best"], row["best_ms"] = best, row[f"{best}_ms"]
            row["verify_ms"] = {q: step_time(decoder, q) * 1e3 for q in sizes if q > 1}
            statics[(name, batch)] = decoder
            report["steps"].append(row)
            print(f"  {name:>5} B={batch}: " + "  ".join(f"{k} {v:.2f}" for k, v in row.items()
                                                         if k.endswith(("_ms", "_s")) and k != "verify_ms"),
                  f"-> {best} {row['best_ms'] / row['floor_ms']:.2f}x floor", flush=True)
    return statics


def synthetic_runs(statics, batches, drafters, alphas, ks, context, tokens, report):
    for batch in batches:
        target = statics[("8B", batch)]
        step = {r["model"]: r for r in report["steps"] if r["batch"] == batch}
        t1 = step["8B"]["best_ms"]
        first = torch.randint(0, 1000, (batch, 1), device=target.device)
        prefill(target, context)
        base = plain(target, first, tokens)
        for name in drafters:
            drafter = statics[(name, batch)]
            prefill(drafter, context)
            c = step[name]["best_ms"] / t1
            for alpha in alphas:
                for k in ks:
                    prefill(target, context)
                    rounds = max(8, math.ceil(tokens / expected_tokens(alpha, k)))
                    run = speculative(target, drafter, first, k, alpha, rounds, seed=k)
                    measured = run.tokens_per_s / base.tokens_per_s
                    verify = (step["8B"]["verify_ms"].get(k + 1, t1)) / t1
                    predicted = speedup(alpha, k, c, verify_cost=lambda _k: verify)
                    report["synthetic"].append({"batch": batch, "drafter": name, "alpha": alpha, "k": k, "c": c,
                                                "v": verify, "measured": measured, "predicted": predicted,
                                                "closed_form": speedup(alpha, k, c)})
        print(f"  B={batch}: plain {base.tokens_per_s:,.0f} tok/s", flush=True)


def real_model(gguf: Path, device):
    """SmolLM2's real weights, from its GGUF (dequantized by transformers with the gguf package), float32."""
    try:
        model = LlamaForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except TypeError:  # transformers before the dtype rename
        model = LlamaForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, torch_dtype=torch.float32)
    return model.to(device).eval()


def identity(device, prompts, k: int, max_tokens: int, report, gguf: Path | None = None):
    """Greedy speculation (n-gram drafter) on the static backend with graphs == plain decoding, token for token."""
    model = real_model(gguf, device) if gguf else build(SHAPES["135M"], 49152, torch.float32, device)
    report["identity_weights"] = f"real: {gguf.name}" if gguf else "random"
    torch.backends.cuda.matmul.allow_tf32 = False
    graphs = range(1, k + 2) if device.type == "cuda" else ()
    static = StaticBackend(model, max_len=4096, graphs=graphs)
    eager = HFBackend(model)
    mismatched, total, stats = 0, 0, SpecStats()
    for ids in prompts:
        reference = list(decode(eager, ids, Sampling(max_tokens=max_tokens), set()))
        plain_static = list(decode(static, ids, Sampling(max_tokens=max_tokens), set()))
        spec = list(speculate(static, NGramDrafter(3), ids, Sampling(max_tokens=max_tokens), set(), KPolicy(k=k), stats))
        total += 1
        mismatched += (spec != plain_static) + (plain_static != reference)
    report["identity"] = {"prompts": total, "mismatches": mismatched, "draft_tokens": stats.num_draft_tokens,
                          "accepted": stats.num_accepted_draft_tokens}
    print(f"  {total} prompts: {mismatched} mismatches (speculative vs plain static, plain static vs eager);"
          f" {stats.num_draft_tokens} drafted, {stats.num_accepted_draft_tokens} accepted", flush=True)


def print_tables(report) -> None:
    print("\nstep costs (ms; median; floor = weights + KV read once at copy bandwidth)")
    print(f"{'model':>5} {'B':>2} {'eager':>8} {'static':>8} {'graphs':>8} {'compiled':>8} {'floor':>7} {'best/floor':>10}")
    for r in report["steps"]:
        compiled = f"{r['compiled_ms']:8.2f}" if "compiled_ms" in r else f"{'-':>8}"
        print(f"{r['model']:>5} {r['batch']:>2} {r['eager_ms']:8.2f} {r['static_ms']:8.2f} {r['graphs_ms']:8.2f}"
              f" {compiled} {r['floor_ms']:7.2f} {r['best_ms'] / r['floor_ms']:10.2f}")
    print("\nc = T_draft / T_target (one decode step each)")
    for batch in sorted({r["batch"] for r in report["steps"]}):
        row = {r["model"]: r for r in report["steps"] if r["batch"] == batch}
        for name in ("1B", "135M"):
            print(f"  B={batch} {name:>5}: eager {row[name]['eager_ms'] / row['8B']['eager_ms']:.3f}"
                  f"  graphs {row[name]['graphs_ms'] / row['8B']['graphs_ms']:.3f}"
                  f"  best {row[name]['best_ms'] / row['8B']['best_ms']:.3f}")
    print("\nsynthetic acceptance: best K per (batch, drafter, alpha); measured vs advisor (measured verify cost)")
    print(f"{'B':>2} {'drafter':>7} {'alpha':>5} {'K':>2} {'measured':>8} {'predicted':>9} {'error':>6}")
    best = {}
    for r in report["synthetic"]:
        key = (r["batch"], r["drafter"], r["alpha"])
        if key not in best or r["measured"] > best[key]["measured"]:
            best[key] = r
    for (batch, name, alpha), r in sorted(best.items()):
        print(f"{batch:>2} {name:>7} {alpha:5.2f} {r['k']:>2} {r['measured']:8.2f} {r['predicted']:9.2f}"
              f" {r['predicted'] / r['measured'] - 1:+6.1%}")
    errors = [abs(r["predicted"] / r["measured"] - 1) for r in report["synthetic"]]
    if errors:
        print(f"advisor error over all {len(errors)} runs: median {statistics.median(errors):.1%}, max {max(errors):.1%}")
    print("\nwinner per (batch, alpha)")
    for batch in sorted({r["batch"] for r in report["synthetic"]}):
        for alpha in sorted({r["alpha"] for r in report["synthetic"]}):
            rows = [r for (b, _, a), r in best.items() if b == batch and a == alpha]
            win = max(rows, key=lambda r: r["measured"])
            others = ", ".join(f"{r['drafter']} {r['measured']:.2f}x" for r in rows if r is not win)
            print(f"  B={batch} alpha {alpha:.2f}: {win['drafter']} at K={win['k']} {win['measured']:.2f}x ({others})")
    if "identity" in report:
        print(f"\ngreedy identity: {report['identity']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small shapes on the CPU: a dry run of the script")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "bench/out")))
    parser.add_argument("--prompts", type=Path, default=Path(".gpu/prompt_ids.json"),
                        help="token ids of the prompt mix (a JSON list of lists) for the identity check")
    parser.add_argument("--sections", default="steps,synthetic,identity",
                        help="comma-separated: steps, synthetic (needs steps: it runs them), identity")
    parser.add_argument("--compile", action="store_true", help="also try torch.compile of each layer (then graphs)")
    parser.add_argument("--gguf", type=Path, help="the identity check on these real weights (SmolLM2's GGUF) instead of random ones")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    device = torch.device("cpu" if args.tiny or not torch.cuda.is_available() else "cuda")
    shapes = TINY if args.tiny else SHAPES
    vocab = 1024 if args.tiny else 128256
    batches, context, max_len, k_max = (1, 8), 128, 1024, 8
    alphas = (0.5, 0.6, 0.7, 0.8, 0.9)
    ks = range(1, k_max + 1)
    tokens = 32 if args.tiny else 128
    report = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "torch": torch.__version__,
              "steps": [], "synthetic": []}
    args.out.mkdir(parents=True, exist_ok=True)
    save = lambda: (args.out / "spec_gpu.json").write_text(json.dumps(report, indent=1))  # noqa: E731
    if sections & {"steps", "synthetic"}:  # "identity" alone skips the 8B-shaped models
        bw = copy_bandwidth(device) if device.type == "cuda" else 10e9
        report["copy_bandwidth_GBps"] = bw / 1e9
        print(f"{report['device']}, torch {torch.__version__}; copy bandwidth {bw / 1e9:,.0f} GB/s", flush=True)
        models = {name: build(shape, vocab, torch.bfloat16 if device.type == "cuda" else torch.float32, device)
                  for name, shape in shapes.items()}
        print("step costs", flush=True)
        statics = step_costs(models, batches, context, max_len, k_max, device, bw, report, args.compile)
        save()
        if "synthetic" in sections:
            print("synthetic speculation", flush=True)
            synthetic_runs(statics, batches, ("1B", "135M"), alphas, ks, context, tokens, report)
            save()
        del statics, models
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if "identity" in sections and args.prompts.exists():
        prompts = json.loads(args.prompts.read_text())
        print(f"greedy identity over {len(prompts)} prompts", flush=True)
        identity(device, prompts[:8] if args.tiny else prompts, 4, 16 if args.tiny else 64, report, args.gguf)
    save()
    print_tables(report)


if __name__ == "__main__":
    main()
