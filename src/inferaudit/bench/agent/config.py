"""The built-in agent's knobs: the ones the audit attributes waste to.

Built from a harness entry of the triples file, e.g.::

    harnesses:
      agent-lean: {adapter: builtin, max_turns: 12, context: truncate, keep_last: 6, retry_budget: 1}
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TriplesError
from ..fields import Fields

CONTEXT_CHOICES = ("full", "truncate", "summarise")
WIRE_CHOICES = ("openai-chat", "anthropic-messages")


@dataclass(frozen=True)
class AgentConfig:
    max_turns: int | None = None
    """Loop cap: model calls per attempt; the task's own limit applies too (the lower one wins)."""
    retry_budget: int = 3
    """Retries of failed model calls (429, 5xx, timeouts) per attempt, all calls together."""
    context: str = "full"
    """What each call sends: ``full`` history; ``truncate`` (the task and the last ``keep_last``
    messages); ``summarise`` (as truncate, with the dropped steps summarised from the raw episode
    kept aside, at the time of each call: no extra model call)."""
    keep_last: int = 8
    """Messages kept verbatim by ``truncate`` and ``summarise``."""
    wire: str = "openai-chat"
    """Protocol spoken to the gateway: ``openai-chat`` or ``anthropic-messages``."""
    max_tokens: int = 2048
    """Output cap per call."""
    temperature: float | None = 0.0
    """Sampling temperature sent with each call; None: not sent."""
    shell_timeout_s: float = 60.0
    """Seconds a ``run_shell`` command may take (less when the attempt's wall time runs out first)."""
    output_chars: int = 8000
    """Characters of a tool result shown to the model (head and tail kept)."""
    request_timeout_s: float = 120.0
    """Seconds one model call may take."""
    system_prompt: str | None = None
    """Replaces the built-in system prompt."""

    @classmethod
    def from_options(cls, options: dict, where: str) -> AgentConfig:
        f = Fields(options, where, TriplesError)
        f.only("adapter", "max_turns", "retry_budget", "context", "keep_last", "wire", "max_tokens", "temperature",
               "shell_timeout_s", "output_chars", "request_timeout_s", "system_prompt")
        temperature = f.doc.get("temperature", 0.0)
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))):
            raise f.fail("temperature", f"expected a number or null, got {temperature!r}")
        return cls(
            max_turns=f.int("max_turns"),
            retry_budget=f.int("retry_budget", 3, minimum=0),
            context=f.choice("context", CONTEXT_CHOICES, "full"),
            keep_last=f.int("keep_last", 8, minimum=2),
            wire=f.choice("wire", WIRE_CHOICES, "openai-chat"),
            max_tokens=f.int("max_tokens", 2048),
            temperature=temperature,
            shell_timeout_s=f.number("shell_timeout_s", 60.0),
            output_chars=f.int("output_chars", 8000, minimum=200),
            request_timeout_s=f.number("request_timeout_s", 120.0),
            system_prompt=f.str("system_prompt"),
        )
