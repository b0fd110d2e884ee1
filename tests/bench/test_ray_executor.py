"""``bench run --executor ray``: attempts run as tasks on a Ray cluster the test starts (``ray start --head``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.ledger import Ledger
from inferaudit.testing.ports import free_port

from .conftest import TASKS, gateway_config

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'inferaudit[ray]')")
RAY = Path(sys.executable).parent / "ray"


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A one-node Ray cluster on loopback, stopped after the module's tests."""
    temp = tmp_path_factory.mktemp("ray")
    port = free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    start = subprocess.run([str(RAY), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                            "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats",
                            "--temp-dir", str(temp)], env=env, capture_output=True, text=True, timeout=180)
    if start.returncode != 0:
        pytest.fail(f"ray start failed: {start.stderr[-2000:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_attempts_run_on_the_ray_cluster_and_land_in_the_ledger(scripted, tmp_path, ray_cluster):
    triples = tmp_path / "triples.yaml"
    triples.write_text(yaml.safe_dump({"gateway": {"config": gateway_config(scripted.url)},
                                       "triples": [{"model": "gpt-4o-mini", "harness": "builtin", "cache_policy": "auto"}]}))
    ledger = tmp_path / "bench.duckdb"
    command = ["bench", "run", "starter", "--triples", str(triples), "--attempts", "2", "--parallel", "2",
               "--ledger", str(ledger), "--tasks", ",".join(TASKS), "--executor", "ray", "--ray-address", ray_cluster,
               "--quiet"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    with Ledger(ledger) as opened:
        runs = opened.con.execute("SELECT task_id, outcome FROM runs").fetchall()
        calls = opened.con.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert sorted(runs) == sorted([(t, "failed" if t == "feature-calc" else "resolved") for t in TASKS] * 2)
    assert calls == len(scripted.requests) > 0
    # the attempts ran in Ray worker processes, not in this one
    with Ledger(ledger) as opened:
        workers = [w for (w,) in opened.con.execute(
            "SELECT data->>'worker' FROM events WHERE kind = 'bench_attempt'").fetchall()]
    assert len(workers) == 6 and all(w and not w.endswith(f":{os.getpid()}") for w in workers)
    again = CliRunner().invoke(app, command)  # resumable on Ray too: nothing left to do
    assert again.exit_code == 0 and "6 attempt(s) already in the ledger: skipped" in again.output


def test_no_cluster_is_a_clear_error(tmp_path, scripted):
    triples = tmp_path / "triples.yaml"
    triples.write_text(yaml.safe_dump({"gateway": {"config": gateway_config(scripted.url)},
                                       "triples": [{"model": "gpt-4o-mini", "harness": "builtin"}]}))
    port = free_port()
    result = CliRunner().invoke(app, ["bench", "run", "starter", "--triples", str(triples), "--tasks", TASKS[0],
                                      "--ledger", str(tmp_path / "l.duckdb"), "--executor", "ray",
                                      "--ray-address", f"127.0.0.1:{port}", "--quiet"], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert f"cannot connect to a Ray cluster at '127.0.0.1:{port}'" in " ".join(result.output.split())
