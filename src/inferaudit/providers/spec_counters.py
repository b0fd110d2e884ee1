"""Speculative-decoding counters of one response, read from whichever server family sent them.

Self-hosted servers report per-request acceptance in their own fields; each family is
one reader in :data:`READERS` (first match wins), and all produce one :class:`SpecCounters`:

- **vLLM** (``--per-request-spec-decode-metrics summary|detailed``): a top-level
  ``metrics.speculative_decoding`` object on the JSON body and on a stream's final
  usage chunk: ``num_draft_tokens``, ``num_accepted_draft_tokens``, ``num_spec_steps``,
  ``acceptance_histogram`` (index j: verify steps that accepted exactly j drafts).
  ``inferaudit serve-model`` sends the same object.
- **SGLang**: ``sglext.spec_tokens_details`` on the OpenAI endpoints (request field
  ``return_spec_tokens_details: true``), or ``meta_info`` (``/generate``; per choice with
  ``return_meta_info``): ``spec_verify_ct`` (verify steps), ``spec_num_correct_drafts`` /
  ``spec_num_proposed_drafts`` (older releases: ``spec_accept_token_num`` /
  ``spec_draft_token_num``), ``spec_correct_drafts_histogram``. Releases that only send
  ``spec_verify_ct`` define the accept length as ``completion_tokens / spec_verify_ct``
  (one bonus token per step), so accepted drafts are ``completion_tokens - spec_verify_ct``;
  the draft count then stays unknown.
- **llama.cpp server**: ``timings.draft_n`` / ``timings.draft_n_accepted`` (no step count).

A response without any of them gives ``None``: "no acceptance data", never a zero rate.
A rate over zero drafted tokens is ``None`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SpecCounters:
    """Draft / accept counts of one request (or a sum of requests); None where the server did not say."""

    source: str
    draft_tokens: int | None = None
    accepted_tokens: int | None = None
    steps: int | None = None  # verification steps (target forward passes that checked drafts)
    accepted_per_position: tuple[int, ...] | None = None  # steps whose draft at position i was accepted

    @property
    def acceptance_rate(self) -> float | None:
        """vLLM's draft acceptance rate, accepted / drafted (not the per-token alpha: see the advisor)."""
        if not self.draft_tokens or self.accepted_tokens is None:
            return None
        return self.accepted_tokens / self.draft_tokens

    @property
    def mean_acceptance_length(self) -> float | None:
        """Tokens emitted per verification step: 1 + accepted / steps (vLLM's and SGLang's definition)."""
        if not self.steps or self.accepted_tokens is None:
            return None
        return 1 + self.accepted_tokens / self.steps

    def call_fields(self) -> dict[str, int]:
        """The ``Call`` fields these counters fill (only those the server gave)."""
        fields = {"spec_draft_tokens": self.draft_tokens, "spec_accepted_tokens": self.accepted_tokens,
                  "spec_steps": self.steps}
        return {name: value for name, value in fields.items() if value is not None}

    def __add__(self, other: SpecCounters) -> SpecCounters:
        if not isinstance(other, SpecCounters):
            return NotImplemented
        source = self.source if self.source == other.source else f"{self.source}+{other.source}"
        return SpecCounters(source, _add(self.draft_tokens, other.draft_tokens),
                            _add(self.accepted_tokens, other.accepted_tokens), _add(self.steps, other.steps),
                            _add_positions(self.accepted_per_position, other.accepted_per_position))


def _add(a: int | None, b: int | None) -> int | None:
    """A sum is only known if both parts are: a half-known total would be a wrong number."""
    return None if a is None or b is None else a + b


def _add_positions(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if a is None or b is None:
        return None
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return tuple(x + y for x, y in zip(a, b))


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():  # some proxies stringify numbers
        return int(value)
    return None


def positions_from_histogram(histogram: Any) -> tuple[int, ...] | None:
    """Accepted counts per draft position from a dense histogram (index j: steps accepting exactly j).

    A step that accepted j drafts accepted positions 0..j-1, so position i counts every step with j > i.
    A dict histogram (``{"0": 39, "3": 3}``) is read the same way.
    """
    if isinstance(histogram, dict):
        try:
            dense = {int(k): _count(v) for k, v in histogram.items()}
        except ValueError:
            return None
        histogram = [dense.get(j, 0) for j in range(max(dense, default=-1) + 1)]
    if not isinstance(histogram, list) or not histogram:
        return None
    counts = [_count(v) for v in histogram]
    if any(c is None for c in counts):
        return None
    return tuple(sum(counts[j] for j in range(i + 1, len(counts))) for i in range(len(counts) - 1))


def read_vllm(obj: dict[str, Any]) -> SpecCounters | None:
    metrics = obj.get("metrics")
    spec = metrics.get("speculative_decoding") if isinstance(metrics, dict) else None
    if not isinstance(spec, dict):
        return None
    drafted, accepted = _count(spec.get("num_draft_tokens")), _count(spec.get("num_accepted_draft_tokens"))
    steps = _count(spec.get("num_spec_steps"))
    if drafted is None and accepted is None and steps is None:
        return None
    return SpecCounters("vllm", drafted, accepted, steps, positions_from_histogram(spec.get("acceptance_histogram")))


_SGLANG_PAIRS = (  # (accepted, drafted) names across SGLang releases, newest first
    ("spec_num_correct_drafts", "spec_num_proposed_drafts"),
    ("spec_accepted_drafts", "spec_proposed_drafts"),
    ("spec_accept_token_num", "spec_draft_token_num"),
)
_SGLANG_HISTOGRAMS = ("spec_correct_drafts_histogram", "spec_accept_histogram")


def _sglang_details(obj: dict[str, Any]) -> dict[str, Any] | None:
    """``sglext.spec_tokens_details`` (OpenAI endpoints) or ``meta_info`` (``/generate``), top level or per choice."""
    choices = obj.get("choices")
    for holder in (obj, *(c for c in (choices if isinstance(choices, list) else ()) if isinstance(c, dict))):
        ext = holder.get("sglext")
        if isinstance(ext, dict) and isinstance(ext.get("spec_tokens_details"), dict):
            return ext["spec_tokens_details"]
        if isinstance(holder.get("meta_info"), dict):
            return holder["meta_info"]
    return None


def read_sglang(obj: dict[str, Any]) -> SpecCounters | None:
    meta = _sglang_details(obj)
    if meta is None:
        return None
    steps = _count(meta.get("spec_verify_ct"))
    accepted = drafted = None
    for accepted_key, drafted_key in _SGLANG_PAIRS:
        pair = _count(meta.get(accepted_key)), _count(meta.get(drafted_key))
        # sglext fills absent counts with 0: a zero draft count beside verify steps means "not given"
        if None not in pair and (pair[1] or not steps):
            accepted, drafted = pair
            break
    if accepted is None and steps:
        length = meta.get("spec_accept_length")
        completion = _count(meta.get("completion_tokens"))
        if isinstance(length, (int, float)) and not isinstance(length, bool) and length >= 1:
            accepted = round((length - 1) * steps)
        elif completion is not None:
            accepted = max(completion - steps, 0)
    if steps is None and accepted is None and drafted is None:
        return None
    histogram = next((meta[k] for k in _SGLANG_HISTOGRAMS if meta.get(k)), None)
    return SpecCounters("sglang", drafted, accepted, steps, positions_from_histogram(histogram))


def read_llamacpp(obj: dict[str, Any]) -> SpecCounters | None:
    timings = obj.get("timings")
    if not isinstance(timings, dict) or "draft_n" not in timings:
        return None
    return SpecCounters("llama.cpp", _count(timings.get("draft_n")), _count(timings.get("draft_n_accepted")))


READERS: dict[str, Callable[[dict[str, Any]], SpecCounters | None]] = {
    "vllm": read_vllm,
    "sglang": read_sglang,
    "llama.cpp": read_llamacpp,
}


def read_spec(obj: Any) -> SpecCounters | None:
    """The speculative counters of one response body or stream chunk, or None when it has none."""
    if not isinstance(obj, dict):
        return None
    for reader in READERS.values():
        found = reader(obj)
        if found is not None:
            return found
    return None
