"""The seam between the speculative engine and a target model: one small interface, several backends.

A backend owns a KV cache for one sequence. ``feed`` appends tokens to it
and returns the next-token logits at the positions asked for; ``trim``
rolls the cache back to a prefix (what verification kept). Every backend
must give the same logits for the same tokens whether they arrive in one
``feed`` or many: that is what makes greedy speculation token-identical
to plain decoding.
"""

from __future__ import annotations

from typing import Any, Protocol


class Backend(Protocol):
    name: str
    device: str

    @property
    def cached(self) -> int:
        """How many tokens the cache holds."""

    def reset(self) -> None:
        """Forget the cache: a new sequence starts."""

    def feed(self, tokens: list[int], logits_from: int = 0) -> Any:
        """Append ``tokens``; return a float tensor [len(tokens) - logits_from, vocab] of next-token logits
        after each of ``tokens[logits_from:]`` (``logits_from=len(tokens)``: prefill only, returns None)."""

    def trim(self, keep: int) -> None:
        """Keep only the first ``keep`` cached tokens."""
