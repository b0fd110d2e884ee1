"""Every bundled task measures something: its hidden tests fail on the snapshot and pass with the reference solution."""

from __future__ import annotations

import pytest

from inferaudit.bench import load_suite
from inferaudit.bench.check import check_suite
from inferaudit.bench.workspace import WorkTree

STARTER_IDS = sorted(t.id for t in load_suite("starter").tasks)
HUMANEVAL_SAMPLE = [f"HumanEval-{i}" for i in range(0, 164, 14)]  # 12 problems spread over the set


@pytest.fixture(scope="module")
def starter_checks():
    return {r.task_id: r for r in check_suite(load_suite("starter"), parallel=2)}


@pytest.mark.parametrize("task_id", STARTER_IDS)
def test_starter_task_fails_on_snapshot_and_passes_with_reference(starter_checks, task_id):
    result = starter_checks[task_id]
    assert result.snapshot.outcome == "failed", result.snapshot.output
    assert result.solution is not None and result.solution.outcome == "resolved", result.solution.output


def test_the_work_tree_holds_neither_hidden_tests_nor_the_solution(starter, tmp_path):
    task = starter.task("fix-config-env")
    tree = WorkTree.create(task, tmp_path / "tree")
    files = {p.relative_to(tree.root).as_posix() for p in tree.root.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert files == {"settings/__init__.py", "settings/defaults.py", "settings/loader.py"}
    assert tree.git and tree.diff() == ""
    (tree.root / "settings" / "loader.py").write_text("changed\n")
    assert "+changed" in tree.diff()


def test_humaneval_sample_checks():
    results = check_suite(load_suite("humaneval").only(HUMANEVAL_SAMPLE), parallel=2)
    assert [r.task_id for r in results if not r.ok] == []


@pytest.mark.slow
def test_every_humaneval_problem_checks():
    results = check_suite(load_suite("humaneval"), parallel=2)
    assert len(results) == 164 and [r.task_id for r in results if not r.ok] == []
