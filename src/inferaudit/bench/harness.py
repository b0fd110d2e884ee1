"""The harness adapter interface: one Protocol, one method, and a registry of adapters.

A harness gets an :class:`Attempt` (a work tree, the task, the model and
gateway to use, the attribution headers every LLM call must carry, the
limits) and returns a :class:`HarnessResult` saying why it stopped. The
runner does everything else: work trees, verification, the ledger.

Adapters are found by short name in :data:`ADAPTERS` (name -> import path),
or by an import path ``package.module:Class`` given in the triples file, so
users can bring their own. An adapter class is built with
``Class.from_options(options, where)`` from its entry in the triples file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Protocol

from ..usage import Tokens
from .errors import HarnessError
from .suite import Limits, Task

# Cache policies, named as the audit derives them from calls (so benchmarked and imported runs compare).
CACHE_POLICIES: dict[str, str] = {
    "none": "none", "auto": "auto", "automatic": "auto", "5m": "5m", "explicit-5m": "5m", "1h": "1h", "explicit-1h": "1h",
}

# Why a harness stopped. "finished" is verified; a limit is a failure by that limit; the rest are unknown.
STOPS = ("finished", "max_turns", "wall", "cost", "error", "cancelled")
LIMIT_STOPS = ("max_turns", "wall", "cost")


@dataclass(frozen=True)
class Attempt:
    """One attempt of one task by one triple: everything a harness needs."""

    run_id: str
    task: Task
    workdir: Path
    model: str
    base_url: str
    """The gateway's root URL (no ``/v1``): every LLM call goes through it."""
    cache_policy: str
    harness: str
    """The harness variant's name, as recorded in the ledger."""
    headers: dict[str, str]
    """Attribution headers (X-Inferaudit-Run / -Task / -Harness / -Tags) every LLM call must carry."""
    limits: Limits
    deadline: float
    """``time.monotonic()`` value at which the attempt is out of wall time."""
    price: Callable[[Tokens], float | None] = lambda tokens: None
    """USD for usage of this model, or None when the price is unknown."""
    api_key: str = "inferaudit-bench"
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when the run is interrupted: stop at the next safe point, with stop ``cancelled``."""


@dataclass
class HarnessResult:
    """Why the harness stopped, and what it saw of its own usage (the ledger's figures come from the gateway)."""

    stop: str
    turns: int = 0
    calls: int = 0
    tokens: Tokens = field(default_factory=Tokens)
    cost_usd: float | None = None
    message: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stop not in STOPS:
            raise ValueError(f"stop must be one of {STOPS}, got {self.stop!r}")


class Harness(Protocol):
    """Drives one agent through one attempt."""

    def run(self, attempt: Attempt) -> HarnessResult: ...


ADAPTERS: dict[str, str] = {
    "builtin": "inferaudit.bench.agent:BuiltinAgent",
    "claude-code": "inferaudit.bench.adapters.claude_code:ClaudeCode",
    "codex": "inferaudit.bench.adapters.codex:Codex",
    "mini-swe-agent": "inferaudit.bench.adapters.mini_swe_agent:MiniSweAgent",
    "aider": "inferaudit.bench.adapters.aider:Aider",
}


def adapter_class(name: str, where: str = "triples") -> type:
    """The adapter class for a short name or an import path ``module:Class``."""
    path = ADAPTERS.get(name, name)
    module, sep, attr = path.partition(":")
    if not sep:
        raise HarnessError(f"{where}: unknown harness adapter {name!r}; known: {', '.join(ADAPTERS)} (or module:Class)")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise HarnessError(f"{where}: cannot load harness adapter {path!r}: {exc}") from None
    if not hasattr(cls, "from_options") or not hasattr(cls, "run"):
        raise HarnessError(f"{where}: {path} is not a harness adapter (needs from_options() and run())")
    return cls
