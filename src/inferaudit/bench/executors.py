"""Where attempts run: worker threads in this process, or tasks on an existing Ray cluster.

One small seam (``submit`` returning a :class:`concurrent.futures.Future`,
``cancel``), so the runner's loop is the same for both. Registered by name
in :data:`EXECUTORS` (``--executor threads|ray``).

Ray (``pip install 'inferaudit[ray]'``): attempts become Ray tasks (one CPU
each), at most ``parallel`` in flight, on the cluster at ``address`` (or
``RAY_ADDRESS``; ``auto`` finds a cluster started on this machine with
``ray start --head``). Workers must reach the gateway URL and have the
harness binaries; their work trees are on the worker's own disk. Runs are
written here, by the driver, as with threads. Interrupted: tasks in flight
are cancelled, queued ones never start.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Protocol

from .errors import BenchError


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future: ...

    def cancel(self) -> None:
        """Stop what is queued and what runs (best effort), at an interrupt."""

    def close(self) -> None: ...


class ThreadExecutor:
    """A bounded pool of worker threads in this process (the default)."""

    def __init__(self, parallel: int, address: str | None = None):
        if address:
            raise BenchError("--ray-address is only for --executor ray")
        self.pool = ThreadPoolExecutor(parallel, thread_name_prefix="inferaudit-attempt")
        self.futures: list[Future] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future = self.pool.submit(fn, *args)
        self.futures.append(future)
        return future

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _call(fn: Callable[..., Any], args: tuple) -> Any:
    return fn(*args)


class RayExecutor:
    """Ray tasks on an existing cluster, at most ``parallel`` in flight."""

    def __init__(self, parallel: int, address: str | None = None):
        try:
            import ray
        except ImportError:
            raise BenchError("--executor ray needs Ray: pip install 'inferaudit[ray]'") from None
        self.ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or "auto"
        self.owned = not ray.is_initialized()
        if self.owned:
            _reachable(address)
            try:
                ray.init(address=address, logging_level="warning", log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise BenchError(f"cannot connect to a Ray cluster at {address!r}: {str(exc).splitlines()[0]} "
                                 "(start one with `ray start --head`, or give --ray-address)") from None
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        self.parallel = parallel
        self.lock = threading.Lock()
        self.queued: deque[tuple[Future, Callable[..., Any], tuple]] = deque()
        self.running: dict[Any, Future] = {}

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self.lock:
            self.queued.append((future, fn, args))
        self._launch()
        return future

    def _launch(self) -> None:
        with self.lock:
            while self.queued and len(self.running) < self.parallel:
                future, fn, args = self.queued.popleft()
                if not future.set_running_or_notify_cancel():
                    continue
                ref = self.remote.remote(fn, args)
                self.running[ref] = future
                ref.future().add_done_callback(lambda done, ref=ref: self._finished(ref, done))

    def _finished(self, ref: Any, done: Future) -> None:
        with self.lock:
            future = self.running.pop(ref, None)
        if future is not None:
            error = done.exception()
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result())
        self._launch()

    def cancel(self) -> None:
        with self.lock:
            queued, self.queued = list(self.queued), deque()
            running = list(self.running)
        for future, _, _ in queued:
            future.cancel()
        for ref in running:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # already finished
                pass

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()  # disconnects this driver; the cluster is not ours and keeps running


def _reachable(address: str) -> None:
    """Fail at once when nothing listens at a ``host:port`` address (Ray itself would retry for minutes)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local" and the like: Ray answers those quickly itself
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
    except OSError as exc:
        raise BenchError(f"cannot connect to a Ray cluster at {address!r}: {exc.strerror or exc} "
                         "(start one with `ray start --head`, or give --ray-address)") from None


EXECUTORS: dict[str, Callable[[int, str | None], Executor]] = {"threads": ThreadExecutor, "ray": RayExecutor}


def make_executor(name: str, parallel: int, address: str | None = None) -> Executor:
    if name not in EXECUTORS:
        raise BenchError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](parallel, address)
