"""The acceptance alert rules, unit-tested with promtool: fires at 0.55, silent at 0.65; metric names match the gateway's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inferaudit.gateway.metrics import Metrics
from inferaudit.usage import Call, Tokens

HERE = Path(__file__).parent
RULES = HERE.parents[1] / "src" / "inferaudit" / "speculative" / "rules" / "spec_alerts.yml"


def test_promtool_rules_unit_test():
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus; `make test` installs it)")
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    done = subprocess.run([promtool, "test", "rules", "spec_alerts_test.yml"], cwd=HERE / "data",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_the_rules_use_the_series_the_gateway_exports():
    metrics = Metrics()
    metrics.observe(Call(call_id="c", source="gateway", provider="local", model="smol", harness=None,
                         tokens=Tokens(input=1, output=5), feature="edit", spec_draft_tokens=8,
                         spec_accepted_tokens=5, spec_steps=2), cost=None)
    exported = metrics.render().decode()
    for name in set(re.findall(r"inferaudit_spec_\w+_total", RULES.read_text())):
        assert f'{name}{{feature="edit",model="smol",provider="local"}}' in exported, name
    assert 'inferaudit_spec_accepted_tokens_total{feature="edit",model="smol",provider="local"} 5.0' in exported


def test_spec_alerts_over_the_ledger(tmp_path):
    import sys
    from datetime import datetime, timezone

    from inferaudit.gateway.writer import LedgerWriter

    ledger = tmp_path / "l.duckdb"
    writer = LedgerWriter(ledger, flush_s=0.01)
    now = datetime.now(timezone.utc)
    for i, (feature, accepted) in enumerate([("edit", 55), ("chat", 65)] * 5):
        writer.submit(Call(call_id=f"c{i}", source="gateway", provider="local", model="smol", harness=None,
                           tokens=Tokens(input=1, output=10), feature=feature, started_at=now, ended_at=now,
                           spec_draft_tokens=100, spec_accepted_tokens=accepted, spec_steps=25))
    writer.start()
    writer.close()
    cli = Path(sys.executable).parent / "inferaudit"
    done = subprocess.run([str(cli), "spec", "alerts", "--ledger", str(ledger)], capture_output=True, text=True,
                          timeout=60, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {line.split("│")[2].strip(): line for line in done.stdout.splitlines() if "smol" in line}
    assert "ALERT" in lines["edit"] and "0.55" in lines["edit"]
    assert "ALERT" not in lines["chat"] and "0.65" in lines["chat"]
