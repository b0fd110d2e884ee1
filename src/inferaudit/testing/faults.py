"""Fault injection: which failure a request gets.

A request's faults come from its ``x-emulator-fault`` header and from the
emulator's queue (:meth:`Emulator.enqueue_faults`). A spec is a
comma-separated list of ``NAME[:ARG][@N]``:

================================  ===========================================================
``429[:MS]``                      429 with ``retry-after: 1`` and ``retry-after-ms: MS`` (1000)
``500``, ``503``, any ``4xx/5xx``  that status, with the provider's own error body
``reset-before-headers``          the connection is reset (RST) before any byte is sent
``reset-mid-stream``              half the events (half the body) are sent, then RST
``slow-first-byte:S``             S seconds before the status line
``latency:MS``                    MS milliseconds of think time before the status line
``stall-mid-stream:S``            S seconds of silence half way, then the rest
``pace:MS``                       MS milliseconds before every SSE event after the first
``malformed-sse``                 the middle event's JSON is cut, its framing kept; the rest follows
                                  (a JSON body: as ``truncated-json``)
``truncated-json``                the body (or the middle event) is cut and the response ends cleanly
``error-mid-stream``              the middle event is replaced by the provider's own mid-stream error
                                  event and the response ends cleanly (Gemini `alt=sse` and
                                  OpenAI Responses streams only)
``wrong-content-type``            200 with an HTML page, as a proxy in the way would answer
================================  ===========================================================

``@N`` applies an item to the first N requests that carry the same header
value and the same body, so a client's retry of the same request succeeds:
``x-emulator-fault: 503@1``.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

_TIMED = {"slow-first-byte", "stall-mid-stream", "latency", "pace"}
_FLAGS = {"reset-before-headers", "reset-mid-stream", "malformed-sse", "truncated-json", "wrong-content-type",
          "error-mid-stream"}
_ITEM = re.compile(r"^\s*([a-z-]+|[1-5]\d\d)(?::([0-9.]+))?(?:@(\d+))?\s*$")
KNOWN = sorted(_TIMED | _FLAGS | {"4xx", "5xx"})


@dataclass(slots=True)
class FaultPlan:
    """Everything that goes wrong with one response."""

    names: tuple[str, ...] = ()
    delay: float = 0.0  # seconds before the status line
    status: int | None = None
    retry_after_ms: int = 1000
    reset_before_headers: bool = False
    wrong_content_type: bool = False
    mid: str | None = None  # "reset", "stall", "malformed", "truncated", "error"
    stall: float = 0.0
    pace: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.names)


def _items(spec: str) -> list[tuple[str, str, str, str]]:
    """(text, name, arg, times) per item; ValueError names the bad one."""
    found = []
    for text in filter(None, (t.strip() for t in spec.split(","))):
        m = _ITEM.match(text)
        name = m.group(1) if m else ""
        if not m or not (name in _TIMED or name in _FLAGS or name.isdigit()):
            raise ValueError(f"x-emulator-fault: unknown fault {text!r} (known: {', '.join(KNOWN)})")
        if name in _TIMED and not m.group(2):
            raise ValueError(f"x-emulator-fault: {name} needs a value, e.g. {name}:1")
        found.append((text, name, m.group(2) or "", m.group(3) or ""))
    return found


def _apply(plan: FaultPlan, name: str, arg: str) -> None:
    value = float(arg) if arg else 0.0
    plan.names += (name if not arg else f"{name}:{arg}",)
    if name.isdigit():
        plan.status = int(name)
        if arg:
            plan.retry_after_ms = int(value)
    elif name in ("latency", "slow-first-byte"):
        plan.delay += value / 1000 if name == "latency" else value
    elif name == "pace":
        plan.pace = value / 1000
    elif name == "stall-mid-stream":
        plan.mid, plan.stall = "stall", value
    elif name == "reset-before-headers":
        plan.reset_before_headers = True
    elif name == "wrong-content-type":
        plan.wrong_content_type = True
    else:
        plan.mid = {"reset-mid-stream": "reset", "malformed-sse": "malformed", "truncated-json": "truncated",
                    "error-mid-stream": "error"}[name]


def validate(spec: str) -> str:
    _items(spec)
    return spec


class FaultBook:
    """The fault queue and the ``@N`` counters of one emulator."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, str | None]] = deque()
        self._uses: dict[tuple[str, bytes], int] = {}

    def enqueue(self, spec: str, path: str | None) -> None:
        self.queue.append((validate(spec), path))

    def _from_queue(self, path: str) -> str:
        for entry in self.queue:
            if entry[1] is None or entry[1] == path:
                self.queue.remove(entry)
                return entry[0]
        return ""

    def plan(self, header: str, path: str, digest: bytes) -> FaultPlan:
        """The faults for one request; ValueError for a bad header."""
        plan = FaultPlan()
        from_header = _items(header) if header else []
        from_queue = _items(self._from_queue(path)) if self.queue else []
        for items, counted in ((from_header, True), (from_queue, False)):
            for text, name, arg, times in items:
                if times and counted:
                    key = (text, digest)
                    self._uses[key] = used = self._uses.get(key, 0) + 1
                    if used > int(times):
                        continue
                _apply(plan, name, arg)
        return plan
