"""Sets of files a task carries: its snapshot, its hidden tests, its reference solution.

One small interface, :class:`Files`, with three kinds behind it: a folder,
a tarball, and files held in memory (tasks generated from a data set).
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class Files(Protocol):
    """Files that can be laid into a folder, overwriting what is there."""

    def copy_to(self, dest: Path) -> None: ...


@dataclass(frozen=True)
class FolderFiles:
    """Every file under ``root``, at the same relative paths."""

    root: Path

    def copy_to(self, dest: Path) -> None:
        shutil.copytree(self.root, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


@dataclass(frozen=True)
class TarFiles:
    """The members of a tarball (``.tar``, ``.tar.gz``, ``.tgz``); links and absolute paths are refused."""

    path: Path

    def copy_to(self, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(self.path) as tar:
            tar.extractall(dest, filter="data")


@dataclass(frozen=True)
class InlineFiles:
    """Files held in memory: relative path -> text."""

    files: dict[str, str] = field(default_factory=dict)

    def copy_to(self, dest: Path) -> None:
        for rel, text in self.files.items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def files_at(path: Path) -> Files:
    """A folder or a tarball, by what ``path`` is."""
    if path.is_file() and path.name.endswith(TARBALL_SUFFIXES):
        return TarFiles(path)
    return FolderFiles(path)
