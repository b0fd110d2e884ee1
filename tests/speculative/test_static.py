"""The static-cache decoder computes what transformers computes, with rollback and per-row lengths."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from inferaudit.speculative.backends.hf import HFBackend  # noqa: E402
from inferaudit.speculative.backends.static import StaticBackend, StaticLlama  # noqa: E402
from inferaudit.speculative.decode import Sampling, decode  # noqa: E402
from inferaudit.speculative.drafters import NGramDrafter  # noqa: E402
from inferaudit.speculative.engine import KPolicy, speculate  # noqa: E402
from inferaudit.speculative.synthetic import plain, speculative  # noqa: E402


def reference(model, ids):
    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids])).logits[0]


def test_chunked_feeds_and_trims_match_a_full_forward(tiny):
    ids = torch.randint(0, 300, (40,)).tolist()
    backend = StaticBackend(tiny, max_len=64)
    first = backend.feed(ids[:25])
    second = backend.feed(ids[25:33], logits_from=3)
    assert torch.allclose(first, reference(tiny, ids[:25]), atol=1e-4)
    assert torch.allclose(second, reference(tiny, ids[:33])[28:], atol=1e-4)
    backend.trim(30)  # reject three tokens, then take another path
    other = [7, 8, 9]
    assert backend.cached == 30
    assert torch.allclose(backend.feed(other), reference(tiny, ids[:30] + other)[30:], atol=1e-4)


def test_rows_of_a_batch_keep_their_own_lengths(tiny):
    a, b = torch.randint(0, 300, (2, 20)).tolist()
    static = StaticLlama(tiny, batch=2, max_len=64)
    static.forward(torch.tensor([a, b]))
    static.set_lengths(torch.tensor([20, 12]))  # row 1 rolled back to 12 tokens
    out = static.forward(torch.tensor([[5], [6]]))
    assert torch.allclose(out[0, 0], reference(tiny, a + [5])[-1], atol=1e-4)
    assert torch.allclose(out[1, 0], reference(tiny, b[:12] + [6])[-1], atol=1e-4)


def test_greedy_speculation_on_the_static_backend_is_token_identical(tiny):
    prompt = [11, 12, 13, 14, 11, 12, 13, 14, 11, 12]
    plain_tokens = list(decode(HFBackend(tiny), prompt, Sampling(max_tokens=30), set()))
    backend = StaticBackend(tiny, max_len=128)
    assert list(decode(backend, prompt, Sampling(max_tokens=30), set())) == plain_tokens
    assert list(speculate(backend, NGramDrafter(2), prompt, Sampling(max_tokens=30), set(), KPolicy(k=3))) == plain_tokens


def test_the_sequence_may_not_outgrow_the_cache(tiny):
    backend = StaticBackend(tiny, max_len=16)
    backend.feed(list(range(10)))
    with pytest.raises(ValueError, match="max_len 16"):
        backend.feed(list(range(7)))


@pytest.mark.parametrize("alpha, per_round", [(1.0, 4), (0.0, 1)])
def test_synthetic_acceptance_emits_what_the_coins_say(tiny, alpha, per_round):
    target, drafter = StaticLlama(tiny, batch=3, max_len=128), StaticLlama(tiny, batch=3, max_len=128)
    target.set_lengths(5)
    run = speculative(target, drafter, torch.zeros(3, 1, dtype=torch.long), k=3, alpha=alpha, rounds=6)
    assert run.tokens == 3 * 6 * per_round
    assert target.lengths.tolist() == [5 + 6 * per_round] * 3
    assert plain(target, torch.zeros(3, 1, dtype=torch.long), 4).tokens == 12


def test_other_architectures_are_refused():
    cfg = transformers.GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50)
    with pytest.raises(ValueError, match="llama"):
        StaticLlama(transformers.GPT2LMHeadModel(cfg))
