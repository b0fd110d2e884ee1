"""An :class:`Emulator` on its own thread and event loop, for synchronous tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar

from ..usage import Tokens
from .delivery import RequestRecord
from .emulator import Emulator
from .scenario import Scenario

T = TypeVar("T")


class EmulatorThread:
    """An :class:`Emulator` on its own thread and event loop, for synchronous code.

    ``with EmulatorThread() as emu:`` takes :class:`Emulator`'s options; state-changing calls
    (``define_scenario``, ``enqueue_faults``, ``reset``) run on the emulator's loop.
    """

    def __init__(self, **options: Any) -> None:
        self.emulator = Emulator(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="inferaudit-emulator", daemon=True)
        self._started = threading.Event()
        self._failure: Exception | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.emulator.start())
        except Exception as exc:  # noqa: BLE001 - re-raised by start() on the caller's thread
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.emulator.stop())
        self._loop.close()

    def start(self) -> Self:
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the emulator's loop (where its state lives) and return its result."""

        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    url = property(lambda self: self.emulator.url)
    openai_url = property(lambda self: self.emulator.openai_url)
    anthropic_url = property(lambda self: self.emulator.anthropic_url)
    gemini_url = property(lambda self: self.emulator.gemini_url)
    count = property(lambda self: self.emulator.count, doc="requests received")

    @property
    def requests(self) -> list[RequestRecord]:
        """Every recorded request, oldest first (copied on the emulator's loop)."""
        return self.call(lambda: self.emulator.requests)

    def define_scenario(self, name: str, text: str | None = None, usage: Tokens | None = None,
                        scenario: Scenario | None = None) -> None:
        self.call(self.emulator.define_scenario, name, text, usage, scenario)

    def enqueue_faults(self, *specs: str, path: str | None = None) -> None:
        self.call(self.emulator.enqueue_faults, *specs, path=path)

    def reset(self) -> None:
        self.call(self.emulator.reset)
