"""Scripted trajectories: what a model would answer, step by step, to make a harness solve (or fail) a task.

A trajectory is written in *actions* (read a file, write a file, run a
command); :data:`TOOL_SHAPES` turns each action into the tool call a given
harness understands, since each names its tools and their arguments its own
way:

- ``builtin``: inferaudit's own agent (``read_file`` / ``write_file`` / ``run_shell``);
- ``claude-code``: Claude Code's ``Read`` / ``Write`` / ``Bash`` (``file_path``, ``content``, ``command``);
- ``codex``: Codex CLI's ``exec_command`` (``cmd``), the one file tool every Codex model is given:
  a file is read with ``cat`` and written with a quoted here-document;
- ``mini-swe-agent``: its one ``bash`` tool (``command``), likewise; it ends on the command
  ``echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT``, not on a text answer.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One assistant message: optional text and tool calls ``(name, arguments)``."""

    content: str | None = None
    tool_calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class Trajectory:
    instruction: str
    """Text the task's first user message contains (how a request without a task header is matched)."""
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class ToolShapes:
    """How one harness's tools read a file, write a file and run a shell command."""

    read: Callable[[str], Call]
    write: Callable[[str, str], Call]
    run: Callable[[str], Call]
    finish: tuple[Call, ...] = ()
    """Tool calls that end the session (mini-SWE-agent ends on a command); none: a plain text answer ends it."""


def _heredoc(path: str, text: str) -> str:
    marker = "INFERAUDIT_EOF"
    while marker in text:
        marker += "_"
    return f"cat > {shlex.quote(path)} <<'{marker}'\n{text}{'' if text.endswith(chr(10)) else chr(10)}{marker}"


TOOL_SHAPES: dict[str, ToolShapes] = {
    "builtin": ToolShapes(
        read=lambda path: ("read_file", {"path": path}),
        write=lambda path, text: ("write_file", {"path": path, "content": text}),
        run=lambda command: ("run_shell", {"command": command}),
    ),
    "claude-code": ToolShapes(
        read=lambda path: ("Read", {"file_path": path}),
        write=lambda path, text: ("Write", {"file_path": path, "content": text}),
        run=lambda command: ("Bash", {"command": command, "description": "Run a command"}),
    ),
    "codex": ToolShapes(
        read=lambda path: ("exec_command", {"cmd": f"cat {shlex.quote(path)}"}),
        write=lambda path, text: ("exec_command", {"cmd": _heredoc(path, text)}),
        run=lambda command: ("exec_command", {"cmd": command}),
    ),
    "mini-swe-agent": ToolShapes(
        read=lambda path: ("bash", {"command": f"cat {shlex.quote(path)}"}),
        write=lambda path, text: ("bash", {"command": _heredoc(path, text)}),
        run=lambda command: ("bash", {"command": command}),
        finish=(("bash", {"command": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}),),
    ),
}


def _shapes(tools: str) -> ToolShapes:
    try:
        return TOOL_SHAPES[tools]
    except KeyError:
        raise ValueError(f"no tool shapes for {tools!r}; known: {', '.join(TOOL_SHAPES)}") from None


def _solution_files(task: Any) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as scratch:
        task.solution.copy_to(Path(scratch))
        return {str(p.relative_to(scratch)): p.read_text() for p in sorted(Path(scratch).rglob("*")) if p.is_file()}


def solving_trajectory(task: Any, check: str = "python -m pytest -q -p no:cacheprovider",
                       tools: str = "builtin") -> Trajectory:
    """Read each file the reference solution changes, write the solution, run ``check``, say done (4 model turns)."""
    files, shape = _solution_files(task), _shapes(tools)
    return Trajectory(task.instruction, (
        Step("Let me look at the code.", tuple(shape.read(p) for p in files)),
        Step(None, tuple(shape.write(p, text) for p, text in files.items())),
        Step(None, (shape.run(check),)),
        Step("Fixed: the change is in " + ", ".join(files) + ".", shape.finish),
    ))


def failing_trajectory(task: Any, tools: str = "builtin") -> Trajectory:
    """Read the files, make a change that does not do the task (a comment), say done (3 model turns)."""
    files, shape = _solution_files(task), _shapes(tools)
    first = next(iter(files))
    return Trajectory(task.instruction, (
        Step("Let me look at the code.", tuple(shape.read(p) for p in files)),
        Step(None, (shape.run(f"printf '\\n# reviewed\\n' >> {shlex.quote(first)}"),)),
        Step("Done: reviewed " + first + ".", shape.finish),
    ))


def whole_file_trajectory(task: Any) -> Trajectory:
    """One answer that writes the reference solution in aider's ``whole`` edit format (path, then the file fenced)."""
    files = _solution_files(task)
    return Trajectory(task.instruction, (
        Step("".join(f"{path}\n```\n{text}{'' if text.endswith(chr(10)) else chr(10)}```\n\n" for path, text in files.items())),
    ))
