"""How each provider's prompt cache behaves: a small registry, one entry per provider.

These are caching rules, not prices (prices come from the price book):
the smallest prompt a model caches, how long an automatic cache keeps an
idle prefix, and how large a shortfall counts as a miss. Sources:

- Anthropic: https://platform.claude.com/docs/en/build-with-claude/prompt-caching
  (minimum cacheable length per model; explicit 5-minute or 1-hour TTL,
  refreshed on every read).
- OpenAI: https://platform.openai.com/docs/guides/prompt-caching (automatic
  from 1,024 tokens, in 128-token steps; idle prefixes kept 5-10 minutes;
  GPT-5.6 and later bill writes, ``cache_write_tokens``, and keep them 30
  minutes).
- Google: https://ai.google.dev/gemini-api/docs/caching (implicit caching
  from 1,024 tokens on Flash, 4,096 on Pro).

A provider not listed gets ``DEFAULT``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

FIVE_MINUTES = 300.0
THIRTY_MINUTES = 1800.0
ONE_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class CacheRule:
    """One provider's prompt-cache behaviour."""

    min_tokens: tuple[tuple[str, int], ...]
    """(model glob, smallest cacheable prompt), first match wins."""
    default_min: int
    """The smallest cacheable prompt for a model no glob matches."""
    auto_ttl_s: float
    """Automatic caching: idle time after which a prefix is probably gone."""
    tolerance: int
    """Automatic caching: a shortfall of this many tokens or fewer is the provider's
    block rounding, not a miss. Explicit caches (writes billed) are exact: 0."""
    write_ttl_s: float = FIVE_MINUTES
    """How long a write billed at the base write rate (``cache_write_5m``) is kept."""
    ttl_choice: bool = True
    """Writes may pick a 5-minute or a 1-hour TTL (Anthropic): the TTL what-if replays them."""

    def minimum(self, model: str | None) -> int:
        name = (model or "").lower()
        for pattern, tokens in self.min_tokens:
            if fnmatch.fnmatchcase(name, pattern):
                return tokens
        return self.default_min


DEFAULT = CacheRule(min_tokens=(), default_min=1024, auto_ttl_s=FIVE_MINUTES, tolerance=1024)

RULES: dict[str, CacheRule] = {
    "anthropic": CacheRule(
        min_tokens=(
            ("claude-opus-4-6*", 4096), ("claude-opus-4-5*", 4096), ("claude-haiku-4-5*", 4096),
            ("claude-opus-4-7*", 2048), ("claude-3-5-haiku*", 2048), ("claude-3-haiku*", 2048),
        ),
        default_min=1024,
        auto_ttl_s=FIVE_MINUTES,
        tolerance=0,
    ),
    "openai": CacheRule(min_tokens=(), default_min=1024, auto_ttl_s=FIVE_MINUTES, tolerance=1024,
                        write_ttl_s=THIRTY_MINUTES, ttl_choice=False),
    "google": CacheRule(min_tokens=(("*pro*", 4096),), default_min=1024, auto_ttl_s=FIVE_MINUTES, tolerance=1024),
}


def rule_for(provider: str | None) -> CacheRule:
    return RULES.get((provider or "").lower(), DEFAULT)
