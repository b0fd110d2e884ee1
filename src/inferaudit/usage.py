"""Token buckets and the records every source produces.

Buckets are *disjoint*: a sum over buckets never double counts.

- ``input``: prompt tokens billed at the plain input rate (neither read from
  nor written to a prompt cache).
- ``cache_read``: prompt tokens served from a prompt cache.
- ``cache_write_5m`` / ``cache_write_1h``: prompt tokens written to a cache,
  by TTL (Anthropic bills them 1.25x / 2x input). ``cache_write_5m`` is the
  provider's base write rate (genai-prices' ``cache_write_mtok``), so it also
  holds OpenAI's ``cache_write_tokens`` (GPT-5.6 and later: 1.25x input, a
  30-minute TTL; earlier models report none).
- ``output``: generated tokens, reasoning included.
- ``reasoning``: the part of ``output`` that was reasoning. Informational:
  never added to ``output`` again.

Provider conventions are mapped to buckets at the boundary by the
constructors below, so importers and providers never do the arithmetic
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token usage of one or more calls, in disjoint buckets."""

    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0

    def __post_init__(self) -> None:
        for name in BUCKETS:
            value = getattr(self, name)
            if type(value) is not int:  # bool and float are refused too
                raise TypeError(f"token bucket {name!r} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"token bucket {name!r} is negative: {value}")
        if self.reasoning > self.output:
            raise ValueError(f"reasoning ({self.reasoning}) exceeds output ({self.output})")

    def __add__(self, other: Tokens) -> Tokens:
        if not isinstance(other, Tokens):
            return NotImplemented
        return Tokens(*(getattr(self, b) + getattr(other, b) for b in BUCKETS))

    def __radd__(self, other: object) -> Tokens:
        if other == 0:  # lets sum() work
            return self
        return NotImplemented

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def prompt(self) -> int:
        """Every prompt token, whatever it was billed as."""
        return self.input + self.cache_read + self.cache_write

    @property
    def cache_hit_rate(self) -> float | None:
        """``cache_read / (input + cache_read + cache_write_*)``; None without prompt tokens."""
        return self.cache_read / self.prompt if self.prompt else None

    def as_dict(self) -> dict[str, int]:
        return {b: getattr(self, b) for b in BUCKETS}

    def max(self, other: Tokens) -> Tokens:
        """Bucket-wise maximum: how partial duplicates of one response are merged."""
        return Tokens(*(max(getattr(self, b), getattr(other, b)) for b in BUCKETS))

    # -- provider conventions -------------------------------------------------

    @classmethod
    def from_anthropic(cls, usage: dict[str, Any]) -> Tokens:
        """Anthropic Messages ``usage``: ``input_tokens`` excludes cache reads and writes.

        The write split by TTL is in ``cache_creation``; without it (older
        responses) every write is taken as a 5-minute write, Anthropic's default.
        """
        written = _int(usage.get("cache_creation_input_tokens"))
        split = usage.get("cache_creation") or {}
        w5 = _int(split.get("ephemeral_5m_input_tokens"))
        w1 = _int(split.get("ephemeral_1h_input_tokens"))
        if not split:
            w5 = written
        elif w5 + w1 != written and written:
            # the split must account for every written token; any remainder is 5m
            w5 = max(written - w1, 0)
        return cls(
            input=_int(usage.get("input_tokens")),
            cache_read=_int(usage.get("cache_read_input_tokens")),
            cache_write_5m=w5,
            cache_write_1h=w1,
            output=_int(usage.get("output_tokens")),
        )

    @classmethod
    def from_prompt_including_cached(
        cls, prompt: int, cached: int, output: int, reasoning: int = 0, written: int = 0, *, reasoning_in_output: bool = True
    ) -> Tokens:
        """OpenAI, Gemini, Codex CLI, Gemini CLI: the prompt count *includes* cached tokens.

        ``written`` is OpenAI's ``cache_write_tokens``: prompt tokens written to
        the cache, also *inside* the prompt count (its prompt-caching guide:
        2,600 input tokens with 2,000 cached and 400 written leave 200 billed as
        plain input). They are booked as ``cache_write_5m``, the base write rate.
        ``reasoning_in_output`` is False where the source reports thoughts beside,
        not inside, the output count (Gemini's ``thoughtsTokenCount``): they are
        billed as output, so they are added to it here.
        """
        prompt, cached, written = _int(prompt), _int(cached), _int(written)
        output, reasoning = _int(output), _int(reasoning)
        if cached > prompt:
            raise ValueError(f"cached tokens ({cached}) exceed prompt tokens ({prompt})")
        if cached + written > prompt:
            raise ValueError(f"cached ({cached}) and cache-write ({written}) tokens exceed prompt tokens ({prompt})")
        total_output = output if reasoning_in_output else output + reasoning
        return cls(
            input=prompt - cached - written, cache_read=cached, cache_write_5m=written, output=total_output, reasoning=reasoning
        )

def _int(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise TypeError(f"expected a token count, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise TypeError(f"expected a token count, got {value!r}")
    return value


@dataclass(slots=True)
class Call:
    """One LLM API call. Retries are calls too (``attempt`` > 1)."""

    call_id: str  # dedupe key: importing the same call twice keeps one row
    source: str
    provider: str | None
    model: str | None
    harness: str | None
    tokens: Tokens
    run_id: str | None = None
    session_id: str | None = None
    started_at: datetime | None = None
    first_token_at: datetime | None = None
    ended_at: datetime | None = None
    cost_reported: float | None = None
    status: str = "ok"
    attempt: int = 1
    tool_calls: int = 0
    user: str | None = None
    feature: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    spec_draft_tokens: int | None = None
    spec_accepted_tokens: int | None = None
    spec_steps: int | None = None
    source_file: str | None = None
    source_line: int | None = None


OUTCOMES = ("resolved", "failed", "unknown")


@dataclass(slots=True)
class Run:
    """One task attempt or session: its triple, task, outcome, wall time.

    A result set with only per-task totals becomes Runs without Calls; then
    ``cost_reported`` and ``wall_time_s`` carry the totals.
    """

    run_id: str
    source: str
    harness: str | None
    model: str | None
    provider: str | None = None
    cache_policy: str | None = None
    benchmark: str | None = None
    task_id: str | None = None
    outcome: str = "unknown"
    verified_by: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    wall_time_s: float | None = None
    cost_reported: float | None = None
    calls_reported: int | None = None
    tokens_reported: Tokens | None = None
    source_file: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")


@dataclass(slots=True)
class Event:
    """A fact from a log that later analyses use: a retry, a compaction, a turn's end."""

    event_id: str
    kind: str  # "api_retry", "compact_boundary", ...
    source: str
    at: datetime | None = None
    run_id: str | None = None
    session_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    source_file: str | None = None
    source_line: int | None = None


@dataclass(slots=True)
class Published:
    """A figure a result set publishes about a group of runs, to check against its records."""

    group: str  # e.g. the result folder
    harness: str | None
    model: str | None
    benchmark: str | None
    success_rate: float | None = None  # percent, as published
    cost_per_run: float | None = None
    wall_time_s: float | None = None
    source_file: str | None = None


@dataclass(slots=True)
class Problem:
    """Input that could not be read: where, and why. The rest of the file is still read."""

    file: str
    line: int | None
    reason: str


Record = Call | Run | Event | Published | Problem
