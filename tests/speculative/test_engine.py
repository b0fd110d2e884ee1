"""The speculative engine: greedy output token-identical to plain decoding; sampling preserves the target's law."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.drafters import EarlyExitDrafter, NGramDrafter
from inferaudit.speculative.engine import KPolicy, SpecStats, _verify, speculate

PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Repeat exactly: the cat sat on the mat, the cat sat on the mat, the cat sat on the mat."}],
    [{"role": "user", "content": "Write a Python function that adds two numbers."}],
]


def stop_ids(loaded):
    eos = loaded.model.generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos}


@pytest.mark.model
@pytest.mark.parametrize("make_drafter", [lambda m: NGramDrafter(3), lambda m: EarlyExitDrafter(m.model, 8)],
                         ids=["ngram", "early-exit-8"])
@pytest.mark.parametrize("policy", [KPolicy(k=4), KPolicy(k=2, adaptive=True)], ids=["k4", "adaptive"])
def test_greedy_speculation_is_token_identical(smollm2, make_drafter, policy):
    drafter = make_drafter(smollm2)
    for prompt in PROMPTS:
        ids = smollm2.chat_ids(prompt)
        plain = list(decode(smollm2.backend(), ids, Sampling(max_tokens=40), stop_ids(smollm2)))
        stats = SpecStats()
        spec = list(speculate(smollm2.backend(), drafter, ids, Sampling(max_tokens=40), stop_ids(smollm2), policy, stats))
        assert spec == plain
        assert stats.num_accepted_draft_tokens <= stats.num_draft_tokens
        assert sum(stats.accepted_per_position) == stats.num_accepted_draft_tokens


@pytest.mark.model
def test_early_exit_drafter_leaves_the_target_untouched(smollm2):
    layers = len(smollm2.model.model.layers)
    EarlyExitDrafter(smollm2.model, 4)
    assert len(smollm2.model.model.layers) == layers == smollm2.model.config.num_hidden_layers


@pytest.mark.model
def test_ngram_drafter_accepts_on_repetitive_text(smollm2):
    ids = smollm2.chat_ids(PROMPTS[1])
    stats = SpecStats()
    list(speculate(smollm2.backend(), NGramDrafter(3), ids, Sampling(max_tokens=40), stop_ids(smollm2), KPolicy(k=4), stats))
    assert stats.num_draft_tokens > 0 and stats.draft_acceptance_rate > 0.3
    assert stats.mean_acceptance_length > 1.3


def _chi_square_p(observed: Counter, expected: dict[int, float], n: int) -> float:
    """Upper-tail p-value of Pearson's chi-square (Wilson-Hilferty approximation; no SciPy needed)."""
    stat = sum((observed.get(k, 0) - n * p) ** 2 / (n * p) for k, p in expected.items() if p > 0)
    dof = sum(1 for p in expected.values() if p > 0) - 1
    z = ((stat / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))


@pytest.mark.parametrize("one_hot", [False, True], ids=["model-draft", "ngram-draft"])
def test_rejection_sampling_preserves_the_target_distribution(one_hot):
    torch = pytest.importorskip("torch")
    vocab, n = 6, 20_000
    target_logits = torch.log(torch.tensor([0.35, 0.25, 0.15, 0.12, 0.08, 0.05]))
    q = torch.tensor([0.05, 0.10, 0.50, 0.05, 0.20, 0.10])  # a poor drafter, on purpose
    generator = torch.Generator().manual_seed(7)
    sampling = Sampling(temperature=1.0)
    firsts = Counter()
    for _ in range(n):
        token = 2 if one_hot else int(torch.multinomial(q, 1, generator=generator))
        kept, final = _verify([token], None if one_hot else q[None], torch.stack([target_logits, target_logits]),
                              sampling, generator)
        firsts[token if kept else final] += 1
    expected = {i: float(p) for i, p in enumerate(torch.softmax(target_logits, -1))}
    assert _chi_square_p(firsts, expected, n) > 1e-3  # the emitted token follows p, not q
    assert sum(firsts.values()) == n and len(firsts) == vocab
    # and the check has power: the drafter's own law is rejected
    assert _chi_square_p(firsts, {i: float(p) for i, p in enumerate(q)}, n) < 1e-6


def test_greedy_picks_what_torch_argmax_picks_ties_nan_and_other_dtypes_included():
    torch = pytest.importorskip("torch")
    from inferaudit.speculative.decode import greedy

    torch.manual_seed(0)
    rows = torch.randn(5, 49152)
    rows[1, 7] = rows[1, 9] = rows[1].max() + 1  # a tie: the first index wins, as in torch
    rows[2, 11] = float("nan")
    for logits in (rows, rows[3], rows.to(torch.bfloat16), rows.to(torch.float64), rows.requires_grad_(True)):
        assert greedy(logits) == torch.argmax(logits, dim=-1).tolist()
    assert greedy(rows)[1] == 7 and greedy(rows)[2] == 11
