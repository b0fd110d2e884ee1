"""aider (PyPI ``aider-chat``) as a harness adapter, pointed at the gateway.

::

    harnesses:
      aider-whole: {adapter: aider, edit_format: whole}

aider is run once per attempt with the task as its one ``--message``, every
file of the work tree added to the chat, and no git of its own (``--no-git``:
the bench diffs the work tree against the task's snapshot, which aider's
auto-commits would hide). The model is ``openai/<model>`` with
``--openai-api-base`` = the gateway's ``/v1`` and the bench's key; the
attribution headers go in a model-settings file as litellm ``extra_headers``.
HOME is a throwaway folder, seeded with an empty model-price cache so aider
fetches nothing. Cache policy: ``none`` as is, ``auto`` / ``5m``
``--cache-prompts``; ``1h`` cannot be asked (that attempt is an error).

aider has no turn limit: it answers the message, applies the edits, and may
ask the model again to fix an edit that did not apply (its reflections). The
calls it made and the tokens it counted are read from its ``Tokens: N sent, M
received`` lines (the ledger has the exact buckets). Exit 0 is finished.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...usage import Tokens
from ..agent.loop import task_prompt
from ..errors import HarnessError, TriplesError
from ..fields import Fields
from ..harness import Attempt, HarnessResult
from .process import clean_env, find_binary, run_cli, throwaway_home

EDIT_FORMATS = ("whole", "diff", "diff-fenced", "udiff")
CACHE_FLAGS = {"none": [], "auto": ["--cache-prompts"], "5m": ["--cache-prompts"]}
QUIET_FLAGS = ["--yes-always", "--no-git", "--no-auto-commits", "--no-auto-lint", "--no-auto-test",
               "--no-show-model-warnings", "--no-check-update", "--analytics-disable", "--no-pretty", "--no-stream",
               "--no-show-release-notes", "--no-detect-urls"]
_TOKENS = re.compile(r"^Tokens: ([\d.]+)(k?) sent(?:, ([\d.]+)(k?) cache write)?(?:, ([\d.]+)(k?) cache hit)?, "
                     r"([\d.]+)(k?) received", re.M)


@dataclass(frozen=True)
class AiderConfig:
    binary: str | None = None
    """The ``aider`` executable (default: ``.tools/aider-venv/bin/aider`` from ``make tools``, else on PATH)."""
    edit_format: str = "whole"
    """``--edit-format``: how the model writes edits."""
    extra_args: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> AiderConfig:
        f = Fields(options, where, TriplesError)
        f.only("adapter", "binary", "edit_format", "extra_args")
        return cls(binary=f.str("binary"), edit_format=f.choice("edit_format", EDIT_FORMATS, "whole"),
                   extra_args=tuple(f.strs("extra_args") or ()))


class Aider:
    """aider, one ``--message`` per attempt."""

    name = "aider"

    def __init__(self, config: AiderConfig | None = None):
        self.config = config or AiderConfig()

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> Aider:
        return cls(AiderConfig.from_options(options, where))

    def command(self, binary: str, attempt: Attempt, settings: Path) -> list[str]:
        if attempt.cache_policy not in CACHE_FLAGS:
            raise HarnessError(f"{self.name}: cache policy {attempt.cache_policy!r} cannot be asked of aider "
                               f"(it has: {', '.join(CACHE_FLAGS)})")
        gateway = attempt.base_url.rstrip("/").removesuffix("/v1") + "/v1"
        return [binary, "--model", f"openai/{attempt.model}", "--openai-api-base", gateway,
                "--openai-api-key", attempt.api_key, "--model-settings-file", str(settings),
                "--edit-format", self.config.edit_format, "--message", task_prompt(attempt.task.instruction),
                *QUIET_FLAGS, *CACHE_FLAGS[attempt.cache_policy], *self.config.extra_args, *_files(attempt.workdir)]

    def run(self, attempt: Attempt) -> HarnessResult:
        binary = find_binary("aider", self.config.binary, self.name, pinned="aider-venv/bin")
        with throwaway_home(self.name) as home:
            caches = home / ".aider" / "caches"
            caches.mkdir(parents=True)
            (caches / "model_prices_and_context_window.json").write_text("{}")  # fresh: nothing is fetched
            settings = home / "model-settings.yml"
            settings.write_text(yaml.safe_dump([{"name": f"openai/{attempt.model}",
                                                 "extra_params": {"extra_headers": dict(attempt.headers)}}]))
            env = clean_env(("OPENAI_", "ANTHROPIC_", "AIDER_", "LITELLM_"), HOME=str(home),
                            LITELLM_LOCAL_MODEL_COST_MAP="True")
            ended = run_cli(self.command(binary, attempt, settings), attempt=attempt, env=env,
                            on_event=lambda event: None, tail_chars=20000)
        calls, tokens = _usage(ended.stderr)
        cost = attempt.price(tokens)
        if ended.stopped:
            message = f"out of wall time ({attempt.limits.wall_s:g}s)" if ended.stopped == "wall" else ""
            return HarnessResult(stop=ended.stopped, turns=calls, calls=calls, tokens=tokens, cost_usd=cost, message=message)
        if ended.exit_code != 0:
            return HarnessResult(stop="error", turns=calls, calls=calls, tokens=tokens, cost_usd=cost,
                                 message=f"aider exited {ended.exit_code}: {ended.stderr[-1500:]}")
        return HarnessResult(stop="finished", turns=calls, calls=calls, tokens=tokens, cost_usd=cost,
                             message=ended.stderr[-1500:])


def _files(root: Path) -> list[str]:
    """Every file the task's snapshot committed, relative to the work tree (aider edits only files in its chat)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=False)
    return [name for name in listed.stdout.decode(errors="replace").split("\0") if name]


def _usage(output: str) -> tuple[int, Tokens]:
    """Calls and tokens from aider's ``Tokens: ...`` lines (rounded to hundreds above 1,000: aider's own figures)."""
    def number(value: str | None, unit: str | None) -> int:
        return round(float(value) * (1000 if unit else 1)) if value else 0

    calls, total = 0, Tokens()
    for m in _TOKENS.finditer(output):
        sent, write, hit, received = (number(m.group(i), m.group(i + 1)) for i in (1, 3, 5, 7))
        total += Tokens(input=max(0, sent - write - hit), cache_read=hit, cache_write_5m=write, output=received)
        calls += 1
    return calls, total
