"""mini-SWE-agent (PyPI ``mini-swe-agent``, its ``mini`` command) as a harness adapter, pointed at the gateway.

::

    harnesses:
      mini: {adapter: mini-swe-agent, max_turns: 30}

mini-SWE-agent calls models through litellm. Each attempt gets a config file
layered over mini's own ``mini.yaml``: the model ``openai/<model>`` (litellm's
OpenAI-compatible route) with ``api_base`` = the gateway's ``/v1``, the
bench's key, and the attribution headers as ``extra_headers``; the step
limit; the work tree as the shell's working folder. litellm's cost map is
read from its own package (``LITELLM_LOCAL_MODEL_COST_MAP``), never fetched;
mini's cost tracking is off, because the ledger prices the calls. HOME is a
throwaway folder. Cache policy: ``none`` sends no markers; ``auto`` and
``5m`` let mini put ``cache_control`` on the last message (its
``default_end``); ``1h`` is not something mini can ask for (an error for that
attempt).

mini writes its trajectory after every step; the adapter follows it for the
calls' usage, stops the CLI when the task's cost limit is spent, and reads
how the run ended from it: ``Submitted`` is finished, ``LimitsExceeded`` the
turn limit, anything else an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...providers.openai_chat import map_usage
from ...usage import Tokens
from ..agent.loop import task_prompt
from ..errors import HarnessError, TriplesError
from ..fields import Fields
from ..harness import Attempt, HarnessResult
from .process import CliRun, clean_env, find_binary, run_cli, throwaway_home

CACHE_CONTROL = {"none": None, "auto": "default_end", "5m": "default_end"}
EXIT_STOPS = {"Submitted": "finished", "LimitsExceeded": "max_turns", "TimeExceeded": "wall"}
DROP_ENV = ("OPENAI_", "ANTHROPIC_", "MSWEA_", "LITELLM_")


@dataclass(frozen=True)
class MiniConfig:
    binary: str | None = None
    """The ``mini`` executable (default: ``.tools/mini-venv/bin/mini`` from ``make tools``, else on PATH)."""
    max_turns: int | None = None
    """mini's ``step_limit`` (model calls); the task's own limit applies too (the lower one wins)."""
    config: str = "mini.yaml"
    """mini's base config (a bundled name or a path) the attempt's settings are layered over."""
    litellm_prefix: str = "openai/"
    """How litellm is told the gateway speaks OpenAI's chat API."""

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> MiniConfig:
        f = Fields(options, where, TriplesError)
        f.only("adapter", "binary", "max_turns", "config", "litellm_prefix")
        return cls(binary=f.str("binary"), max_turns=f.int("max_turns"), config=f.str("config", "mini.yaml"),
                   litellm_prefix=f.str("litellm_prefix", "openai/"))


class MiniSweAgent:
    """mini-SWE-agent, one ``mini --yolo --exit-immediately`` session per attempt."""

    name = "mini-swe-agent"

    def __init__(self, config: MiniConfig | None = None):
        self.config = config or MiniConfig()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> MiniSweAgent:
        return cls(MiniConfig.from_options(options, where))

    def settings(self, attempt: Attempt) -> dict[str, Any]:
        """The config layered over mini's own: gateway, attribution, limits, work tree."""
        if attempt.cache_policy not in CACHE_CONTROL:
            raise HarnessError(f"{self.name}: cache policy {attempt.cache_policy!r} cannot be asked of mini-SWE-agent "
                               f"(it has: {', '.join(CACHE_CONTROL)})")
        limits = attempt.limits
        return {
            "model": {
                "model_name": self.config.litellm_prefix + attempt.model,
                "model_kwargs": {"api_base": attempt.base_url.rstrip("/").removesuffix("/v1") + "/v1",
                                 "api_key": attempt.api_key, "extra_headers": dict(attempt.headers)},
                "cost_tracking": "ignore_errors",
                "set_cache_control": CACHE_CONTROL[attempt.cache_policy],
            },
            "agent": {"step_limit": min(self.config.max_turns or limits.max_turns, limits.max_turns), "cost_limit": 0},
            "environment": {"cwd": str(attempt.workdir)},
        }

    def run(self, attempt: Attempt) -> HarnessResult:
        binary = find_binary("mini", self.config.binary, self.name, pinned="mini-venv/bin")
        with throwaway_home(self.name) as home:
            overrides, trajectory = home / "inferaudit.yaml", home / "trajectory.json"
            overrides.write_text(yaml.safe_dump(self.settings(attempt)))
            argv = [binary, "-m", self.config.litellm_prefix + attempt.model, "-t", task_prompt(attempt.task.instruction),
                    "--yolo", "--exit-immediately", "-o", str(trajectory), "-c", self.config.config, "-c", str(overrides)]
            env = clean_env(DROP_ENV, HOME=str(home), MSWEA_CONFIGURED="1", MSWEA_SILENT_STARTUP="1",
                            LITELLM_LOCAL_MODEL_COST_MAP="True", PAGER="cat")
            log = _Trajectory(trajectory, attempt)
            ended = run_cli(argv, attempt=attempt, env=env, on_event=lambda event: None, watch=log.watch)
            return log.result(ended)


class _Trajectory:
    """mini's trajectory file, re-read as it grows: the model calls' usage, and how the run ended."""

    def __init__(self, path: Path, attempt: Attempt):
        self.path, self.attempt = path, attempt
        self.doc: dict[str, Any] = {}
        self.stamp: tuple[int, int] | None = None

    def watch(self) -> str | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        if (stat.st_mtime_ns, stat.st_size) == self.stamp:
            return None
        try:
            self.doc = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # caught mid-write: read it on the next poll
        self.stamp = (stat.st_mtime_ns, stat.st_size)
        limit = self.attempt.limits.max_cost_usd
        cost = self.attempt.price(self.tokens())
        return "cost" if limit is not None and cost is not None and cost >= limit else None

    def calls(self) -> list[dict[str, Any]]:
        return [m for m in self.doc.get("messages") or [] if isinstance(m, dict) and m.get("role") == "assistant"]

    def tokens(self) -> Tokens:
        total = Tokens()
        for message in self.calls():
            usage = ((message.get("extra") or {}).get("response") or {}).get("usage")
            if isinstance(usage, dict):
                total += map_usage(usage)
        return total

    def result(self, ended: CliRun) -> HarnessResult:
        self.watch()
        calls, tokens = len(self.calls()), self.tokens()
        cost = self.attempt.price(tokens)
        status = str((self.doc.get("info") or {}).get("exit_status") or "")
        messages = self.doc.get("messages") or []
        if ended.stopped:
            stop = ended.stopped
            message = f"out of wall time ({self.attempt.limits.wall_s:g}s)" if stop == "wall" else ""
        elif status in EXIT_STOPS:
            stop = EXIT_STOPS[status]
            answer = self.calls()[-1].get("content") if self.calls() else None  # its last words, as Claude Code's result
            message = answer if stop == "finished" and isinstance(answer, str) and answer else status
        else:
            stop = "error"
            last = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else ""
            message = f"mini exited {ended.exit_code} with status {status or 'none'}: {str(last)[:500] or ended.stderr[-1500:]}"
        return HarnessResult(stop=stop, turns=calls, calls=calls, tokens=tokens, cost_usd=cost, message=message,
                             transcript=messages)
