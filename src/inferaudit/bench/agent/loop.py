"""The built-in minimal coding agent: ask the model, run the tools it calls, until it answers in text.

One episode per attempt; each model call goes to the gateway with the
attempt's attribution headers, so the ledger sees every call (retries
included) under the attempt's run id, task and harness.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from ...usage import Tokens
from ..harness import Attempt, HarnessResult
from .config import AgentConfig
from .context import CONTEXT_POLICIES
from .tools import ToolEnv, call_tool
from .wire import WIRES, Reply, Request

SYSTEM_PROMPT = """You are a careful software engineer working in a Python repository (the current \
directory). Use the tools to read files, change them and run commands such as `python -m pytest -q`. \
Make the smallest change that does the task. When the task is done, reply with a one-line summary and \
no tool call."""

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


class ModelCallFailed(Exception):
    """A model call failed for good (not retryable, or the retry budget is spent)."""


class OutOfTime(Exception):
    """The attempt's wall time ran out during a model call."""


class BuiltinAgent:
    """The built-in agent as a harness adapter."""

    def __init__(self, config: AgentConfig | None = None):
        self.config = config or AgentConfig()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> BuiltinAgent:
        return cls(AgentConfig.from_options(options, where))

    def run(self, attempt: Attempt) -> HarnessResult:
        return _Episode(self.config, attempt).run()


def task_prompt(instruction: str) -> str:
    return f"{instruction}\n\nThe repository is the current directory. Work with the tools; say when you are done."


class _Episode:
    def __init__(self, config: AgentConfig, attempt: Attempt):
        self.config, self.attempt = config, attempt
        self.wire = WIRES[config.wire]
        self.url = attempt.base_url.rstrip("/").removesuffix("/v1") + self.wire.path
        self.headers = {"content-type": "application/json", "user-agent": "inferaudit-bench/0.1",
                        **self.wire.headers(attempt.api_key), **attempt.headers}
        self.env = ToolEnv(attempt.workdir, config.shell_timeout_s, config.output_chars, attempt.deadline)
        self.max_turns = min(config.max_turns or attempt.limits.max_turns, attempt.limits.max_turns)
        self.retries_left = config.retry_budget
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": task_prompt(attempt.task.instruction)}]
        self.turns = self.calls = 0
        self.tokens = Tokens()
        self.cost: float | None = 0.0

    def result(self, stop: str, message: str = "") -> HarnessResult:
        return HarnessResult(stop=stop, turns=self.turns, calls=self.calls, tokens=self.tokens, cost_usd=self.cost,
                             message=message, transcript=self.messages)

    def run(self) -> HarnessResult:
        limits = self.attempt.limits
        while self.turns < self.max_turns:
            if self.attempt.cancel.is_set():
                return self.result("cancelled")
            if time.monotonic() >= self.attempt.deadline:
                return self.result("wall", f"out of wall time ({limits.wall_s:g}s)")
            try:
                reply = self.ask()
            except OutOfTime:
                return self.result("wall", f"out of wall time ({limits.wall_s:g}s) during a model call")
            except ModelCallFailed as exc:
                return self.result("error", str(exc))
            self.turns += 1
            self.messages.append(reply.message)
            if not reply.tool_calls:
                return self.result("finished", reply.message.get("content") or "")
            for call in reply.tool_calls:
                output = call_tool(self.env, call.name, call.arguments)
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
            if limits.max_cost_usd is not None and self.cost is not None and self.cost >= limits.max_cost_usd:
                return self.result("cost", f"spent ${self.cost:.4f} of ${limits.max_cost_usd:g}")
        return self.result("max_turns", f"stopped after {self.turns} turns")

    def ask(self) -> Reply:
        view = CONTEXT_POLICIES[self.config.context](self.messages, self.config.keep_last)
        request = Request(model=self.attempt.model, system=self.config.system_prompt or SYSTEM_PROMPT, messages=view,
                          max_tokens=self.config.max_tokens, temperature=self.config.temperature,
                          cache_policy=self.attempt.cache_policy, cache_key=self.attempt.task.id)
        answer = self.post(json.dumps(self.wire.body(request)).encode())
        reply = self.wire.parse(answer)
        self.tokens += reply.tokens
        price = self.attempt.price(reply.tokens)
        self.cost = None if price is None or self.cost is None else self.cost + price
        return reply

    def post(self, data: bytes) -> dict[str, Any]:
        """POST to the gateway, retrying within the retry budget; every try is a call."""
        backoff = 0.5
        while True:
            remaining = self.attempt.deadline - time.monotonic()
            if remaining <= 0:
                raise OutOfTime()
            self.calls += 1
            try:
                request = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
                with urllib.request.urlopen(request, timeout=min(self.config.request_timeout_s, remaining)) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:500]
                problem = f"HTTP {exc.code} from {self.url}: {detail}"
                if exc.code not in RETRYABLE_STATUS:
                    raise ModelCallFailed(problem) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
                problem = f"model call to {self.url} failed: {getattr(exc, 'reason', None) or exc}"
                if time.monotonic() >= self.attempt.deadline:
                    raise OutOfTime() from None
            if self.retries_left <= 0:
                raise ModelCallFailed(f"{problem} (retry budget of {self.config.retry_budget} spent)")
            self.retries_left -= 1
            time.sleep(min(backoff, max(0.0, self.attempt.deadline - time.monotonic())))
            backoff *= 2
