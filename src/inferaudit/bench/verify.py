"""Run a task's verifier in a work tree, after its hidden files are copied in."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .suite import Verifier

TAIL_CHARS = 4000


@dataclass(frozen=True)
class Verdict:
    """What the verifier said: ``outcome`` is resolved, failed or unknown (the verifier itself failed)."""

    outcome: str
    exit_code: int | None
    output: str
    seconds: float
    error: str | None = None


def command_line(verifier: Verifier) -> str:
    return verifier.command.replace("{python}", shlex.quote(sys.executable))


def run_verifier(verifier: Verifier, root: Path) -> Verdict:
    """Run the command in ``root``: 0 resolved, a fail code failed, anything else (or a timeout) unknown."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.Popen(command_line(verifier), shell=True, cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    except OSError as exc:
        return Verdict("unknown", None, "", time.monotonic() - started, f"verifier could not start: {exc}")
    try:
        output, _ = proc.communicate(timeout=verifier.timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        output, _ = proc.communicate()
        return Verdict("unknown", None, output[-TAIL_CHARS:], time.monotonic() - started,
                       f"verifier timed out after {verifier.timeout_s:g}s")
    seconds = time.monotonic() - started
    code = proc.returncode
    if code == 0:
        return Verdict("resolved", 0, output[-TAIL_CHARS:], seconds)
    if code in verifier.fail_codes:
        return Verdict("failed", code, output[-TAIL_CHARS:], seconds)
    return Verdict("unknown", code, output[-TAIL_CHARS:], seconds,
                   f"verifier exited {code} (not 0 and not a fail code {list(verifier.fail_codes)})")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
