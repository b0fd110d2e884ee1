"""Task source ``humaneval``: HumanEval problems as single-file tasks verified by their own tests.

Each problem becomes a work tree holding ``solution.py`` (the prompt: imports,
signature, docstring); the hidden file ``test_humaneval.py`` runs the
problem's own ``check`` against the completed function; the reference
solution is the prompt plus the canonical body. Rows need ``task_id``,
``prompt``, ``entry_point``, ``test`` and ``canonical_solution``.

The bundled data (``suites/humaneval/humaneval.jsonl``) is openai/human-eval's
``HumanEval.jsonl.gz``, all 164 problems, MIT licence (see SOURCES.md there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import orjson

from .fields import Fields
from .files import InlineFiles
from .suite import Defaults, Task, Verifier

REQUIRED = ("task_id", "prompt", "entry_point", "test", "canonical_solution")
VERIFIER = "{python} test_humaneval.py"
INSTRUCTION = (
    "Complete the function `{entry}` in solution.py so that it does what its docstring says. "
    "Keep its name and signature; do not change other functions."
)


def read(root: Path, entry: Fields, defaults: Defaults) -> Iterator[Task | str]:
    entry.only("humaneval", "ids", "limit")
    path = root / (entry.str("humaneval", required=True) or "")
    if not path.is_file():
        raise entry.fail("humaneval", f"no file {path}")
    wanted = entry.strs("ids")
    limit = entry.int("limit")
    verifier = defaults.verifier if defaults.verifier.command else Verifier(command=VERIFIER, timeout_s=60, fail_codes=(1,))
    count = 0
    found: set[str] = set()
    for line_no, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield f"{path}:{line_no}: not JSON ({exc}); row skipped"
            continue
        missing = [k for k in REQUIRED if not isinstance(row.get(k), str)] if isinstance(row, dict) else list(REQUIRED)
        if missing:
            yield f"{path}:{line_no}: missing field(s) {', '.join(missing)}; row skipped"
            continue
        if wanted is not None and row["task_id"] not in wanted:
            continue
        found.add(row["task_id"])
        yield task_from_row(row, verifier, defaults, f"{path}:{line_no}")
        count += 1
        if limit and count >= limit:
            break
    for task_id in sorted(set(wanted or ()) - found):
        yield f"{path}: ids: no problem {task_id!r}"


def task_from_row(row: dict, verifier: Verifier, defaults: Defaults, source: str) -> Task:
    entry = row["entry_point"]
    test = f"from solution import *  # noqa: F401,F403\nfrom solution import {entry}\n\n{row['test']}\n\ncheck({entry})\n"
    return Task(
        id=row["task_id"].replace("/", "-"),
        instruction=INSTRUCTION.format(entry=entry),
        snapshot=InlineFiles({"solution.py": row["prompt"]}),
        hidden=InlineFiles({"test_humaneval.py": test}),
        verifier=verifier,
        limits=defaults.limits,
        solution=InlineFiles({"solution.py": row["prompt"] + row["canonical_solution"]}),
        kind="function",
        source=source,
    )
