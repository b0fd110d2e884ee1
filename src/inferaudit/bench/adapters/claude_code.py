"""Claude Code (``claude -p --output-format stream-json``) as a harness adapter, pointed at the gateway.

::

    harnesses:
      claude-code: {adapter: claude-code, max_turns: 20}

Every model call goes to the gateway: ``ANTHROPIC_BASE_URL`` is the gateway's
root, ``ANTHROPIC_API_KEY`` the bench's key, and the attribution headers ride
on every request through ``ANTHROPIC_CUSTOM_HEADERS`` ("Name: value" lines).
HOME is a throwaway folder, so no user settings, credentials or history are
read. The cache policy maps to Claude Code's own switches: ``none`` sets
``DISABLE_PROMPT_CACHING``, ``1h`` sets ``ENABLE_PROMPT_CACHING_1H``; ``auto``
and ``5m`` leave Claude Code's default breakpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ...usage import Tokens
from ..agent.loop import task_prompt
from ..errors import TriplesError
from ..fields import Fields
from ..harness import Attempt, HarnessResult
from .process import CliRun, clean_env, find_binary, run_cli, throwaway_home

PERMISSION_MODES = ("bypassPermissions", "acceptEdits", "dontAsk", "auto", "default", "plan")
# the final `result` event's subtype -> why the harness stopped
RESULT_STOPS = {"success": "finished", "error_max_turns": "max_turns", "error_max_budget_usd": "cost"}
CACHE_ENV = {"none": {"DISABLE_PROMPT_CACHING": "1"}, "1h": {"ENABLE_PROMPT_CACHING_1H": "1"}}
SYNTHETIC_MODEL = "<synthetic>"  # Claude Code's own messages (an API error shown as a reply): no call behind them
QUIET_ENV = {"DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "DISABLE_AUTOUPDATER": "1",
             "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


@dataclass(frozen=True)
class ClaudeCodeConfig:
    binary: str | None = None
    """The ``claude`` executable (default: ``.tools/node_modules/.bin/claude`` from ``make tools``, else on PATH)."""
    max_turns: int | None = None
    """``--max-turns``; the task's own limit applies too (the lower one wins)."""
    permission_mode: str = "bypassPermissions"
    """``--permission-mode``: the default lets every tool run without a prompt (the work tree is throwaway)."""
    tools: str | None = None
    """``--tools``: the built-in tools offered (e.g. ``"Bash,Edit,Read,Write"``); default: all of them."""
    append_system_prompt: str | None = None
    """``--append-system-prompt``."""
    extra_args: tuple[str, ...] = ()
    """More command-line arguments, as given."""
    env: dict[str, str] = field(default_factory=dict)
    """More environment variables for the CLI (e.g. ``MAX_THINKING_TOKENS``)."""

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> ClaudeCodeConfig:
        f = Fields(options, where, TriplesError)
        f.only("adapter", "binary", "max_turns", "permission_mode", "tools", "append_system_prompt", "extra_args", "env")
        env = f.doc.get("env") or {}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in env.items()):
            raise f.fail("env", f"expected a mapping of NAME: value, got {env!r}")
        return cls(binary=f.str("binary"), max_turns=f.int("max_turns"),
                   permission_mode=f.choice("permission_mode", PERMISSION_MODES, "bypassPermissions"),
                   tools=f.str("tools"), append_system_prompt=f.str("append_system_prompt"),
                   extra_args=tuple(f.strs("extra_args") or ()), env={k: str(v) for k, v in env.items()})


class ClaudeCode:
    """Claude Code CLI, one headless session per attempt."""

    name = "claude-code"

    def __init__(self, config: ClaudeCodeConfig | None = None):
        self.config = config or ClaudeCodeConfig()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> ClaudeCode:
        return cls(ClaudeCodeConfig.from_options(options, where))

    def command(self, binary: str, attempt: Attempt) -> list[str]:
        c, limits = self.config, attempt.limits
        max_turns = min(c.max_turns or limits.max_turns, limits.max_turns)
        argv = [binary, "-p", task_prompt(attempt.task.instruction), "--output-format", "stream-json", "--verbose",
                "--model", attempt.model, "--max-turns", str(max_turns), "--permission-mode", c.permission_mode,
                "--no-session-persistence"]
        if limits.max_cost_usd is not None:
            argv += ["--max-budget-usd", f"{limits.max_cost_usd:g}"]
        if c.append_system_prompt:
            argv += ["--append-system-prompt", c.append_system_prompt]
        if c.tools is not None:
            argv += ["--tools", c.tools]
        return argv + list(c.extra_args)

    def environment(self, home: str, attempt: Attempt) -> dict[str, str]:
        headers = "\n".join(f"{name}: {value}" for name, value in attempt.headers.items())
        env = clean_env(("ANTHROPIC_", "CLAUDE_CODE_", "CLAUDE_CONFIG_DIR"), HOME=home, **QUIET_ENV,
                        ANTHROPIC_BASE_URL=attempt.base_url.rstrip("/").removesuffix("/v1"),
                        ANTHROPIC_API_KEY=attempt.api_key, ANTHROPIC_CUSTOM_HEADERS=headers,
                        **CACHE_ENV.get(attempt.cache_policy, {}))
        if self.config.permission_mode == "bypassPermissions" and hasattr(os, "getuid") and os.getuid() == 0:
            env["IS_SANDBOX"] = "1"  # Claude Code refuses to bypass permissions as root outside a declared sandbox
        env.update(self.config.env)
        return env

    def run(self, attempt: Attempt) -> HarnessResult:
        binary = find_binary("claude", self.config.binary, self.name)
        stream = _Stream()
        with throwaway_home(self.name) as home:
            ended = run_cli(self.command(binary, attempt), attempt=attempt, env=self.environment(str(home), attempt),
                            on_event=stream.take)
        return stream.result(ended, attempt)


class _Stream:
    """What the stream-json events say: API responses (by message id), and the final ``result``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.responses: dict[str, Tokens] = {}
        self.main: set[str] = set()  # responses of the session itself, not of its subagents
        self.final: dict[str, Any] | None = None

    def take(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        kind = event.get("type")
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if kind == "assistant" and message.get("id") and message.get("model") != SYNTHETIC_MODEL:
            # one response is printed once per content block, early ones with partial output counts (subagents' too)
            usage = Tokens.from_anthropic(message.get("usage") or {})
            seen = self.responses.get(message["id"])
            self.responses[message["id"]] = usage if seen is None else seen.max(usage)
            if event.get("parent_tool_use_id") is None:
                self.main.add(message["id"])
        elif kind == "result":
            self.final = event

    def result(self, ended: CliRun, attempt: Attempt) -> HarnessResult:
        calls, turns = len(self.responses), len(self.main)
        tokens = sum(self.responses.values(), start=Tokens())
        final, limits = self.final, attempt.limits
        seen = attempt.price(tokens)  # stopped early: what the printed responses add up to (partial output counts)
        if ended.stopped == "wall":
            return self._result("wall", turns, calls, tokens, seen, f"out of wall time ({limits.wall_s:g}s)")
        if ended.stopped:
            return self._result(ended.stopped, turns, calls, tokens, seen, "")
        if final is None:
            return self._result("error", turns, calls, tokens, seen,
                                f"claude exited {ended.exit_code} without a result: {ended.stderr[-1500:]}")
        usage = final.get("usage")
        if isinstance(usage, dict):
            tokens = Tokens.from_anthropic(usage)
        cost = final.get("total_cost_usd") if isinstance(final.get("total_cost_usd"), (int, float)) else None
        subtype = str(final.get("subtype"))
        stop = RESULT_STOPS.get(subtype, "error")
        text = final.get("result") if isinstance(final.get("result"), str) else ""
        if stop == "finished" and final.get("is_error"):
            stop = "error"  # e.g. an API error Claude Code gave up on: the subtype still says success
        message = text if stop in ("finished", "error") else f"{subtype} after {turns} model calls"
        if stop == "error" and not text:
            message = f"{subtype}: {'; '.join(map(str, final.get('errors') or [])) or ended.stderr[-1500:]}"
        return self._result(stop, turns, calls, tokens, cost, message)

    def _result(self, stop: str, turns: int, calls: int, tokens: Tokens, cost: float | None, message: str) -> HarnessResult:
        return HarnessResult(stop=stop, turns=turns, calls=calls, tokens=tokens, cost_usd=cost, message=message,
                             transcript=self.events)
