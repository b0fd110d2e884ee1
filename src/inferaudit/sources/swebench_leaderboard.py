"""SWE-bench leaderboard per-instance details: ``{model: {instance: {resolved, cost, api_calls}}}``.

The published file holds SWE-bench Verified runs of mini-SWE-agent; each
instance becomes a Run without Calls (cost and api_calls as reported).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from ..usage import Problem, Record, Run
from .base import Cursor, load_json

_SHAPE = re.compile(rb'\s*\{\s*"[^"]+"\s*:\s*\{\s*"[^"]+"\s*:\s*\{\s*"(resolved|cost|api_calls)"')
NAME = "swebench-leaderboard"
HARNESS = "mini-swe-agent"
BENCHMARK = "swe-bench"  # Verified: the same benchmark name the OpenHands Index uses


class SWEBenchLeaderboardSource:
    name = NAME
    append_only = False

    def sniff(self, path: Path, head: bytes) -> bool:
        # the document opens {"<model>": {"<instance>": {"resolved"|"cost"|"api_calls": ...
        return _SHAPE.match(head) is not None and b'"api_calls"' in head

    def members(self, path: Path) -> list[Path]:
        return [path]

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        data = load_json(path)
        if isinstance(data, Problem):
            yield data
            return
        if not isinstance(data, dict):
            yield Problem(str(path), 1, "not an object of models")
            return
        for model, instances in data.items():
            if not isinstance(instances, dict):
                yield Problem(str(path), None, f"model {model!r}: not an object of instances")
                continue
            for instance, result in instances.items():
                if not isinstance(result, dict) or not isinstance(result.get("resolved"), bool):
                    yield Problem(str(path), None, f"{model}/{instance}: no boolean 'resolved'")
                    continue
                cost = result.get("cost")
                calls = result.get("api_calls")
                yield Run(
                    run_id=f"{NAME}:{model}:{instance}",
                    source=NAME,
                    harness=HARNESS,
                    model=str(model),
                    cache_policy="default",
                    benchmark=BENCHMARK,
                    task_id=str(instance),
                    outcome="resolved" if result["resolved"] else "failed",
                    verified_by=NAME,
                    cost_reported=float(cost) if isinstance(cost, (int, float)) else None,
                    calls_reported=int(calls) if isinstance(calls, int) else None,
                    source_file=str(path),
                )
        cursor.offset = path.stat().st_size
