"""Target-model backends for the speculative engine, found by name (see ``base.Backend``)."""

from __future__ import annotations

import importlib

from .base import Backend
from .hf import HFBackend, trim_cache

# name -> "module:class"; each class is built by its own ``load(gguf, device)`` classmethod
BACKENDS: dict[str, str] = {
    "transformers": "inferaudit.speculative.backends.hf:HFBackend",
    "llama.cpp": "inferaudit.speculative.backends.llamacpp:LlamaCppBackend",  # CPU, quantized GGUF kernels
}


def backend_class(name: str):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(sorted(BACKENDS))}")
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


__all__ = ["BACKENDS", "Backend", "HFBackend", "backend_class", "trim_cache"]
