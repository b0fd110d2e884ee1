"""Running a harness CLI for one attempt: found on disk, a throwaway home, JSON lines read as they come, stopped on time.

The CLI runs in its own process group in the attempt's work tree. Its stdout
is read line by line on a thread and each JSON object is handed to the
adapter's ``on_event``; ``watch``, when given, is called every few
milliseconds (to follow a log file the CLI writes). Either may ask to stop
the CLI, for a limit it cannot enforce itself. The CLI, its process group
and every process it started are killed at the attempt's deadline, when the
run is cancelled, or when the adapter asks: SIGKILL, since Claude Code takes
SIGTERM as "interrupt the running tool" and goes on to ask the model again,
and the whole tree, since it runs each shell command in a session of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from ..errors import HarnessError
from ..harness import Attempt

_PROJECT = Path(__file__).resolve().parents[4]  # the checkout, in a source (editable) install
READER_GRACE_S = 2.0  # for the output readers to drain after the process is gone
POLL_S = 0.05


def find_binary(name: str, configured: str | None, adapter: str, pinned: str = "node_modules/.bin") -> str:
    """``configured`` (a path or a command name), else the pinned one in ``.tools/<pinned>`` (``make tools``),
    else PATH's."""
    if configured:
        found = shutil.which(configured) or (configured if Path(configured).is_file() else None)
        if not found:
            raise HarnessError(f"{adapter}: binary {configured!r} (option `binary`) not found")
        return os.path.abspath(found) if os.sep in found else found  # the CLI runs in the work tree
    local = [root / ".tools" / pinned / name for root in (Path.cwd(), _PROJECT)]
    found = next((str(p) for p in local if p.is_file()), None) or shutil.which(name)
    if not found:
        raise HarnessError(f"{adapter}: the `{name}` CLI is not installed: run `make tools` (pinned versions "
                           f"under .tools/), put it on PATH, or give the adapter's `binary` option")
    return found


@contextmanager
def throwaway_home(adapter: str) -> Iterator[Path]:
    """A fresh HOME for one attempt: no user config, credentials or history leak in, none is left behind."""
    with TemporaryDirectory(prefix=f"inferaudit-{adapter}-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        yield home


def clean_env(drop_prefixes: tuple[str, ...], **settings: str) -> dict[str, str]:
    """The current environment without the harness's own variables (keys, base URLs, models), plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    env.update(settings)
    return env


@dataclass
class CliRun:
    """How the CLI ended."""

    exit_code: int | None
    stopped: str | None
    """Why it was stopped: ``wall``, ``cancelled`` or what ``on_event`` returned; None when it exited by itself."""
    stderr: str
    """The tail of stderr (and of stdout lines that were not JSON)."""
    seconds: float


def run_cli(argv: list[str], *, attempt: Attempt, env: dict[str, str],
            on_event: Callable[[dict[str, Any]], str | None], watch: Callable[[], str | None] | None = None,
            tail_chars: int = 4000) -> CliRun:
    """Run ``argv`` in the work tree until it exits, its deadline passes, the run is cancelled or the adapter stops it."""
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=attempt.workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise HarnessError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
    tail: deque[str] = deque(maxlen=200)
    asked: list[str] = []

    def read_stdout() -> None:
        for raw in _lines(proc.stdout):
            line = raw.decode("utf-8", "replace").strip()
            try:
                event = json.loads(line) if line.startswith("{") else None
            except ValueError:
                event = None
            if not isinstance(event, dict):
                if line:
                    tail.append(line)
                continue
            reason = on_event(event)
            if reason and not asked:
                asked.append(reason)

    def read_stderr() -> None:
        for raw in _lines(proc.stderr):
            tail.append(raw.decode("utf-8", "replace").rstrip())

    readers = [threading.Thread(target=f, daemon=True, name=f"inferaudit-cli-{f.__name__}") for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    stopped = None
    while proc.poll() is None:
        reason = watch() if watch and not asked else None
        if reason:
            asked.append(reason)
        if asked:
            stopped = asked[0]
        elif attempt.cancel.is_set():
            stopped = "cancelled"
        elif time.monotonic() >= attempt.deadline:
            stopped = "wall"
        if stopped:
            _kill_tree(proc)
            proc.wait()
            break
        attempt.cancel.wait(POLL_S)
    _kill_group(proc)  # whatever the agent left running in the background goes with it
    for reader in readers:
        reader.join(READER_GRACE_S)
    for pipe in (proc.stdout, proc.stderr):
        pipe.close()  # type: ignore[union-attr]
    if watch:
        watch()  # the last lines written before the CLI ended
    text = "\n".join(tail)
    return CliRun(proc.returncode, stopped, text[-tail_chars:], time.monotonic() - t0)


def _lines(pipe: Any) -> Iterator[bytes]:
    try:
        yield from pipe
    except (OSError, ValueError):  # closed under a reader that outlived its grace
        return


def _kill_tree(proc: subprocess.Popen) -> None:
    started = _descendants(proc.pid)  # listed first: once the CLI is gone they belong to init
    _kill_group(proc)
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(root: int) -> list[int]:
    """Every live descendant of ``root``, from /proc (Linux; elsewhere none: the process group still goes)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    for entry in proc.iterdir() if (proc / "self" / "stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
