"""What an emulated model answers: deterministic text, tool calls and token usage.

A :class:`Scenario` is chosen per request, from (first match wins):

1. ``x-emulator-scenario: NAME`` where NAME was registered with
   :meth:`Emulator.define_scenario`;
2. ``x-emulator-scenario: ANY`` otherwise: ANY seeds the generator;
3. the request's prompt (messages, system, tools; not the model, the stream
   flags or sampling settings), so the same prompt gets the same answer
   streamed or not.

``x-emulator-usage: input=7,cache_read=100,cache_write_5m=30,output=12``
then overrides the usage buckets (unnamed buckets are 0; ``output``, when
unnamed, is the visible pieces plus ``reasoning``).

Usage is held as :class:`inferaudit.usage.Tokens` buckets and written in
each provider's own convention by the wire modules, so a test can compare
what the emulator sent with what a ledger recorded, bucket by bucket.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

from ..usage import BUCKETS, Tokens

# Word pieces stand in for tokens: one piece, one output token. A few carry
# multi-byte UTF-8, quotes, backslashes and newlines, so SSE parsers and JSON
# escaping get exercised at chunk boundaries.
_WORDS = (
    "the", "cache", "token", "model", "prompt", "answer", "ledger", "cost", "request", "stream",
    "result", "value", "simple", "fast", "bill", "every", "call", "counts", "here", "done",
    "café", "naïve", "—", "🐎", "世界", '"quoted"', "back\\slash", "tab\tin", "line\n",
)
_PIECES_MIN, _PIECES_MAX = 5, 24
# OpenAI caches prompt prefixes of 1024 tokens and more, in steps of 128.
_OPENAI_CACHE_MIN, _OPENAI_CACHE_STEP = 1024, 128


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function tool a request offers: its name and parameter names."""

    name: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the emulated model makes; ``pieces`` join to ``arguments`` (JSON text)."""

    name: str
    arguments: str
    pieces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A full answer: visible text pieces, an optional tool call, and the usage reported for it."""

    pieces: tuple[str, ...]
    usage: Tokens
    tool_call: ToolCall | None = None
    fingerprint: str = field(default="0f1e2d3c4b")  # stable per seed: system_fingerprint, obfuscation

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @classmethod
    def of(cls, text: str, usage: Tokens | None = None) -> Scenario:
        """A scenario answering ``text`` (split at word starts); usage defaults to one token a piece."""
        pieces = tuple(re.findall(r"\s*\S+|\s+", text)) or ("",)
        return cls(pieces=pieces, usage=usage or Tokens(input=1, output=len(pieces)))


def split_arguments(arguments: str) -> tuple[str, ...]:
    """Cut JSON text into token-like pieces, as providers stream tool arguments."""
    return tuple(re.findall(r'\w+|[^\w"]+|"', arguments)) or ("",)


def _tool_call(rng: random.Random, tools: list[ToolSpec]) -> ToolCall:
    spec = tools[rng.randrange(len(tools))]
    args = {name: rng.choice(_WORDS[:20]) + " " + rng.choice(_WORDS) for name in spec.params[:2]}
    arguments = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
    return ToolCall(spec.name, arguments, split_arguments(arguments))


def _prompt_split(protocol: str, rng: random.Random, prompt: int) -> dict[str, int]:
    """Divide a prompt into input / cache buckets the way ``protocol`` can report them."""
    if protocol == "anthropic":
        mode = rng.randrange(4)  # cold, 5m write, 1h write, read-mostly
        cacheable = prompt - 1  # Claude bills at least the last turn's tokens as plain input
        read = rng.randint(cacheable // 2, cacheable) if mode == 3 else 0
        write = rng.randint(cacheable // 2, cacheable) if mode in (1, 2) else 0
        w5, w1 = (write, 0) if mode == 1 else (0, write)
        return {"input": prompt - read - write, "cache_read": read, "cache_write_5m": w5, "cache_write_1h": w1}
    if protocol.startswith("openai"):
        read = 0
        if prompt >= _OPENAI_CACHE_MIN and rng.random() < 0.6:
            read = rng.randint(_OPENAI_CACHE_MIN, prompt) // _OPENAI_CACHE_STEP * _OPENAI_CACHE_STEP
        return {"input": prompt - read, "cache_read": read}
    read = rng.randint(0, prompt) if rng.random() < 0.5 else 0  # gemini implicit caching
    return {"input": prompt - read, "cache_read": read}


def generate(
    protocol: str, seed: bytes, prompt_estimate: int, tools: list[ToolSpec], wants_tool: bool
) -> Scenario:
    """The seeded answer for one protocol ("openai-*", "anthropic" or "gemini")."""
    rng = random.Random(int.from_bytes(seed[:8], "big"))
    count = rng.randint(_PIECES_MIN, _PIECES_MAX)
    words = [rng.choice(_WORDS) for _ in range(count)]
    call = _tool_call(rng, tools) if wants_tool and tools else None
    if call is not None:
        # OpenAI and Gemini answer a tool turn with the call alone; Claude says a few words first.
        words = ["I'll", "use", call.name + "."] if protocol == "anthropic" else []
    pieces = tuple(w if i == 0 else " " + w for i, w in enumerate(words))
    reasoning = 0 if protocol == "anthropic" or rng.random() < 0.5 else rng.randint(8, 256)
    output = len(pieces) + (len(call.pieces) if call else 0) + reasoning
    prompt = max(1, prompt_estimate + rng.randint(0, 3000))
    buckets = _prompt_split(protocol, rng, prompt)
    fingerprint = f"{rng.getrandbits(40):010x}"
    return Scenario(pieces, Tokens(output=output, reasoning=reasoning, **buckets), call, fingerprint)


def parse_usage_header(value: str, scenario: Scenario) -> Scenario:
    """Apply an ``x-emulator-usage`` header (``bucket=n,...``) to a scenario."""
    given: dict[str, int] = {}
    for item in value.split(","):
        name, _, number = item.strip().partition("=")
        if name not in BUCKETS or not number.strip().isdigit():
            raise ValueError(f"x-emulator-usage: bad item {item.strip()!r} (buckets: {', '.join(BUCKETS)})")
        given[name] = int(number)
    if "output" not in given:
        calls = len(scenario.tool_call.pieces) if scenario.tool_call else 0
        given["output"] = len(scenario.pieces) + calls + given.get("reasoning", 0)
    return Scenario(scenario.pieces, Tokens(**given), scenario.tool_call, scenario.fingerprint)
