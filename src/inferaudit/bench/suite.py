"""Task suites: what a task is, and how a suite folder is read.

A suite is a folder with ``suite.yaml`` (see ``docs/bench.md``)::

    name: starter                      # required: the benchmark name Runs are recorded under
    description: ...
    defaults:                          # every task inherits these, field by field
      verifier: {command: "{python} -m pytest -q -p no:cacheprovider tests_hidden", timeout_s: 120}
      limits: {max_turns: 20, wall_s: 300, max_cost_usd: 0.50}
    tasks:                             # task sources, read in order (default: [{folders: tasks}])
      - folders: tasks                 # every sub-folder of tasks/ that holds a task.yaml
      - humaneval: humaneval.jsonl     # HumanEval problems as single-file tasks
        ids: [HumanEval/0, HumanEval/2]

Task sources are a registry (:data:`TASK_SOURCES`): a new kind of task set
is one function and one entry. A malformed task is skipped and reported
(``Suite.problems``, naming file and field); a malformed ``suite.yaml``
raises :class:`SuiteError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path
from typing import Callable, Iterator

from .errors import SuiteError
from .fields import Fields, read_yaml
from .files import Files

BUNDLED = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class Limits:
    """What one attempt may spend; an attempt over a limit is stopped and recorded as failed by that limit."""

    max_turns: int = 30
    """Model calls (assistant turns) the harness may make."""
    wall_s: float = 600.0
    """Seconds of wall time for the harness; the verifier has its own timeout."""
    max_cost_usd: float | None = None
    """Spend cap in USD, priced from the attempt's own usage; None: no cap."""

    def merged(self, f: Fields) -> Limits:
        f.only("max_turns", "wall_s", "max_cost_usd")
        return Limits(
            max_turns=f.int("max_turns", self.max_turns),
            wall_s=f.number("wall_s", self.wall_s),
            max_cost_usd=f.number("max_cost_usd", self.max_cost_usd),
        )


@dataclass(frozen=True)
class Verifier:
    """How an attempt is judged, after the hidden files are copied into its work tree."""

    command: str = ""
    """Shell command run in the work tree; ``{python}`` is replaced by this interpreter's path."""
    timeout_s: float = 300.0
    """Seconds before the verifier is killed (the outcome is then unknown)."""
    fail_codes: tuple[int, ...] = (1, 2)
    """Exit codes that mean the attempt failed (pytest: 1 tests failed, 2 collection error).
    0 means resolved; any other code is a verifier error and the outcome is unknown."""

    def merged(self, f: Fields) -> Verifier:
        if isinstance(f.doc, dict):
            f.only("command", "timeout_s", "fail_codes")
        return Verifier(
            command=f.str("command", self.command),
            timeout_s=f.number("timeout_s", self.timeout_s),
            fail_codes=f.ints("fail_codes", self.fail_codes),
        )


@dataclass(frozen=True)
class Task:
    """One task: a snapshot to work in, what to do, and how the result is judged."""

    id: str
    """Unique within the suite; recorded as the Run's task id."""
    instruction: str
    """What the agent is asked to do."""
    snapshot: Files
    """The repository the agent starts from."""
    hidden: Files
    """Files copied into the work tree only after the attempt (the hidden tests)."""
    verifier: Verifier
    limits: Limits
    solution: Files | None = None
    """Reference solution, laid over the snapshot; never shown to agents (used to check the task)."""
    difficulty: str | None = None
    kind: str | None = None
    """``bug``, ``feature``, ``function``: informational."""
    source: str = ""
    """The file this task was read from, for messages."""


@dataclass(frozen=True)
class Defaults:
    verifier: Verifier = Verifier()
    limits: Limits = Limits()


@dataclass
class Suite:
    """A loaded suite: its name (the benchmark), tasks in order, and what could not be read."""

    name: str
    root: Path
    tasks: list[Task]
    description: str = ""
    problems: list[str] = field(default_factory=list)

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"suite {self.name!r} has no task {task_id!r}")

    def only(self, ids: list[str]) -> Suite:
        """The same suite with only these tasks, in the order given; unknown ids raise SuiteError."""
        known = {t.id: t for t in self.tasks}
        missing = [i for i in ids if i not in known]
        if missing:
            raise SuiteError(f"{self.root / 'suite.yaml'}: no task(s) {', '.join(missing)} in suite {self.name!r}")
        return replace(self, tasks=[known[i] for i in ids])


# A task source reads one entry of suite.yaml's ``tasks`` list; it yields tasks, or strings for
# tasks it had to skip (the string names the file and field).
TaskSource = Callable[[Path, Fields, Defaults], Iterator["Task | str"]]

TASK_SOURCES: dict[str, str] = {
    "folders": "inferaudit.bench.folders:read",
    "humaneval": "inferaudit.bench.humaneval:read",
}


def _source(name: str) -> TaskSource:
    module, _, attr = TASK_SOURCES[name].partition(":")
    return getattr(import_module(module), attr)


def resolve(suite: str | Path) -> Path:
    """A suite folder: a path, or the name of a bundled suite (``starter``, ``humaneval``)."""
    path = Path(suite)
    if path.is_dir():
        return path
    if path.name == "suite.yaml" and path.is_file():
        return path.parent
    bundled = BUNDLED / str(suite)
    if "/" not in str(suite) and (bundled / "suite.yaml").is_file():
        return bundled
    names = ", ".join(sorted(p.name for p in BUNDLED.iterdir() if (p / "suite.yaml").is_file()))
    raise SuiteError(f"{suite}: no suite folder there, and no bundled suite of that name (bundled: {names})")


def load_suite(suite: str | Path, *, strict: bool = False) -> Suite:
    """Read a suite folder (or a bundled suite by name). ``strict``: a malformed task raises too."""
    root = resolve(suite)
    where = root / "suite.yaml"
    f = Fields(read_yaml(where, SuiteError), str(where), SuiteError)
    f.only("name", "description", "defaults", "tasks")
    name = f.str("name", required=True)
    d = f.sub("defaults")
    d.only("verifier", "limits")
    defaults = Defaults(verifier=verifier_from(d, "verifier", Verifier()), limits=Limits().merged(d.sub("limits")))
    entries = f.doc.get("tasks", [{"folders": "tasks"}])
    if not isinstance(entries, list):
        raise f.fail("tasks", "expected a list of task sources")
    tasks: list[Task] = []
    problems: list[str] = []
    for i, entry in enumerate(entries):
        ef = Fields(entry, str(where), SuiteError, f"tasks[{i}].")
        kinds = [k for k in ef.doc if k in TASK_SOURCES]
        if len(kinds) != 1:
            raise ef.fail("", f"name exactly one task source ({', '.join(TASK_SOURCES)}), got {sorted(ef.doc)}")
        for item in _source(kinds[0])(root, ef, defaults):
            if isinstance(item, str):
                if strict:
                    raise SuiteError(item)
                problems.append(item)
            else:
                tasks.append(item)
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise SuiteError(f"{task.source}: id: {task.id!r} is used by two tasks")
        seen.add(task.id)
    return Suite(name=name, root=root, tasks=tasks, description=f.str("description", "") or "", problems=problems)


def verifier_from(f: Fields, name: str, base: Verifier) -> Verifier:
    """A ``verifier`` field: a command string, or a mapping merged over ``base``."""
    value = f.doc.get(name)
    if isinstance(value, str):
        return replace(base, command=value)
    return base.merged(f.sub(name))
