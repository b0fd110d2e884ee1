"""An isolated work tree per attempt: the snapshot copied into its own folder, under its own git.

The snapshot is committed to a fresh repository in the work tree, so the
agent can use git as it would in a real checkout and the attempt's patch is
``git diff`` against that commit. Without git on PATH the tree is a plain
copy and no patch is kept.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .suite import Task

_GIT = ["git", "-c", "user.name=inferaudit-bench", "-c", "user.email=bench@inferaudit.invalid",
        "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"]


@dataclass
class WorkTree:
    root: Path
    git: bool

    @classmethod
    def create(cls, task: Task, root: Path) -> WorkTree:
        """A fresh tree at ``root`` (replacing anything left there by an interrupted attempt)."""
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        task.snapshot.copy_to(root)
        git = shutil.which("git") is not None and _git(root, "init", "-q") and _git(root, "add", "-A") and \
            _git(root, "commit", "-q", "--no-verify", "--allow-empty", "-m", f"snapshot of {task.id}")
        return cls(root, bool(git))

    def diff(self) -> str:
        """Everything the attempt changed, new files included, as a patch ('' without git)."""
        if not self.git:
            return ""
        _git(self.root, "add", "-A")
        done = subprocess.run([*_GIT, "diff", "--cached", "--no-color", "--binary"], cwd=self.root,
                              capture_output=True, text=True, errors="replace")
        return done.stdout

    def add_hidden(self, task: Task) -> None:
        task.hidden.copy_to(self.root)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _git(root: Path, *args: str) -> bool:
    return subprocess.run([*_GIT, *args], cwd=root, capture_output=True).returncode == 0
