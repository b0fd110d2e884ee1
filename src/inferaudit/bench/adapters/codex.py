"""Codex CLI (``codex exec --json``) as a harness adapter, pointed at the gateway.

::

    harnesses:
      codex: {adapter: codex, reasoning_effort: low}

Each attempt gets a throwaway ``CODEX_HOME`` whose ``config.toml`` names one
model provider: the gateway's ``/v1`` (``wire_api = "responses"``), its key
read from ``INFERAUDIT_GATEWAY_KEY``, and the attribution headers in the
provider's ``http_headers``, so every model call carries them.

``codex exec`` has no turn limit, so the adapter follows the session log
Codex writes (``sessions/**/rollout-*.jsonl``): one ``token_usage_record``
per model response, written before the tools it asked for run. When the
response that reaches the limit asks for a tool, the model would be called
again: the CLI is stopped (``max_turns``). A call already under way may
still reach the gateway. The usage is ``turn.completed``'s (the thread's
total: input includes cached), else the last record's. Codex reports no
cost: it is priced from that usage, and a ``max_cost_usd`` limit is checked
when the CLI ends. The cache policy is not a Codex setting (it always sends
a ``prompt_cache_key``); it is recorded as given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...usage import Tokens
from ..agent.loop import task_prompt
from ..errors import TriplesError
from ..fields import Fields
from ..harness import Attempt, HarnessResult
from .process import CliRun, clean_env, find_binary, run_cli, throwaway_home

PROVIDER = "inferaudit"
KEY_ENV = "INFERAUDIT_GATEWAY_KEY"
SANDBOXES = ("none", "workspace-write", "read-only")
EFFORTS = ("minimal", "low", "medium", "high", "xhigh")


@dataclass(frozen=True)
class CodexConfig:
    binary: str | None = None
    """The ``codex`` executable (default: ``.tools/node_modules/.bin/codex`` from ``make tools``, else on PATH)."""
    max_turns: int | None = None
    """Model calls per attempt (followed in Codex's session log); the task's own limit applies too."""
    sandbox: str = "none"
    """``none``: ``--dangerously-bypass-approvals-and-sandbox`` (the work tree is throwaway); else ``--sandbox`` mode."""
    reasoning_effort: str | None = None
    """``model_reasoning_effort`` in config.toml; default: Codex's."""
    wire_api: str = "responses"
    """The provider's ``wire_api``."""
    config: dict[str, Any] = field(default_factory=dict)
    """More top-level config.toml settings (``key: value``, written as TOML)."""
    extra_args: tuple[str, ...] = ()
    """More ``codex exec`` arguments, as given."""

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> CodexConfig:
        f = Fields(options, where, TriplesError)
        f.only("adapter", "binary", "max_turns", "sandbox", "reasoning_effort", "wire_api", "config", "extra_args")
        config = f.doc.get("config") or {}
        if not isinstance(config, dict):
            raise f.fail("config", f"expected a mapping of config.toml settings, got {config!r}")
        for key, value in config.items():
            try:
                _toml_value(value)
            except TypeError as exc:
                raise f.fail(f"config.{key}", str(exc)) from None
        return cls(binary=f.str("binary"), max_turns=f.int("max_turns"), sandbox=f.choice("sandbox", SANDBOXES, "none"),
                   reasoning_effort=f.choice("reasoning_effort", EFFORTS), wire_api=f.str("wire_api", "responses"),
                   config=dict(config), extra_args=tuple(f.strs("extra_args") or ()))


class Codex:
    """Codex CLI, one ``codex exec`` per attempt."""

    name = "codex"

    def __init__(self, config: CodexConfig | None = None):
        self.config = config or CodexConfig()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> Codex:
        return cls(CodexConfig.from_options(options, where))

    def config_toml(self, attempt: Attempt) -> str:
        c = self.config
        top = {"model": attempt.model, "model_provider": PROVIDER, **c.config}
        if c.reasoning_effort:
            top["model_reasoning_effort"] = c.reasoning_effort
        provider = {"name": "inferaudit gateway", "base_url": attempt.base_url.rstrip("/").removesuffix("/v1") + "/v1",
                    "env_key": KEY_ENV, "wire_api": c.wire_api}
        lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in top.items()]
        lines += ["", f"[model_providers.{PROVIDER}]", *(f"{k} = {_toml_value(v)}" for k, v in provider.items())]
        lines += ["", f"[model_providers.{PROVIDER}.http_headers]",
                  *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in attempt.headers.items())]
        return "\n".join(lines) + "\n"

    def command(self, binary: str, attempt: Attempt) -> list[str]:
        sandbox = (["--dangerously-bypass-approvals-and-sandbox"] if self.config.sandbox == "none"
                   else ["--sandbox", self.config.sandbox])
        return [binary, "exec", "--json", "--skip-git-repo-check", *sandbox, *self.config.extra_args,
                "--", task_prompt(attempt.task.instruction)]

    def run(self, attempt: Attempt) -> HarnessResult:
        binary = find_binary("codex", self.config.binary, self.name)
        limit = min(self.config.max_turns or attempt.limits.max_turns, attempt.limits.max_turns)
        with throwaway_home(self.name) as home:
            codex_home = home / ".codex"
            codex_home.mkdir()
            (codex_home / "config.toml").write_text(self.config_toml(attempt))
            env = clean_env(("OPENAI_", "CODEX_"), HOME=str(home), CODEX_HOME=str(codex_home),
                            **{KEY_ENV: attempt.api_key})
            session = _Session(codex_home, limit)
            ended = run_cli(self.command(binary, attempt), attempt=attempt, env=env, on_event=session.take,
                            watch=session.follow)
        return session.result(ended, attempt)


class _Session:
    """``codex exec --json`` events (the final message, usage, failures) and the session log (model responses)."""

    def __init__(self, codex_home: Path, max_turns: int):
        self.codex_home, self.max_turns = codex_home, max_turns
        self.events: list[dict[str, Any]] = []
        self.log: Path | None = None
        self.offset = 0
        self.responses = 0
        self.asked_tools = False  # the latest response asked for a tool
        self.logged: Tokens | None = None  # the thread's usage after the latest response
        self.usage: Tokens | None = None
        self.answer = ""
        self.failure: str | None = None

    def take(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        kind = event.get("type")
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        if kind == "item.completed" and item.get("type") == "agent_message":
            self.answer = str(item.get("text") or "")
        elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
            self.usage = _tokens(event["usage"])
        elif kind == "turn.failed":
            error = event.get("error") if isinstance(event.get("error"), dict) else {}
            self.failure = str(error.get("message") or event)

    def follow(self) -> str | None:
        """Read what the session log gained; ``max_turns`` when the model would be called past the limit."""
        if self.log is None:
            found = sorted(self.codex_home.glob("sessions/**/rollout-*.jsonl"))
            if not found:
                return None
            self.log = found[0]
        with self.log.open("rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            payload = entry.get("payload") if isinstance(entry.get("payload"), dict) else {}
            if entry.get("type") == "response_item" and payload.get("type") in ("function_call", "custom_tool_call",
                                                                                   "local_shell_call"):
                self.asked_tools = True
            elif entry.get("type") == "token_usage_record":
                self.responses += 1
                if isinstance(payload.get("thread_token_usage"), dict):
                    self.logged = _tokens(payload["thread_token_usage"])
                if self.responses >= self.max_turns and self.asked_tools:
                    return "max_turns"
                self.asked_tools = False
        return None

    def result(self, ended: CliRun, attempt: Attempt) -> HarnessResult:
        tokens = self.usage or self.logged or Tokens()
        cost = attempt.price(tokens)
        limits = attempt.limits
        if ended.stopped == "wall":
            stop, message = "wall", f"out of wall time ({limits.wall_s:g}s)"
        elif ended.stopped == "max_turns":
            stop, message = "max_turns", f"stopped after {self.responses} model calls (limit {self.max_turns})"
        elif ended.stopped:
            stop, message = ended.stopped, ""
        elif self.failure or self.usage is None:
            stop = "error"
            message = self.failure or f"codex exited {ended.exit_code} without finishing its turn: {ended.stderr[-1500:]}"
        elif limits.max_cost_usd is not None and cost is not None and cost > limits.max_cost_usd:
            stop, message = "cost", f"spent ${cost:.4f} of ${limits.max_cost_usd:g}"
        else:
            stop, message = "finished", self.answer
        return HarnessResult(stop=stop, turns=self.responses, calls=self.responses, tokens=tokens, cost_usd=cost,
                             message=message, transcript=self.events)


def _tokens(usage: dict[str, Any]) -> Tokens:
    """Codex's usage: input includes cached input and cache writes, output includes reasoning."""
    return Tokens.from_prompt_including_cached(usage.get("input_tokens") or 0, usage.get("cached_input_tokens") or 0,
                                               usage.get("output_tokens") or 0, usage.get("reasoning_output_tokens") or 0,
                                               usage.get("cache_write_input_tokens") or 0)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").replace(".", "").isalnum() and key.isascii() else json.dumps(key)


def _toml_value(value: Any) -> str:
    """A TOML value: JSON's string escapes are TOML's basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot be written as TOML: {value!r}")
