"""Test support: a loopback upstream that replays the providers' real wire formats.

Names are imported on first use, so ``python -m inferaudit.testing.emulator``
runs the module once.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"Emulator": "emulator", "EmulatorThread": "threaded", "RequestRecord": "delivery",
          "Scenario": "scenario", "ToolCall": "scenario"}
__all__ = ["Emulator", "EmulatorThread", "RequestRecord", "Scenario", "ToolCall"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
