"""Check a suite: every task's hidden tests must fail on the snapshot and pass with its reference solution.

A task whose verifier passes on the untouched snapshot measures nothing; one
whose reference solution fails it cannot be solved. Either is a defect of
the suite, found here before any model is paid to attempt it.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .suite import Suite, Task
from .verify import Verdict, run_verifier
from .workspace import WorkTree


@dataclass(frozen=True)
class TaskCheck:
    task_id: str
    snapshot: Verdict
    solution: Verdict | None

    @property
    def ok(self) -> bool:
        return self.snapshot.outcome == "failed" and self.solution is not None and self.solution.outcome == "resolved"

    def reason(self) -> str:
        if self.snapshot.outcome != "failed":
            return f"hidden tests on the untouched snapshot: {self.snapshot.outcome} (want failed) {self.snapshot.error or ''}".strip()
        if self.solution is None:
            return "no reference solution"
        if self.solution.outcome != "resolved":
            return f"hidden tests with the reference solution: {self.solution.outcome} (want resolved)\n{self.solution.output}"
        return "ok"


def check_task(task: Task, scratch: Path) -> TaskCheck:
    def verdict(with_solution: bool) -> Verdict:
        tree = WorkTree.create(task, scratch / f"{_safe(task.id)}-{'solution' if with_solution else 'snapshot'}")
        try:
            if with_solution:
                task.solution.copy_to(tree.root)
            tree.add_hidden(task)
            return run_verifier(task.verifier, tree.root)
        finally:
            tree.remove()

    return TaskCheck(task.id, verdict(False), verdict(True) if task.solution is not None else None)


def check_suite(suite: Suite, *, parallel: int = 2, done: Callable[[TaskCheck], None] | None = None) -> list[TaskCheck]:
    """Check every task of ``suite``, ``parallel`` at a time; results in suite order."""
    with tempfile.TemporaryDirectory(prefix="inferaudit-check-") as scratch, ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(check_task, task, Path(scratch)) for task in suite.tasks]
        results = []
        for future in futures:
            results.append(future.result())
            if done:
                done(results[-1])
        return results


def _safe(task_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in task_id)
