"""The advisor's arithmetic, checked against hand computation and by simulation."""

import random

import pytest

from inferaudit.speculative.advisor import (Candidate, advise, alpha_from_rate, draft_acceptance_rate,
                                            expected_tokens, expected_tokens_per_position, speedup)


def test_closed_forms_by_hand():
    assert expected_tokens(0.5, 2) == pytest.approx(1 + 0.5 + 0.25)
    assert expected_tokens(1.0, 4) == 5
    assert expected_tokens(0.0, 4) == 1
    assert speedup(0.8, 4, 0.05) == pytest.approx((1 - 0.8 ** 5) / (0.2 * 1.2))
    assert expected_tokens_per_position([0.8, 0.8, 0.8]) == pytest.approx(expected_tokens(0.8, 3))
    assert speedup(0.8, 4, 0.0, verify_cost=lambda k: 1 + 0.1 * k) == pytest.approx(expected_tokens(0.8, 4) / 1.4)


def test_expected_tokens_matches_a_simulation():
    rng = random.Random(3)
    alpha, k, steps = 0.7, 5, 200_000
    emitted = 0
    for _ in range(steps):
        kept = 0
        while kept < k and rng.random() < alpha:
            kept += 1
        emitted += kept + 1
    assert emitted / steps == pytest.approx(expected_tokens(alpha, k), rel=0.01)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.7, 0.95])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_vllm_rate_is_not_alpha_and_inverts(alpha, k):
    rate = draft_acceptance_rate(alpha, k)
    if k > 1:
        assert rate < alpha  # later positions need every earlier one kept
    assert alpha_from_rate(rate, k) == pytest.approx(alpha, abs=1e-6)


def test_the_cheaper_drafter_wins_as_published():
    # Llama-3.2-1B vs 8B drafting for a 70B target: the smaller accepts less but costs far less
    small, big = Candidate("1b", alpha=0.70, c=0.02), Candidate("8b", alpha=0.80, c=0.12)
    advice = advise([small, big])
    assert advice.drafter == "1b"
    assert advice.speedup == pytest.approx(max(advice.table["1b"]))
    assert "8b" in advice.reason and "costs" in advice.reason


def test_no_drafter_pays_is_said():
    advice = advise([Candidate("slow", alpha=0.2, c=0.9)])
    assert advice.speedup < 1 and "without speculation" in advice.reason


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        expected_tokens(1.5, 3)
    with pytest.raises(ValueError):
        alpha_from_rate(1.2, 3)
    with pytest.raises(ValueError):
        advise([])


def test_cli_advises_from_the_ledgers_counters(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from inferaudit.gateway.writer import LedgerWriter
    from inferaudit.usage import Call, Tokens

    ledger = tmp_path / "spec.duckdb"
    writer = LedgerWriter(ledger, flush_s=0.01)
    writer.start()
    for i in range(3):  # K=4 steps with alpha 0.7: rate = 0.7(1 - 0.7^4)/(4 * 0.3)
        writer.submit(Call(call_id=f"c{i}", source="gateway", provider=None, model="smol", harness=None,
                           tokens=Tokens(input=10, output=50), spec_draft_tokens=400, spec_steps=100,
                           spec_accepted_tokens=round(400 * draft_acceptance_rate(0.7, 4))))
    writer.close()
    cli = Path(sys.executable).parent / "inferaudit"
    done = subprocess.run([str(cli), "spec", "advise", "--from-ledger", "--ledger", str(ledger), "--c", "0.01"],
                          capture_output=True, text=True, timeout=60, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "smol (ledger)" in done.stdout and "alpha 0.70" in done.stdout
    empty = tmp_path / "empty.duckdb"
    from inferaudit.ledger import Ledger
    Ledger(empty).close()
    none = subprocess.run([str(cli), "spec", "advise", "--from-ledger", "--ledger", str(empty)],
                          capture_output=True, text=True, timeout=60)
    assert none.returncode == 1 and "no acceptance data" in none.stderr
