"""The agent's tools: read, write and edit a file, run a shell command. All confined to the work tree.

A tool never raises into the loop: bad arguments or a failed command come
back to the model as text, as they would from a person's terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class ToolEnv:
    root: Path
    shell_timeout_s: float
    output_chars: int
    deadline: float


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[ToolEnv, dict[str, Any]], str]

    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


class ToolFailure(Exception):
    """Shown to the model as ``error: <message>``."""


def _params(**props: str) -> dict[str, Any]:
    return {"type": "object", "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
            "required": list(props)}


def _resolve(env: ToolEnv, path: Any) -> Path:
    if not isinstance(path, str) or not path.strip():
        raise ToolFailure("path must be a non-empty string")
    root = env.root.resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise ToolFailure(f"{path}: outside the repository")
    return target


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def read_file(env: ToolEnv, args: dict[str, Any]) -> str:
    target = _resolve(env, args.get("path"))
    if not target.is_file():
        raise ToolFailure(f"{args['path']}: no such file")
    return clip(target.read_text(errors="replace"), env.output_chars)


def write_file(env: ToolEnv, args: dict[str, Any]) -> str:
    target = _resolve(env, args.get("path"))
    content = args.get("content")
    if not isinstance(content, str):
        raise ToolFailure("content must be a string")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content)} characters to {args['path']}"


def edit_file(env: ToolEnv, args: dict[str, Any]) -> str:
    target = _resolve(env, args.get("path"))
    old, new = args.get("old"), args.get("new")
    if not isinstance(old, str) or not old or not isinstance(new, str):
        raise ToolFailure("old must be a non-empty string and new a string")
    if not target.is_file():
        raise ToolFailure(f"{args['path']}: no such file")
    text = target.read_text()
    count = text.count(old)
    if count != 1:
        raise ToolFailure(f"{args['path']}: old text found {count} times; it must occur exactly once")
    target.write_text(text.replace(old, new, 1))
    return f"edited {args['path']}"


def run_shell(env: ToolEnv, args: dict[str, Any]) -> str:
    command = args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ToolFailure("command must be a non-empty string")
    timeout = min(env.shell_timeout_s, env.deadline - time.monotonic())
    if timeout <= 0:
        raise ToolFailure("no wall time left for a command")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = subprocess.Popen(["bash", "-c", command], cwd=env.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True,
                            env={**os.environ, "PATH": path, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        output, _ = proc.communicate()
        return clip(f"timed out after {timeout:.0f}s\n{output}", env.output_chars)
    return clip(f"exit code {proc.returncode}\n{output}", env.output_chars)


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("read_file", "Read a text file of the repository.", _params(path="path relative to the repository root"), read_file),
    Tool("write_file", "Create or overwrite a file with the given content.",
         _params(path="path relative to the repository root", content="the whole new content"), write_file),
    Tool("edit_file", "Replace one exact occurrence of `old` by `new` in a file.",
         _params(path="path relative to the repository root", old="text that occurs exactly once", new="replacement"),
         edit_file),
    Tool("run_shell", "Run a bash command in the repository root (time and output are bounded).",
         _params(command="the command line"), run_shell),
)}


def call_tool(env: ToolEnv, name: str, arguments: str | dict[str, Any]) -> str:
    """Run tool ``name`` with JSON ``arguments``; every failure comes back as text."""
    tool = TOOLS.get(name)
    if tool is None:
        return f"error: no tool named {name!r}; tools: {', '.join(TOOLS)}"
    try:
        args = json.loads(arguments or "{}") if isinstance(arguments, str) else arguments
    except json.JSONDecodeError as exc:
        return f"error: arguments are not valid JSON: {exc}"
    if not isinstance(args, dict):
        return "error: arguments must be a JSON object"
    try:
        return tool.run(env, args)
    except ToolFailure as exc:
        return f"error: {exc}"
    except OSError as exc:
        return f"error: {exc.strerror or exc}"
