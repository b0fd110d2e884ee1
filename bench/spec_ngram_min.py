"""How short an n-gram match the cost-aware drafter should draft from, on the tuned transformers backend.

    .venv/bin/python bench/spec_ngram_min.py            # about 20 minutes on 2 cores

One process, one model (SmolLM2-135M-Instruct, the products tuned at load), the prompts of
``prompt_mix`` (10 per class), greedy, 256 tokens. Per prompt, in turn: plain decoding, then the
engine under ``CostAwareK`` (K up to 16) with each n-gram drafter of ``--drafters``, given as
``MIN:ANCHOR`` (longest match 32; ``ANCHOR`` the size of the index that finds long matches first:
``1:1`` one index of single tokens, ``1:3`` long matches through 3-grams and shorter ones after;
a third field ``ctx``, as in ``1:3:ctx``, weighs drafts by the verify cost at the draft's own
position, measured after the median prompt and after ``--long`` tokens; without it, by the cost
after the median prompt alone). Each drafter has its own policy, which first sees 2 tuning prompts per class (disjoint from the
measured ones), as a server has seen some traffic. Prints tokens/s and the speedup over plain per
class, whether every output equals plain decoding's, and each policy's learnt buckets; writes
bench/out/spec_ngram_min/results.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.drafters import NGramDrafter
from inferaudit.speculative.engine import SpecStats, speculate
from inferaudit.speculative.model import load
from inferaudit.speculative.policy import LONG_CONTEXT, CostAwareK, VerifyCost, measure_verify_cost
from inferaudit.speculative.prompts import CLASSES, prompt_mix

OUT = Path(__file__).parent / "out" / "spec_ngram_min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafters", nargs="+", default=["3:3", "1:1", "1:3"], help="MIN:ANCHOR[:ctx] per drafter")
    parser.add_argument("--long", type=int, default=LONG_CONTEXT, help="the long context of ctx drafters' verify cost (tokens)")
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--classes", nargs="+", default=list(CLASSES))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    loaded = load()
    stop = loaded.stop_ids
    sampling = Sampling(max_tokens=args.max_tokens)
    hf = loaded.backend()
    prompts = [p for p in prompt_mix(per_class=args.per_class) if p.cls in args.classes]
    measured = {p.id for p in prompts}
    spare = [p for p in prompt_mix(per_class=args.per_class + 4, seed=1) if p.id not in measured]
    tuning = [p for cls in args.classes for p in [q for q in spare if q.cls == cls][:2]]
    ids = {p.id: loaded.chat_ids(p.messages) for p in [*prompts, *tuning]}
    calibration = ids[sorted(prompts, key=lambda p: len(ids[p.id]))[len(prompts) // 2].id]
    verify_cost = measure_verify_cost(hf, calibration, n_max=17, reps=5, long=args.long)
    print("verify cost v(n):", verify_cost.describe(), flush=True)
    flat = VerifyCost(verify_cost.lengths[:1], verify_cost.steps[:1], verify_cost.ratios[:1])

    sizes = {name: tuple(int(x) for x in name.split(":")[:2]) for name in args.drafters}
    policies = {name: CostAwareK(verify_cost if name.endswith(":ctx") else flat, k_max=16) for name in sizes}

    def spec(name: str, prompt_ids: list[int]) -> tuple[list[int], SpecStats]:
        stats = SpecStats()
        low, anchor = sizes[name]
        drafter = NGramDrafter(32, low, anchor=anchor)
        return list(speculate(hf, drafter, prompt_ids, sampling, stop, policies[name], stats)), stats

    for p in tuning:
        for name in sizes:
            spec(name, ids[p.id])
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    tokens: dict[tuple[str, str], int] = defaultdict(int)
    same: dict[tuple[str, str], int] = defaultdict(int)
    rows = []
    for n, p in enumerate(prompts, 1):
        start = time.perf_counter()
        reference = list(decode(hf, ids[p.id], sampling, stop))
        took = {"plain": time.perf_counter() - start}
        outputs = {"plain": reference}
        stats = {}
        for name in sizes:
            start = time.perf_counter()
            outputs[name], stats[name] = spec(name, ids[p.id])
            took[name] = time.perf_counter() - start
        for method, out in outputs.items():
            for cls in (p.cls, "all"):
                seconds[method, cls] += took[method]
                tokens[method, cls] += len(out)
                same[method, cls] += out == reference
        rows.append({"prompt": p.id, "class": p.cls, "tokens": len(reference), "seconds": took,
                     "identical": {name: outputs[name] == reference for name in sizes},
                     "stats": {name: s.as_vllm() for name, s in stats.items()}})
        print(f"  {n}/{len(prompts)} {p.id}: " + " ".join(f"{m} {t:.2f}s" for m, t in took.items()), flush=True)

    methods = ["plain", *sizes]
    counts = {cls: sum(p.cls == cls for p in prompts) for cls in args.classes}
    counts["all"] = len(prompts)
    print(f"\n{'class':8} {'drafter (min:anchor)':22} {'tok/s':>7} {'vs plain':>8} {'identical':>9}")
    summary = {}
    for cls in [*args.classes, "all"]:
        plain_rate = tokens["plain", cls] / seconds["plain", cls]
        for m in methods:
            rate = tokens[m, cls] / seconds[m, cls]
            summary[f"{cls}/{m}"] = {"tok_s": rate, "speedup": rate / plain_rate, "identical": same[m, cls]}
            print(f"{cls:8} {m:22} {rate:7.2f} {rate / plain_rate:7.3f}x {same[m, cls]:>5}/{counts[cls]}")
    for name, policy in policies.items():
        print(f"\n{name}: match  verified  acceptance per position (first 4)")
        for b in policy.summary():
            print(f"  {b['match']:>6} {b['verified']:>9}  " + " ".join(f"{a:.2f}" for a in b["acceptance"][:4]))
    (OUT / "results.json").write_text(json.dumps({"verify_cost": verify_cost.as_dict(), "summary": summary, "prompts": rows,
                                                  "buckets": {n: p.summary() for n, p in policies.items()}}, indent=1))


if __name__ == "__main__":
    main()
