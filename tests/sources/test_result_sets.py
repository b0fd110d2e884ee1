"""Published result sets: the OpenHands Index folders and the SWE-bench leaderboard's per-instance details."""

from inferaudit.sources import Cursor, discover
from inferaudit.sources.openhands_index import OpenHandsIndexSource
from inferaudit.sources.swebench_leaderboard import SWEBenchLeaderboardSource
from inferaudit.usage import Problem, Published, Run


def test_openhands_folder_is_one_unit_with_every_instance_file(samples):
    units = [u for u in discover([samples / "openhands-index" / "results" / "Gemini-3.1-Pro"])]
    assert len(units) == 1
    unit = units[0]
    assert unit.source.name == "openhands-index"
    assert {m.name for m in unit.members} >= {"metadata.json", "scores.json", "swe-bench.json", "gaia.json"}


def test_openhands_instances_become_runs_and_scores_published(samples):
    meta = samples / "openhands-index" / "results" / "Gemini-3.1-Pro" / "metadata.json"
    records = list(OpenHandsIndexSource().read(meta, Cursor()))
    swe = [r for r in records if isinstance(r, Run) and r.benchmark == "swe-bench"]
    assert len(swe) == 500
    assert sum(r.outcome == "resolved" for r in swe) == 385
    assert {r.harness for r in swe} == {"OpenHands"} and {r.model for r in swe} == {"Gemini-3.1-Pro"}
    published = {p.benchmark: p for p in records if isinstance(p, Published)}
    assert published["swe-bench"].success_rate == 76.8
    assert published["swe-bench"].cost_per_run == 1.87


def test_openhands_null_verdict_is_unknown_not_failed(samples):
    meta = samples / "openhands-index" / "results" / "DeepSeek-V3.2-Reasoner" / "metadata.json"
    swe = [r for r in OpenHandsIndexSource().read(meta, Cursor()) if isinstance(r, Run) and r.benchmark == "swe-bench"]
    assert sum(r.outcome == "unknown" for r in swe) == 3


def test_openhands_broken_instance_file_is_a_problem(tmp_path, samples):
    folder = tmp_path / "results" / "m"
    (folder / "instance_results").mkdir(parents=True)
    (folder / "metadata.json").write_text('{"agent_name": "OpenHands", "directory_name": "m"}')
    (folder / "instance_results" / "swe-bench.json").write_text('{"a": {"cost": 1.0, "resolved": true}, "b": {"resolved": "yes"}}')
    (folder / "instance_results" / "gaia.json").write_text('{"a": {"cost": 1.0, "resol')
    records = list(OpenHandsIndexSource().read(folder / "metadata.json", Cursor()))
    problems = [r for r in records if isinstance(r, Problem)]
    assert len(problems) == 2
    assert any("gaia.json" in p.file and "malformed JSON" in p.reason for p in problems)
    assert any("'b'" in p.reason for p in problems)
    assert [r.task_id for r in records if isinstance(r, Run)] == ["a"]


def test_swebench_leaderboard_instances(samples):
    path = samples / "swebench-leaderboard" / "info_for_leaderboard.json"
    runs = list(SWEBenchLeaderboardSource().read(path, Cursor()))
    assert len(runs) == 2000
    gpt5 = [r for r in runs if r.model == "gpt-5"]
    assert sum(r.outcome == "resolved" for r in gpt5) == 325
    first = next(r for r in gpt5 if r.task_id == "pytest-dev__pytest-10356")
    assert (first.cost_reported, first.calls_reported, first.harness) == (0.44183300000000003, 19, "mini-swe-agent")
