"""One attempt: a fresh work tree, the harness, the limits, the verifier, and the Run that records it."""

from __future__ import annotations

import json
import os
import socket
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..usage import Event, Run, Tokens
from .harness import LIMIT_STOPS, Attempt, Harness, HarnessResult
from .results import SOURCE, attempt_key
from .suite import Task
from .triples import Triple
from .verify import Verdict, run_verifier
from .workspace import WorkTree

WALL_GRACE_S = 1.0  # a harness that returns this long after its deadline is recorded as out of wall time


@dataclass(frozen=True)
class AttemptPlan:
    suite: str
    task: Task
    triple: Triple
    number: int

    @property
    def key(self) -> str:
        t = self.triple
        return attempt_key(self.suite, self.task.id, t.model, t.harness, t.cache_policy, self.number)


@dataclass
class AttemptReport:
    """What happened, and the records to write (``run`` is None for a cancelled attempt: it runs again next time)."""

    plan: AttemptPlan
    result: HarnessResult
    verdict: Verdict | None
    run: Run | None
    event: Event | None

    @property
    def outcome(self) -> str:
        return self.run.outcome if self.run else "cancelled"


def run_attempt(plan: AttemptPlan, harness: Harness, *, base_url: str, trees: Path, api_key: str,
                price: Callable[[Tokens], float | None], cancel: threading.Event, keep_tree: bool = False,
                out: Path | None = None) -> AttemptReport:
    task, triple = plan.task, plan.triple
    run_id = f"{plan.key}@{secrets.token_hex(4)}"
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    tree = WorkTree.create(task, trees / _safe(plan.key))
    try:
        attempt = Attempt(
            run_id=run_id, task=task, workdir=tree.root, model=triple.model, base_url=base_url,
            cache_policy=triple.cache_policy, harness=triple.harness, headers=_headers(plan, run_id),
            limits=task.limits, deadline=t0 + task.limits.wall_s, price=price, api_key=api_key, cancel=cancel,
        )
        try:
            result = harness.run(attempt)
        except Exception as exc:  # a broken adapter, a missing binary: this attempt only
            result = HarnessResult(stop="error", message=f"{type(exc).__name__}: {exc}")
        wall = time.monotonic() - t0
        if result.stop == "finished" and wall > task.limits.wall_s + WALL_GRACE_S:
            result.stop, result.message = "wall", f"took {wall:.1f}s of {task.limits.wall_s:g}s"
        ended = datetime.now(timezone.utc)
        if result.stop == "cancelled":
            return AttemptReport(plan, result, None, None, None)
        patch = tree.diff()
        verdict = None
        if result.stop == "finished":
            tree.add_hidden(task)
            verdict = run_verifier(task.verifier, tree.root)
        run = _run(plan, run_id, result, verdict, started, ended, wall)
        event = _event(run, result, verdict, patch)
        if out is not None:
            _keep(out / _safe(plan.key), result, verdict, patch)
        return AttemptReport(plan, result, verdict, run, event)
    finally:
        if not keep_tree:
            tree.remove()


def _headers(plan: AttemptPlan, run_id: str) -> dict[str, str]:
    tags = f"bench={plan.suite},attempt={plan.number},cache_policy={plan.triple.cache_policy}"
    return {"x-inferaudit-run": run_id, "x-inferaudit-task": plan.task.id,
            "x-inferaudit-harness": plan.triple.harness, "x-inferaudit-tags": tags}


def _run(plan: AttemptPlan, run_id: str, result: HarnessResult, verdict: Verdict | None,
         started: datetime, ended: datetime, wall: float) -> Run:
    if result.stop in LIMIT_STOPS:
        outcome, verified_by = "failed", f"limit:{result.stop}"
    elif verdict is not None and verdict.outcome != "unknown":
        outcome, verified_by = verdict.outcome, "hidden-tests"
    else:
        outcome, verified_by = "unknown", None  # the harness or the verifier failed: says nothing of the model
    t = plan.triple
    return Run(run_id=run_id, source=SOURCE, harness=t.harness, model=t.model, cache_policy=t.cache_policy,
               benchmark=plan.suite, task_id=plan.task.id, outcome=outcome, verified_by=verified_by,
               started_at=started, ended_at=ended, wall_time_s=round(wall, 3), calls_reported=result.calls,
               tokens_reported=result.tokens)


def _event(run: Run, result: HarnessResult, verdict: Verdict | None, patch: str) -> Event:
    data = {"stop": result.stop, "message": result.message[:2000], "turns": result.turns, "calls": result.calls,
            "harness_cost_usd": result.cost_usd, "patch_lines": patch.count("\n"),
            "worker": f"{socket.gethostname()}:{os.getpid()}"}  # where it ran (a Ray worker, or this process)
    if verdict is not None:
        data.update(verifier_exit=verdict.exit_code, verifier_s=round(verdict.seconds, 3), verifier_error=verdict.error,
                    verifier_tail=verdict.output[-1000:])
    return Event(event_id=f"{run.run_id}:attempt", kind="bench_attempt", source=SOURCE, at=run.ended_at,
                 run_id=run.run_id, data=data)


def _keep(folder: Path, result: HarnessResult, verdict: Verdict | None, patch: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patch.diff").write_text(patch)
    (folder / "transcript.json").write_text(json.dumps(result.transcript, indent=1, ensure_ascii=False))
    if verdict is not None:
        (folder / "verifier.txt").write_text(f"outcome: {verdict.outcome}\nexit: {verdict.exit_code}\n"
                                             f"error: {verdict.error}\n\n{verdict.output}")


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in key.removeprefix("bench:"))
