"""Task source ``folders``: one sub-folder per task, each with a ``task.yaml``.

::

    tasks/fix-median/
      task.yaml        # instruction, verifier, limits, difficulty, kind
      repo/            # the snapshot (or snapshot: repo.tar.gz)
      hidden/          # laid over the work tree after the attempt: the hidden tests
      solution/        # reference solution, laid over the snapshot; never shown to agents

``task.yaml`` fields: ``id`` (default: the folder name), ``instruction``
(required), ``snapshot`` (default ``repo``), ``hidden`` (default
``hidden``), ``solution`` (default ``solution`` when present),
``verifier`` (a command or a mapping, over the suite default), ``limits``
(over the suite default), ``difficulty``, ``kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .errors import SuiteError
from .fields import Fields, read_yaml
from .files import files_at
from .suite import Defaults, Task, verifier_from

TASK_FILE = "task.yaml"
FIELDS = ("id", "instruction", "snapshot", "hidden", "solution", "verifier", "limits", "difficulty", "kind")


def read(root: Path, entry: Fields, defaults: Defaults) -> Iterator[Task | str]:
    entry.only("folders")
    folder = root / (entry.str("folders", required=True) or "")
    if not folder.is_dir():
        raise entry.fail("folders", f"no folder {folder}")
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if not (sub / TASK_FILE).is_file():
            yield f"{sub}: no {TASK_FILE}; folder skipped"
            continue
        try:
            yield read_task(sub, defaults)
        except SuiteError as exc:
            yield f"{exc}; task skipped"


def read_task(folder: Path, defaults: Defaults) -> Task:
    """One task folder; raises SuiteError naming ``task.yaml`` and the field."""
    where = folder / TASK_FILE
    f = Fields(read_yaml(where, SuiteError), str(where), SuiteError)
    f.only(*FIELDS)
    instruction = f.str("instruction", required=True)
    verifier = verifier_from(f, "verifier", defaults.verifier)
    if not verifier.command:
        raise f.fail("verifier", "no command (and the suite gives no default)")
    solution = _path(folder, f, "solution", "solution", required=False)
    return Task(
        id=f.str("id", folder.name) or folder.name,
        instruction=instruction.strip(),
        snapshot=files_at(_path(folder, f, "snapshot", "repo")),
        hidden=files_at(_path(folder, f, "hidden", "hidden")),
        verifier=verifier,
        limits=defaults.limits.merged(f.sub("limits")),
        solution=files_at(solution) if solution else None,
        difficulty=f.str("difficulty"),
        kind=f.str("kind"),
        source=str(where),
    )


def _path(folder: Path, f: Fields, name: str, default: str, *, required: bool = True) -> Path | None:
    given = f.str(name)
    path = folder / (given or default)
    if not path.exists():
        if required or given:
            raise f.fail(name, f"{path} does not exist")
        return None
    if folder.resolve() not in path.resolve().parents:
        raise f.fail(name, f"{given!r} points outside the task folder")
    return path
