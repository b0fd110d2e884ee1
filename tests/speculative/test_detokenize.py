"""The streamed text joins to exactly what one decode of all the tokens gives, on SmolLM2's real tokenizer."""

from __future__ import annotations

import pytest

from inferaudit.speculative.detokenize import CONTEXT, TextStream

pytestmark = pytest.mark.model

TEXTS = [
    "Hello, world! Don't split this , please . Isn't it ' quoted '?",
    "héllo 世界 🙂 — naïve café, 東京タワー 🚀🚀 ok.",
    "def f(x):\n    return x  # \u00e9t\u00e9\n\n\tindented\r\nwindows line",
    "🙂" * 7 + "  double  spaces  " + "\u200b zero width",
]


def _stream(tokenizer, ids, skip=()):
    stream = TextStream(tokenizer, skip)
    return [stream.add(i) for i in ids]


@pytest.mark.parametrize("text", TEXTS)
def test_deltas_join_to_the_full_decode(smollm2, text):
    tok = smollm2.tokenizer
    ids = tok(text, add_special_tokens=False)["input_ids"]
    deltas = _stream(tok, ids)
    assert "".join(deltas) == tok.decode(ids, skip_special_tokens=True)
    assert len(ids) > CONTEXT


def test_a_character_split_over_tokens_waits_for_its_last_byte(smollm2):
    tok = smollm2.tokenizer
    ids = tok("a 世", add_special_tokens=False)["input_ids"]
    parts = [tok.decode([i]) for i in ids]
    assert "\ufffd" in parts[-2]  # the CJK character spans byte tokens
    deltas = _stream(tok, ids)
    assert deltas[-2] == "" and deltas[-1].endswith("世")
    assert "\ufffd" not in "".join(deltas)


def test_stop_and_special_tokens_add_no_text(smollm2):
    tok = smollm2.tokenizer
    ids = tok("one two", add_special_tokens=False)["input_ids"]
    stops = smollm2.stop_ids
    stream = [*ids[:1], *stops, *ids[1:], *stops]
    assert "".join(_stream(tok, stream, stops)) == "one two"


def test_the_real_models_reply_streams_as_it_decodes(smollm2):
    from inferaudit.speculative.decode import Sampling, decode

    ids = smollm2.chat_ids([{"role": "user", "content": "Write a haiku about caf\u00e9s in Tokyo, with one emoji."}])
    out = list(decode(smollm2.backend(), ids, Sampling(max_tokens=48), smollm2.stop_ids))
    deltas = _stream(smollm2.tokenizer, out, smollm2.stop_ids)
    full = smollm2.tokenizer.decode([t for t in out if t not in smollm2.stop_ids], skip_special_tokens=True)
    assert "".join(deltas).rstrip("\ufffd") == full.rstrip("\ufffd")
