"""The llama.cpp backend: same Backend contract as transformers, so greedy speculation stays token-identical."""

from __future__ import annotations

import sys

import pytest

from inferaudit.speculative.backends import backend_class
from inferaudit.speculative.backends.llamacpp import REBUILD_HINT as REBUILD
from inferaudit.speculative.decode import Sampling, decode
from inferaudit.speculative.drafters import NGramDrafter
from inferaudit.speculative.engine import KPolicy, SpecStats, speculate
from inferaudit.speculative.model import ModelUnavailable
from inferaudit.speculative.policy import CostAwareK, measure_verify_cost

REPEAT = [{"role": "user", "content": "Repeat exactly: the cat sat on the mat, the cat sat on the mat, the cat sat on the mat."}]


@pytest.fixture(scope="module")
def llamacpp():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install 'inferaudit[llamacpp]'")
    from inferaudit.speculative.backends.llamacpp import LlamaCppBackend

    try:
        backend = LlamaCppBackend(n_ctx=4096)
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    yield backend
    backend.close()


def stop_ids(loaded):
    eos = loaded.model.generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos}


def mix_prompts():
    """Two prompts of each benchmark class (chat, code, context-grounded, code edit) and a repetitive one."""
    from inferaudit.speculative.prompts import prompt_mix

    return [p.messages for p in prompt_mix(per_class=2, seed=3)] + [REPEAT]


def test_the_registry_finds_the_llamacpp_backend():
    pytest.importorskip("llama_cpp")
    from inferaudit.speculative.backends.llamacpp import LlamaCppBackend

    assert backend_class("llama.cpp") is LlamaCppBackend


def test_missing_package_says_what_to_install(monkeypatch):
    from inferaudit.speculative.backends import llamacpp

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now raises ImportError
    with pytest.raises(ModelUnavailable, match=r"pip install 'inferaudit\[llamacpp\]'"):
        llamacpp.LlamaCppBackend("model.gguf")


def test_unknown_model_path_is_a_clear_error(tmp_path):
    pytest.importorskip("llama_cpp")
    from inferaudit.speculative.backends.llamacpp import LlamaCppBackend

    with pytest.raises(ModelUnavailable, match="no GGUF model at .*missing.gguf"):
        LlamaCppBackend(tmp_path / "missing.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(ModelUnavailable, match="could not load .*junk.gguf"):
        LlamaCppBackend(junk)


@pytest.mark.model
def test_feed_checks_its_arguments(llamacpp):
    llamacpp.reset()
    with pytest.raises(ValueError, match="logits_from"):
        llamacpp.feed([1, 2], logits_from=3)
    with pytest.raises(ValueError, match="context full"):
        llamacpp.feed([1] * (llamacpp.n_ctx + 1))
    assert llamacpp.cached == 0
    assert llamacpp.feed([1, 2, 3], logits_from=3) is None and llamacpp.cached == 3
    assert tuple(llamacpp.feed([4, 5], logits_from=1).shape) == (1, llamacpp.vocab_size)


@pytest.mark.model
@pytest.mark.parametrize("policy", ["k5", "adaptive", "cost-aware"])
def test_greedy_ngram_speculation_is_token_identical_to_plain_llamacpp_decoding(smollm2, llamacpp, policy):
    assert llamacpp.batch_invariant, f"llama.cpp built with llamafile or run with flash attention: rebuild with {REBUILD}"
    accepted = 0
    for messages in mix_prompts():
        ids = smollm2.chat_ids(messages)
        sampling = Sampling(max_tokens=64)
        plain = list(decode(llamacpp, ids, sampling, stop_ids(smollm2)))
        stats = SpecStats()
        # cost-aware: the verify costs measured on this very backend decide which drafts are verified
        chosen = {"k5": KPolicy(k=5), "adaptive": KPolicy(k=2, adaptive=True)}.get(policy) or \
            CostAwareK(measure_verify_cost(llamacpp, ids, n_max=9, reps=3))
        spec = list(speculate(llamacpp, NGramDrafter(32, 3), ids, sampling, stop_ids(smollm2), chosen, stats))
        assert spec == plain, messages[0]["content"][:80]
        accepted += stats.num_accepted_draft_tokens
    assert accepted > 50  # drafts were really kept (and rolled back on rejection): the identity is not vacuous


def _prefix(smollm2):
    return smollm2.chat_ids([{"role": "user", "content": "Write a Python function that reverses a list."}])


@pytest.mark.model
def test_trim_then_refeed_gives_the_logits_of_never_having_fed_the_rejected_tokens(smollm2, llamacpp):
    torch = pytest.importorskip("torch")
    prompt = _prefix(smollm2)
    llamacpp.reset()
    llamacpp.feed(prompt, logits_from=len(prompt))
    llamacpp.feed([1000, 2000, 3000, 4000, 5000])  # a draft that verification rejects
    llamacpp.trim(len(prompt))
    assert llamacpp.cached == len(prompt)
    after_trim = llamacpp.feed([330, 3015, 28])

    llamacpp.reset()
    llamacpp.feed(prompt, logits_from=len(prompt))
    never_fed = llamacpp.feed([330, 3015, 28])
    assert torch.equal(after_trim, never_fed)  # bit for bit: the rejected positions left no trace


@pytest.mark.model
def test_a_batched_feed_gives_the_logits_of_single_feeds_bit_for_bit(smollm2, llamacpp):
    """A verify pass (K+1 tokens in one llama_decode) must see exactly what token-by-token decoding sees.

    Not true of llama.cpp's default build: measured here with llama-cpp-python 0.3.36 built
    with llamafile (the default), logits of rows 1.. of a 12-token batch differed from single-
    token feeds by up to 0.65 (flash attention on) or 0.55 (off; with an F32 KV cache rows from
    a position-dependent index on), because llamafile's tinyBLAS GEMM (attention products, the
    Q8_0 output head) and the CPU flash-attention kernel sum in another order for some batch
    shapes, and the int8 re-quantization of activations before each Q4_1 matmul amplifies the
    last-bit differences over 30 layers. Greedy speculation then left plain decoding at a near
    tie (token 44 of a HumanEval prompt). Built with GGML_LLAMAFILE=OFF and run without flash
    attention (this backend's default), every product is ggml's per-element vec_dot and every
    other op is row-wise, and the logits are bit-identical: asserted exactly here, at several
    batch sizes and context lengths, with no tolerance.
    """
    torch = pytest.importorskip("torch")
    assert llamacpp.batch_invariant, f"llama.cpp built with llamafile or run with flash attention: rebuild with {REBUILD}"
    for prompt in (_prefix(smollm2), smollm2.chat_ids(mix_prompts()[4])):  # a short prompt and a ~700-token document
        continuation = list(decode(llamacpp, prompt, Sampling(max_tokens=12), set()))
        llamacpp.reset()
        llamacpp.feed(prompt, logits_from=len(prompt))
        singles = torch.cat([llamacpp.feed([token]) for token in continuation])
        for n in (2, 5, 9, 12):
            llamacpp.trim(len(prompt))
            batched = llamacpp.feed(continuation[:n])
            assert torch.equal(batched, singles[:n]), f"batch of {n} after {len(prompt)} tokens"
        assert singles.argmax(-1)[:-1].tolist() == continuation[1:]  # and they are what plain decoding used


@pytest.mark.model
def test_the_2x2_tiles_give_stock_ggml_logits_bit_for_bit(smollm2, llamacpp):
    """The project's build (``make llamacpp``, patches/) computes Q4_1 and Q8_0 products two rows by
    two tokens at a time. Every logit must equal stock ggml's, whose one-column kernels the same
    library runs with the tiles off: prompts of odd and even length (an odd one takes its last
    token through the one-column kernel), single-token feeds and verify passes of 2..9 tokens,
    all logits asked for."""
    torch = pytest.importorskip("torch")
    from inferaudit.speculative.backends import tiles

    info = llamacpp._lib.llama_print_system_info()
    assert b"INFERAUDIT_TILES" in info, "llama-cpp-python was built without patches/: rebuild it with `make llamacpp`"
    if not tiles.available():
        pytest.skip("this CPU build has no AVX2: the patch compiled no tiles")
    assert tiles.enabled()

    def logits(prompt):
        llamacpp.reset()
        rows = [llamacpp.feed(prompt, logits_from=0)]
        for n in (1, 2, 3, 4, 9, 1):
            rows.append(llamacpp.feed(list(range(1000, 1000 + n))))
        return torch.cat(rows)

    for prompt in (_prefix(smollm2), smollm2.chat_ids(mix_prompts()[4])):
        for length in (len(prompt), len(prompt) - 1):  # one odd, one even
            tiled = logits(prompt[:length])
            with tiles.stock_kernels():
                assert not tiles.enabled()
                stock = logits(prompt[:length])
            assert tiles.enabled()
            assert len(tiles.loaded_copies()) == 1  # the switch acted on the library llama.cpp runs, not a second copy
            assert torch.equal(tiled, stock), f"prompt of {length} tokens: max diff {(tiled - stock).abs().max()}"


@pytest.mark.model
async def test_the_model_server_answers_from_the_llamacpp_backend(smollm2, llamacpp):
    from aiohttp.test_utils import TestClient, TestServer

    from inferaudit.speculative.server import ModelServer

    server = ModelServer(smollm2, NGramDrafter(3), KPolicy(k=5), target=llamacpp)
    async with TestClient(TestServer(server.app())) as client:
        response = await client.post("/v1/chat/completions", json={"messages": REPEAT, "max_tokens": 40})
        body = await response.json()
    plain = list(decode(llamacpp, smollm2.chat_ids(REPEAT), Sampling(max_tokens=40), server.stop_ids))
    assert body["choices"][0]["message"]["content"] == server._text(plain)
    assert body["usage"]["completion_tokens"] == len(plain)
    assert body["metrics"]["speculative_decoding"]["num_accepted_draft_tokens"] > 0


def test_serve_model_rejects_an_unknown_backend():
    from typer.testing import CliRunner

    from inferaudit.cli import app

    result = CliRunner().invoke(app, ["serve-model", "--backend", "vllm"])
    assert result.exit_code == 2
    assert "--backend 'vllm'" in result.output and "llama.cpp" in result.output and "transformers" in result.output


@pytest.mark.parametrize("args", [["--kv-type", "q8", "--backend", "llama.cpp"], ["--kv-type", "f32", "--backend", "transformers"]])
def test_serve_model_refuses_a_kv_type_it_cannot_apply_before_loading_anything(args):
    from typer.testing import CliRunner

    from inferaudit.cli import app

    result = CliRunner().invoke(app, ["serve-model", "--port", "1", *args])
    assert result.exit_code == 2
    assert "use f16 or f32, with the llama.cpp backend" in result.output


def test_kv_type_and_requantize_kind_are_checked(tmp_path):
    pytest.importorskip("llama_cpp")
    from inferaudit.speculative.backends.llamacpp import LlamaCppBackend, requantize

    with pytest.raises(ValueError, match="kv_type must be one of f16, f32, not 'q8'"):
        LlamaCppBackend(tmp_path / "any.gguf", kv_type="q8")
    with pytest.raises(ValueError, match="kind must be one of .*F32, not 'Q2'"):
        requantize(tmp_path / "a.gguf", "Q2", tmp_path)
    with pytest.raises(ModelUnavailable, match="no GGUF model at .*a.gguf"):
        requantize(tmp_path / "a.gguf", "F32", tmp_path)


@pytest.mark.model
def test_f32_weights_with_an_f32_kv_cache_give_transformers_tokens_and_speculation_keeps_them(smollm2, tmp_path_factory):
    """The same values as transformers' dequantized weights, at the same float width: the same greedy tokens.

    With the shipped Q4_1 kernels llama.cpp's tokens differ from transformers' on most prompts
    (bench/spec_cpu.py counts them); requantized to F32 and run with an F32 KV cache they match,
    so the llama.cpp engine can be set against transformers' own prompt lookup on equal outputs.
    """
    torch = pytest.importorskip("torch")
    from inferaudit.speculative.backends.llamacpp import LlamaCppBackend, requantize
    from inferaudit.speculative.model import smollm2_gguf

    f32 = requantize(smollm2_gguf(), "F32", tmp_path_factory.mktemp("f32"))
    backend = LlamaCppBackend(f32, n_ctx=2048, kv_type="f32")
    try:
        for messages in mix_prompts()[::2]:  # chat, code, context-grounded and code-edit prompts
            ids = smollm2.chat_ids(messages)
            sampling = Sampling(max_tokens=48)
            with torch.inference_mode():
                out = smollm2.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                             max_new_tokens=48, do_sample=False, eos_token_id=sorted(stop_ids(smollm2)),
                                             pad_token_id=min(stop_ids(smollm2)))
            expected = out[0, len(ids):].tolist()
            assert list(decode(backend, ids, sampling, stop_ids(smollm2))) == expected, messages[0]["content"][:80]
            spec = speculate(backend, NGramDrafter(3), ids, sampling, stop_ids(smollm2), KPolicy(k=4, adaptive=True), SpecStats())
            assert list(spec) == expected
    finally:
        backend.close()
