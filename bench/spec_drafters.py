"""Which drafter for SmolLM2-135M? Acceptance of each drafter we can make for it, per prompt class.

    .venv/bin/python bench/spec_drafters.py [--per-class 3] [--max-tokens 96] [--k 4] [--layers 2 4 8 15]

No smaller sibling of SmolLM2-135M ships, so its drafters are made from it:
the n-gram (prompt-lookup) drafter, and early-exit drafters that run only the
target's first L of its 30 decoder layers and its LM head (sharing every
weight; ``inferaudit.speculative.drafters.EarlyExitDrafter``). Each runs the
same prompts of the mix (chat, code, context-grounded, code editing) through
the engine on the transformers backend (CPU, greedy, fixed K), beside plain
greedy decoding of the same prompts, and reports per drafter and class:

- draft acceptance rate (accepted / drafted, vLLM's figure) and the per-token
  acceptance alpha it implies at this K (``advisor.alpha_from_rate``);
- mean acceptance length (tokens per target pass) and acceptance by position;
- the drafter's cost ratio c = drafter seconds per drafted token / target
  seconds per plain-decoding step, measured in the same run;
- the advisor's predicted speedup S(K) = E[tokens] / (K c + 1) from the
  measured per-position acceptance and c, and the measured end-to-end
  speedup (output tokens/s against plain greedy decoding, same prompts);
- whether every output is token-identical to plain decoding (it must be).

Writes ``bench/out/spec_drafters.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from inferaudit.speculative.advisor import alpha_from_rate, expected_tokens_per_position  # noqa: E402
from inferaudit.speculative.decode import Sampling, decode  # noqa: E402
from inferaudit.speculative.drafters import EarlyExitDrafter, NGramDrafter  # noqa: E402
from inferaudit.speculative.engine import KPolicy, SpecStats, speculate  # noqa: E402
from inferaudit.speculative.model import load  # noqa: E402
from inferaudit.speculative.prompts import CLASSES, prompt_mix  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4, 8, 15])
    parser.add_argument("--out", type=Path, default=Path("bench/out/spec_drafters.json"))
    args = parser.parse_args()

    loaded = load()
    target, stops = loaded.backend(), loaded.stop_ids
    layers = loaded.model.config.num_hidden_layers
    sampling = Sampling(max_tokens=args.max_tokens)
    prompts = prompt_mix(per_class=args.per_class)
    drafters = [NGramDrafter(3)] + [EarlyExitDrafter(loaded.model, n) for n in args.layers if 0 < n < layers]

    plain: dict[str, tuple[list[int], float]] = {}
    for p in prompts:
        ids = loaded.chat_ids(p.messages)
        start = time.perf_counter()
        tokens = list(decode(target, ids, sampling, stops))
        plain[p.id] = (tokens, time.perf_counter() - start)
    rows = []
    for drafter in drafters:
        per_class: dict[str, dict] = defaultdict(lambda: {"stats": SpecStats(), "tokens": 0, "seconds": 0.0,
                                                          "plain_tokens": 0, "plain_seconds": 0.0, "identical": 0, "n": 0})
        for p in prompts:
            ids = loaded.chat_ids(p.messages)
            stats = SpecStats()
            start = time.perf_counter()
            tokens = list(speculate(target, drafter, ids, sampling, stops, KPolicy(k=args.k), stats))
            seconds = time.perf_counter() - start
            for cls in (p.cls, "all"):
                agg = per_class[cls]
                s = agg["stats"]
                s.num_draft_tokens += stats.num_draft_tokens
                s.num_accepted_draft_tokens += stats.num_accepted_draft_tokens
                s.num_spec_steps += stats.num_spec_steps
                s.drafter_s += stats.drafter_s
                for i, (d, a) in enumerate(zip(stats.drafted_per_position, stats.accepted_per_position)):
                    while len(s.drafted_per_position) <= i:
                        s.drafted_per_position.append(0)
                        s.accepted_per_position.append(0)
                    s.drafted_per_position[i] += d
                    s.accepted_per_position[i] += a
                agg["tokens"] += len(tokens)
                agg["seconds"] += seconds
                agg["plain_tokens"] += len(plain[p.id][0])
                agg["plain_seconds"] += plain[p.id][1]
                agg["identical"] += tokens == plain[p.id][0]
                agg["n"] += 1
        for cls in (*[c for c in CLASSES if c in per_class], "all"):
            agg = per_class[cls]
            s: SpecStats = agg["stats"]
            step_s = agg["plain_seconds"] / max(1, agg["plain_tokens"])
            c = (s.drafter_s / s.num_draft_tokens) / step_s if s.num_draft_tokens else 0.0
            position = [a / d if d else 0.0 for a, d in zip(s.accepted_per_position, s.drafted_per_position)]
            conditional = [position[0]] + [position[i] / position[i - 1] if position[i - 1] else 0.0
                                           for i in range(1, len(position))] if position else []
            predicted = expected_tokens_per_position(conditional[:args.k]) / (args.k * c + 1) if position else None
            measured = (agg["tokens"] / agg["seconds"]) / (agg["plain_tokens"] / agg["plain_seconds"])
            rate = s.draft_acceptance_rate
            rows.append({"drafter": drafter.name, "cls": cls, "prompts": agg["n"], "acceptance_rate": rate,
                         "alpha": alpha_from_rate(rate, args.k) if s.num_draft_tokens else None,
                         "mean_acceptance_length": s.mean_acceptance_length, "per_position": position, "c": c,
                         "predicted_speedup": predicted, "measured_speedup": measured,
                         "identical": f"{agg['identical']}/{agg['n']}"})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"k": args.k, "max_tokens": args.max_tokens, "per_class": args.per_class,
                                    "target_layers": layers, "rows": rows}, indent=1))
    print(f"SmolLM2-135M-Instruct (transformers, CPU, greedy), K={args.k}, {args.max_tokens} tokens, "
          f"{args.per_class} prompts per class")
    print(f"{'drafter':<15}{'class':<9}{'accept':>7}{'alpha':>7}{'mean len':>9}{'c':>7}{'pred S':>8}{'meas S':>8}  identical  by position")
    for r in rows:
        alpha = f"{r['alpha']:.2f}" if r["alpha"] is not None else "-"
        pred = f"{r['predicted_speedup']:.2f}x" if r["predicted_speedup"] is not None else "-"
        positions = " ".join(f"{p:.2f}" for p in r["per_position"])
        print(f"{r['drafter']:<15}{r['cls']:<9}{r['acceptance_rate']:>7.2f}{alpha:>7}{r['mean_acceptance_length']:>9.2f}"
              f"{r['c']:>7.3f}{pred:>8}{r['measured_speedup']:>7.2f}x  {r['identical']:>9}  {positions}")


if __name__ == "__main__":
    main()
