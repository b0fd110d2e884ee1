"""Streamed text from generated token ids, decoding a few tokens per step instead of the whole reply.

A stream shows the text of the tokens so far. Decoding every token list from the
start costs O(n) per token, O(n^2) per reply, on the server's HTTP thread, which
shares the CPU with generation. :class:`TextStream` decodes a short window
instead (the scheme vLLM's incremental detokenizer uses): the text of the last
few tokens already shown and the same window with the new tokens; the
difference is the new text. A token that ends inside a multi-byte character
decodes to U+FFFD, so the text waits for the tokens that complete it.

The window starts ``CONTEXT`` tokens back so that a tokenizer whose decode of a
token depends on the one before (a SentencePiece leading space, the cleanup of
" ." to ".") sees it; the deltas join to the same text as one decode of all the
tokens (tests check it on the real tokenizer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CONTEXT = 5  # tokens already shown that are decoded again beside the new ones


class TextStream:
    """Feed token ids with :meth:`add`; each call returns the text they add (maybe "", until a character completes)."""

    def __init__(self, tokenizer: Any, skip_ids: Iterable[int] = ()):
        self.tokenizer, self.skip_ids = tokenizer, frozenset(skip_ids)
        self._tokens: list[int] = []
        self._prefix = 0  # the window's first token
        self._read = 0  # tokens whose text has been returned

    def add(self, token: int) -> str:
        if token in self.skip_ids:
            return ""
        self._tokens.append(token)
        shown = self._decode(self._tokens[self._prefix:self._read])
        text = self._decode(self._tokens[self._prefix:])
        if len(text) <= len(shown) or text.endswith("\ufffd"):
            return ""
        self._prefix, self._read = max(0, len(self._tokens) - CONTEXT), len(self._tokens)
        return text[len(shown):]

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True) if ids else ""
