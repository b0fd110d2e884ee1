"""The CPU backend: llama.cpp (quantized GGUF kernels) through llama-cpp-python's low-level C API.

One llama.cpp context holds one sequence (id 0). ``feed`` fills a
preallocated ``llama_batch`` through numpy views of its arrays, asks for
logits only at positions ``>= logits_from`` and evaluates the whole feed in
one ``llama_decode`` per ``n_batch`` tokens, so a speculative verify pass of
K+1 tokens is one batched evaluation. ``trim`` removes the rejected
positions from the KV cache with ``llama_memory_seq_rm``.

Greedy speculation is token-identical to plain decoding only if a token's
logits do not depend on how many tokens share its ``llama_decode`` call.
llama.cpp's CPU kernels are not batch-invariant by default: llamafile's
tinyBLAS GEMM (attention products, the Q8_0 output head) and the flash-
attention kernel take over for some batch shapes and sum in another order;
the int8 re-quantization of activations before every quantized matmul then
amplifies those last-bit differences over 30 layers to ~0.5 in the final
logits, enough to flip a greedy near tie. Built with ``GGML_LLAMAFILE=OFF``
and run without flash attention, every matrix product is ggml's per-element
``vec_dot`` and every other op is row-wise, so batched and single-token
logits are bit-identical (``tests/speculative/test_llamacpp.py`` checks it).
This backend turns flash attention off and reports ``batch_invariant``; it
warns when the library was built with llamafile. Stock ggml has no batched
fast path for those kernels on x86 (a verify pass of 9 tokens costs about 5
single-token steps); ``make llamacpp`` adds 2x2 tiles that keep every
result bit-identical and make batches cheaper (``backends.tiles``).

Batch invariance makes speculation exact against llama.cpp's own plain
decoding. To get transformers' tokens instead, give llama.cpp what
transformers computes with: F32 weights (a GGUF requantized to ``F32`` from
the same file transformers dequantizes) and ``kv_type="f32"`` (llama.cpp
stores K and V in F16 by default, which rounds every cached value).

The logits llama.cpp returns live in its own output buffer, which the next
``llama_decode`` overwrites (and may reallocate); ``feed`` copies the rows
it returns (one memcpy of [n, vocab] float32: about 0.2 MB per row for
SmolLM2, microseconds next to a forward pass) and hands them to torch with
``torch.from_numpy``, so a returned tensor stays valid like the transformers
backend's.
"""

from __future__ import annotations

import ctypes
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..model import ModelUnavailable, smollm2_gguf

INSTALL_HINT = ("the llama.cpp backend needs llama-cpp-python: `make llamacpp` in a checkout (builds it from source "
                "with the project's patch: a few minutes), or CMAKE_ARGS=-DGGML_LLAMAFILE=OFF pip install "
                "'inferaudit[llamacpp]' (stock kernels: exact too, slower verify passes)")
REBUILD_HINT = ("`make llamacpp`, or CMAKE_ARGS=-DGGML_LLAMAFILE=OFF pip install --force-reinstall --no-cache-dir "
                "--no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36")


def _lib() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelUnavailable(f"{INSTALL_HINT} ({exc})") from None
    return llama_cpp


def built_with_llamafile(lib: Any) -> bool:
    """Whether llama.cpp was compiled with llamafile's GEMM kernels (then batches are not bit-identical)."""
    return b"LLAMAFILE = 1" in lib.llama_print_system_info()


KV_TYPES = {"f16": 1, "f32": 0}  # ggml_type of the KV cache: GGML_TYPE_F16 (llama.cpp's default), GGML_TYPE_F32


FTYPES = {"Q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "F16": "LLAMA_FTYPE_MOSTLY_F16",
          "F32": "LLAMA_FTYPE_ALL_F32"}


def requantize(source: str | Path, kind: str, folder: str | Path) -> Path:
    """``source`` GGUF as ``kind`` (``FTYPES``), made by llama.cpp's own quantizer, in ``folder``; reused if there.

    The file is named after the source with its last dotted part (its
    quantization) replaced: ``SmolLM2-135M-Instruct.Q4_1.gguf`` gives
    ``SmolLM2-135M-Instruct.F32.gguf``. From an already quantized file the
    weights keep its rounding in the new layout: ``F32`` holds exactly the
    values transformers dequantizes.
    """
    if kind not in FTYPES:
        raise ValueError(f"kind must be one of {', '.join(FTYPES)}, not {kind!r}")
    source = Path(source)
    target = Path(folder) / f"{source.stem.rsplit('.', 1)[0]}.{kind}.gguf"
    if target.is_file():
        return target
    if not source.is_file():
        raise ModelUnavailable(f"no GGUF model at {source}")
    lib = _lib()
    params = lib.llama_model_quantize_default_params()
    params.ftype = getattr(lib, FTYPES[kind])
    params.allow_requantize = True
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    code = lib.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params))
    if code != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"llama_model_quantize of {source} to {kind} failed with code {code}")
    partial.replace(target)
    return target


def default_threads() -> int:
    """The cores this process may run on (its CPU affinity, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class LlamaCppBackend:
    """A GGUF causal LM evaluated by llama.cpp on CPU, behind the engine's ``Backend`` interface."""

    def __init__(self, gguf: str | Path | None = None, *, n_ctx: int = 8192, n_batch: int = 512,
                 n_threads: int | None = None, flash_attn: bool = False, kv_type: str = "f16",
                 name: str = "llama.cpp", verbose: bool = False):
        if kv_type not in KV_TYPES:
            raise ValueError(f"kv_type must be one of {', '.join(KV_TYPES)}, not {kv_type!r}")
        lib = self._lib = _lib()
        if not verbose:
            logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        path = Path(gguf) if gguf is not None else smollm2_gguf()
        if not path.is_file():
            raise ModelUnavailable(f"no GGUF model at {path}")
        self.name, self.device, self.path = name, "cpu", path
        self.n_threads = n_threads or default_threads()
        self._ctx = self._model = None
        self._batch = None
        lib.llama_backend_init()
        mparams = lib.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self._model = lib.llama_model_load_from_file(str(path).encode(), mparams)
        if not self._model:
            raise ModelUnavailable(f"llama.cpp could not load {path}: not a GGUF model it can read")
        self.n_ctx = min(n_ctx, lib.llama_model_n_ctx_train(self._model)) or n_ctx
        self.n_batch = min(n_batch, self.n_ctx)
        cparams = lib.llama_context_default_params()
        cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = self.n_ctx, self.n_batch, self.n_batch
        cparams.n_threads = cparams.n_threads_batch = self.n_threads
        cparams.no_perf = True
        cparams.type_k = cparams.type_v = KV_TYPES[kv_type]
        self.kv_type = kv_type
        cparams.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn else lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.batch_invariant = not flash_attn and not built_with_llamafile(lib)
        if not flash_attn and not self.batch_invariant:
            warnings.warn("llama.cpp was built with llamafile GEMM kernels: a batched verify pass is not bit-identical to "
                          "single-token decoding, so greedy speculative output can differ from plain decoding at near "
                          f"ties. Rebuild: {REBUILD_HINT}", RuntimeWarning, stacklevel=2)
        self._ctx = lib.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise ModelUnavailable(f"llama.cpp could not create a context of {self.n_ctx} tokens for {path}")
        self._memory = lib.llama_get_memory(self._ctx)
        self.vocab_size = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(self._model))
        self._batch = lib.llama_batch_init(self.n_batch, 0, 1)
        self._tokens, self._pos, self._wants = self._batch_views()
        self._cached = 0

    @classmethod
    def load(cls, gguf: str | Path | None = None, device: str = "cpu", **options: Any) -> "LlamaCppBackend":
        if device != "cpu":
            raise ValueError(f"the llama.cpp backend runs on cpu, not {device!r} (use the transformers backend there)")
        return cls(gguf, **options)

    def _batch_views(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch, n = self._batch, self.n_batch
        n_seq = np.ctypeslib.as_array(batch.n_seq_id, shape=(n,))
        n_seq[:] = 1
        for i in range(n):  # every position belongs to sequence 0, once and for all
            batch.seq_id[i][0] = 0
        return (np.ctypeslib.as_array(batch.token, shape=(n,)), np.ctypeslib.as_array(batch.pos, shape=(n,)),
                np.ctypeslib.as_array(batch.logits, shape=(n,)))

    @property
    def cached(self) -> int:
        return self._cached

    def reset(self) -> None:
        self._lib.llama_memory_clear(self._memory, True)
        self._cached = 0

    def feed(self, tokens: list[int], logits_from: int = 0):
        import torch

        n = len(tokens)
        if not 0 <= logits_from <= n or n == 0:
            raise ValueError(f"feed needs at least one token and 0 <= logits_from <= {n}, got logits_from={logits_from}")
        if self._cached + n > self.n_ctx:
            raise ValueError(f"context full: {self._cached} cached + {n} new tokens > n_ctx {self.n_ctx}")
        rows = []
        for start in range(0, n, self.n_batch):
            m = min(self.n_batch, n - start)
            self._tokens[:m] = tokens[start:start + m]
            self._pos[:m] = np.arange(self._cached, self._cached + m, dtype=np.int32)
            first_out = min(max(logits_from - start, 0), m)
            self._wants[:first_out] = 0
            self._wants[first_out:m] = 1
            self._batch.n_tokens = m
            code = self._lib.llama_decode(self._ctx, self._batch)
            if code != 0:
                self._resync()
                raise RuntimeError(f"llama_decode failed with code {code} at position {self._cached}")
            self._cached += m
            if m - first_out:
                out = self._lib.llama_get_logits(self._ctx)
                rows.append(np.ctypeslib.as_array(out, shape=(m - first_out, self.vocab_size)).copy())
        if not rows:
            return None
        return torch.from_numpy(rows[0] if len(rows) == 1 else np.concatenate(rows))

    def trim(self, keep: int) -> None:
        if keep >= self._cached:
            return
        if keep < 0 or not self._lib.llama_memory_seq_rm(self._memory, 0, keep, -1):
            raise RuntimeError(f"llama.cpp could not trim the KV cache to {keep} tokens")
        self._cached = keep

    def _resync(self) -> None:
        # a failed decode may leave processed micro-batches in the cache: read back where it stands
        self._cached = int(self._lib.llama_memory_seq_pos_max(self._memory, 0)) + 1

    def close(self) -> None:
        lib = self._lib
        if self._batch is not None:
            lib.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx:
            lib.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            lib.llama_model_free(self._model)
            self._model = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass
