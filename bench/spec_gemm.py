"""What tuning the CPU products and grouped attention buy a transformers verify pass, side by side in one run.

    .venv/bin/python bench/spec_gemm.py [--reps 9] [--context 300 1500] [--stability 4] [--identity]
    # about 2 minutes on 2 cores (+1 per --stability load, +6 with --identity)

SmolLM2-135M-Instruct is loaded twice with transformers on CPU (float32): as transformers runs it
(``stock``), and as ``load()`` gives it (``tuned``): with ``backends.gemm``'s products (oneDNN on
weights reordered at load, for every row count, where PyTorch has it; else per weight shape and
row count the fastest of ``linear``, ``x @ W.T`` and ``(W @ x.T).T``, timed at load) and ``backends.attention`` (a verify pass's attention reads the
cached KV heads without copying them per query head). ``gemm`` is the tuned model with
transformers' own ``sdpa`` attention switched back (before each timed feed, untimed): the same
plan, so tuned against gemm is the attention change alone. Printed:

1. every form's time per weight shape and row count, each timed on its own weight (which stays in
   cache, unlike in a forward pass), and the form a timing-based choice would take;
2. a feed of n tokens after a prompt of ``--context`` tokens (300 by default; several lengths
   give one table each), all logits asked for (a verify pass of n - 1 drafts), n = 1..17, on the
   three models, interleaved per repetition (median ms), and v(n) = T(n) / T(1) for each: what
   ``CostAwareK`` weighs a draft against, and how it moves as attention over a longer context
   grows;
3. with ``--stability N``: how much the tuned plan moves the verify cost from one load to the next:
   N fresh loads per timing span (one call per timing, as before 2026-11-28 19:30, and calls lasting
   about 1 ms, as now), each tuned, then v(n) measured after 300 tokens as ``serve-model`` does;
   per n the lowest, median and highest v(n) over the loads;
4. with ``--identity``: greedy decoding of the 40-prompt mix (64 tokens) on the stock model, on the
   tuned one, and speculative (n-gram, K=8) on the tuned one: token for token the same?
   (stock and gemm only differ in a verify pass's products; the attention change gives the same logits)

Results: bench/out/spec_gemm/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from inferaudit.speculative.backends import gemm
from inferaudit.speculative.backends.attention import use_grouped_sdpa
from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.drafters import NGramDrafter
from inferaudit.speculative.engine import KPolicy, speculate
from inferaudit.speculative.model import load
from inferaudit.speculative.policy import measure_verify_cost
from inferaudit.speculative.prompts import prompt_mix

OUT = Path(__file__).parent / "out" / "spec_gemm"
ROWS = (1, 2, 3, 4, 5, 6, 8, 9, 12, 16, 17)


def form_table(model, reps: int) -> tuple[list[str], dict]:
    weights = {}  # one weight per shape, in the model's order
    for module in model.modules():
        if isinstance(module, gemm.TunedLinear):
            weights.setdefault(tuple(module.weight.shape), module.weight.detach())
    names = list(gemm.FORMS)
    lines, data = [f"{'weight':>10} {'rows':>4} " + " ".join(f"{n + ' ms':>13}" for n in names) + "  chosen"], {}
    for (out, inp), w in weights.items():
        timed = gemm.time_forms(w, ROWS, reps)
        data[f"{out}x{inp}"] = timed
        for rows, t in timed.items():
            lines.append(f"{out:>5}x{inp:<4} {rows:>4} " + " ".join(f"{t[n] * 1e3:13.2f}" for n in names)
                         + f"  {gemm.choose(t)}")
    return lines, data


def synthetic_prompt(length: int) -> list[int]:
    """Token ids to time passes after: what a pass costs does not depend on which tokens they are."""
    return [1000 + (i * 37) % 20000 for i in range(length)]


def feed_table(backends: dict, prompt: list[int], n_max: int, reps: int) -> tuple[list[str], dict]:
    """``backends``: name -> (backend, called before each of its feeds, untimed)."""
    for b, prepare in backends.values():
        prepare()
        b.reset()
        b.feed(prompt, logits_from=len(prompt))
    times = {name: {n: [] for n in range(1, n_max + 1)} for name in backends}
    for _ in range(reps):
        for n in range(1, n_max + 1):
            for name, (b, prepare) in backends.items():  # interleaved: drift hits all alike
                prepare()
                start = time.perf_counter()
                b.feed(prompt[-n:])
                times[name][n].append(time.perf_counter() - start)
                b.trim(len(prompt))
    ms = {name: {n: median(ts) * 1e3 for n, ts in by_n.items()} for name, by_n in times.items()}
    names = list(backends)
    lines = [f"{'n':>3} " + " ".join(f"{name + ' ms':>10}" for name in names) + " "
             + " ".join(f"{name + ' v(n)':>12}" for name in names) + f" {'tuned/stock':>11}"]
    for n in range(1, n_max + 1):
        lines.append(f"{n:>3} " + " ".join(f"{ms[name][n]:10.1f}" for name in names) + " "
                     + " ".join(f"{ms[name][n] / ms[name][1]:12.2f}" for name in names)
                     + f" {ms['tuned'][n] / ms['stock'][n]:10.2f}x")
    return lines, ms


def stability(loads: int, n_max: int, reps: int) -> tuple[list[str], dict]:
    import gc

    prompt = synthetic_prompt(300)
    spans = {"one call": 0.0, "1 ms": 1e-3}
    curves: dict[str, list[list[float]]] = {name: [] for name in spans}
    for i in range(loads):
        for name, span in spans.items():  # alternated, so drift over the run hits both alike
            m = load(tune_gemm=False)
            gemm.tune(m.model, span=span)
            curves[name].append(list(measure_verify_cost(m.backend(), prompt, n_max=n_max, reps=reps).ratios[0]))
            del m
            gc.collect()
            print(f"  stability {i + 1}/{loads} {name}", flush=True)
    lines = [f"{'n':>3} " + " ".join(f"{name + ' v(n) min/med/max':>24}" for name in spans)]
    for n in range(2, n_max + 1):
        cells = []
        for name in spans:
            vs = sorted(c[n - 1] for c in curves[name])
            cells.append(f"{vs[0]:8.2f}{median(vs):8.2f}{vs[-1]:8.2f}")
        lines.append(f"{n:>3} " + " ".join(cells))
    spread = {name: median(max(c[n] for c in cs) / min(c[n] for c in cs) for n in range(1, n_max)) for name, cs in curves.items()}
    lines.append("median over n of highest / lowest v(n): " + ", ".join(f"{name} {x:.2f}" for name, x in spread.items()))
    return lines, curves


def identity(stock, tuned, max_tokens: int) -> tuple[list[str], dict]:
    eos = stock.model.generation_config.eos_token_id
    stop = set(eos) if isinstance(eos, list) else {eos}
    sampling, counts = Sampling(max_tokens=max_tokens), {"tuned plain": 0, "tuned speculative": 0}
    mix = prompt_mix(10)
    for i, p in enumerate(mix, 1):
        ids = stock.chat_ids(p.messages)
        reference = list(decode(stock.backend(), ids, sampling, stop))
        counts["tuned plain"] += list(decode(tuned.backend(), ids, sampling, stop)) == reference
        spec = speculate(tuned.backend(), NGramDrafter(32, 3), ids, sampling, stop, KPolicy(k=8))
        counts["tuned speculative"] += list(spec) == reference
        print(f"  identity {i}/{len(mix)} {p.id}", flush=True)
    return [f"{name}: the stock model's greedy tokens on {n} of {len(mix)} prompts" for name, n in counts.items()], counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="repetitions per timing")
    parser.add_argument("--n-max", type=int, default=17, help="longest feed timed (K = n - 1 drafts)")
    parser.add_argument("--identity", action="store_true", help="also check greedy tokens over the 40-prompt mix")
    parser.add_argument("--stability", type=int, default=0, metavar="N", help="N loads per tuning span: v(n) spread")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--context", type=int, nargs="+", default=[300], help="prompt lengths the feeds follow")
    args = parser.parse_args()
    import torch

    OUT.mkdir(parents=True, exist_ok=True)
    header = (f"spec_gemm: SmolLM2-135M-Instruct, transformers float32 on CPU, torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f} at start")
    print(header, flush=True)
    stock = load(tune_gemm=False, grouped_attention=False)
    started = time.perf_counter()
    tuned = load()
    print(f"tuned in {time.perf_counter() - started:.1f} s (load included)", flush=True)
    forms, form_data = form_table(tuned.model, args.reps)
    report = [header, "", "plan: " + "; ".join(gemm.describe(tuned.gemm_plans)), "",
              "each form's time per product (median ms):", *forms]
    feed_data = {}
    for length in args.context:
        prompt = synthetic_prompt(length)
        variants = {"stock": (stock.backend(), lambda: None),
                    "gemm": (tuned.backend(), lambda: tuned.model.set_attn_implementation("sdpa")),
                    "tuned": (tuned.backend(), lambda: use_grouped_sdpa(tuned.model))}
        feeds, feed_data[length] = feed_table(variants, prompt, args.n_max, args.reps)
        report += ["", f"a feed of n tokens after {length} (median ms; v(n) = T(n) / T(1)):", *feeds]
    results = {"forms": form_data, "feeds": feed_data,
               "plans": {f"{o}x{i}": plan for (o, i), plan in tuned.gemm_plans.items()}}
    if args.stability:
        lines, curves = stability(args.stability, args.n_max, args.reps)
        report += ["", f"v(n) after 300 tokens over {args.stability} loads per tuning span:", *lines]
        results["stability"] = curves
    if args.identity:
        lines, counts = identity(stock, tuned, args.max_tokens)
        report += ["", f"greedy identity, 40 prompts, {args.max_tokens} tokens:", *lines]
        results["identity"] = counts
    report.append(f"load {os.getloadavg()[0]:.2f} at the end")
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    print("\n".join(report))


if __name__ == "__main__":
    main()
