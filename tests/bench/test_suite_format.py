"""The suite format: what loads, and how a malformed suite is reported (file and field)."""

from __future__ import annotations

import tarfile

import pytest

from inferaudit.bench import SuiteError, load_suite
from inferaudit.bench.suite import Limits


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_task(root, name="t1", task_yaml="instruction: fix it\n"):
    write(root / "tasks" / name / "task.yaml", task_yaml)
    write(root / "tasks" / name / "repo" / "mod.py", "X = 1\n")
    write(root / "tasks" / name / "hidden" / "tests_hidden" / "test_h.py", "from mod import X\n\ndef test_x():\n    assert X == 2\n")


@pytest.fixture
def suite_dir(tmp_path):
    write(tmp_path / "suite.yaml", "name: mine\ndefaults:\n  verifier: \"{python} -m pytest -q tests_hidden\"\n"
                                   "  limits: {max_turns: 7, wall_s: 30}\n")
    make_task(tmp_path)
    return tmp_path


def test_starter_suite_loads_twenty_tasks_of_every_difficulty(starter):
    assert starter.name == "starter" and len(starter.tasks) == 20 and not starter.problems
    assert {t.difficulty for t in starter.tasks} == {"easy", "medium", "hard"}
    assert {t.kind for t in starter.tasks} == {"bug", "feature"}
    assert all(t.solution is not None and t.limits == Limits(20, 300.0, 0.5) for t in starter.tasks)


def test_defaults_and_task_overrides(suite_dir):
    write(suite_dir / "tasks" / "t1" / "task.yaml", "instruction: fix it\nlimits: {max_turns: 3}\nverifier: exit 0\n")
    task = load_suite(suite_dir).task("t1")
    assert task.limits == Limits(max_turns=3, wall_s=30.0, max_cost_usd=None)
    assert task.verifier.command == "exit 0" and task.solution is None


def test_missing_name_names_file_and_field(suite_dir):
    write(suite_dir / "suite.yaml", "description: no name\n")
    with pytest.raises(SuiteError, match=r"suite\.yaml: name: is required"):
        load_suite(suite_dir)


def test_bad_yaml_names_the_line(suite_dir):
    write(suite_dir / "suite.yaml", "name: x\ndefaults: [unclosed\n")
    with pytest.raises(SuiteError, match=r"suite\.yaml:\d+: not valid YAML"):
        load_suite(suite_dir)


def test_unknown_field_is_named(suite_dir):
    write(suite_dir / "suite.yaml", "name: x\ndefaults:\n  limits: {max_turn: 3}\n")
    with pytest.raises(SuiteError, match=r"defaults\.limits: unknown field\(s\) max_turn"):
        load_suite(suite_dir)


def test_a_malformed_task_is_skipped_and_reported(suite_dir):
    make_task(suite_dir, "broken", "difficulty: easy\n")
    make_task(suite_dir, "negative", "instruction: x\nlimits: {wall_s: -1}\n")
    suite = load_suite(suite_dir)
    assert [t.id for t in suite.tasks] == ["t1"]
    assert any("broken/task.yaml: instruction: is required" in p for p in suite.problems)
    assert any("negative/task.yaml: limits.wall_s: must be above 0" in p for p in suite.problems)
    with pytest.raises(SuiteError, match="instruction"):
        load_suite(suite_dir, strict=True)


def test_a_task_without_any_verifier_is_reported(tmp_path):
    write(tmp_path / "suite.yaml", "name: x\n")
    make_task(tmp_path)
    suite = load_suite(tmp_path)
    assert not suite.tasks and "t1/task.yaml: verifier: no command" in suite.problems[0]


def test_missing_snapshot_is_named(suite_dir):
    write(suite_dir / "tasks" / "t1" / "task.yaml", "instruction: x\nsnapshot: gone.tar.gz\n")
    assert "snapshot:" in load_suite(suite_dir).problems[0] and "gone.tar.gz" in load_suite(suite_dir).problems[0]


def test_tarball_snapshot(suite_dir, tmp_path):
    folder = suite_dir / "tasks" / "t1"
    with tarfile.open(folder / "repo.tar.gz", "w:gz") as tar:
        tar.add(folder / "repo" / "mod.py", arcname="pkg/mod.py")
    write(folder / "task.yaml", "instruction: x\nsnapshot: repo.tar.gz\n")
    load_suite(suite_dir).task("t1").snapshot.copy_to(tmp_path / "out")
    assert (tmp_path / "out" / "pkg" / "mod.py").read_text() == "X = 1\n"


def test_unknown_bundled_suite_lists_the_bundled_ones():
    with pytest.raises(SuiteError, match="bundled: humaneval, starter"):
        load_suite("no-such-suite")


def test_humaneval_rows_become_single_file_tasks(tmp_path):
    suite = load_suite("humaneval")
    assert len(suite.tasks) == 164 and not suite.problems
    task = suite.task("HumanEval-0")
    task.snapshot.copy_to(tmp_path)
    assert (tmp_path / "solution.py").read_text().startswith("from typing import List")
    assert "has_close_elements" in task.instruction and task.limits.max_turns == 10


def test_humaneval_source_reports_bad_rows_and_unknown_ids(tmp_path):
    write(tmp_path / "suite.yaml", "name: he\ntasks:\n  - humaneval: he.jsonl\n    ids: [HumanEval/1, HumanEval/9]\n")
    row = '{"task_id": "HumanEval/1", "prompt": "def f():\\n", "entry_point": "f", "test": "def check(c): pass", "canonical_solution": "    return 1\\n"}'
    write(tmp_path / "he.jsonl", row + '\n{"task_id": "HumanEval/2"}\nnot json\n')
    suite = load_suite(tmp_path)
    assert [t.id for t in suite.tasks] == ["HumanEval-1"]
    assert any("he.jsonl:2: missing field(s) prompt" in p for p in suite.problems)
    assert any("he.jsonl:3: not JSON" in p for p in suite.problems)
    assert any("no problem 'HumanEval/9'" in p for p in suite.problems)
