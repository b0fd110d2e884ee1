"""Importers: one per log or result format, found by sniffing content.

``REGISTRY`` maps a short name to an import path, so a new format is one
module and one line here; users can register their own class too.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .base import Cursor, FileSource, Source, iter_jsonl, load_json

__all__ = ["REGISTRY", "Cursor", "FileSource", "Source", "Unit", "discover", "get", "iter_jsonl", "load_json"]

# Order matters: the first source whose sniff matches wins.
REGISTRY: dict[str, str] = {
    "openhands-index": "inferaudit.sources.openhands_index:OpenHandsIndexSource",
    "swebench-leaderboard": "inferaudit.sources.swebench_leaderboard:SWEBenchLeaderboardSource",
    "claude-code": "inferaudit.sources.claude_code:ClaudeCodeSource",
    "codex": "inferaudit.sources.codex:CodexRolloutSource",
    "codex-exec": "inferaudit.sources.codex_exec:CodexExecSource",
    "gemini-cli": "inferaudit.sources.gemini_cli:GeminiCliSource",
    "swe-agent": "inferaudit.sources.swe_agent:SWEAgentTrajectorySource",
}

HEAD_BYTES = 16 << 10
DATA_SUFFIXES = (".json", ".jsonl", ".traj")

_loaded: dict[str, Source] = {}


def get(name: str) -> Source:
    """The source registered under ``name``."""
    if name not in _loaded:
        module_name, _, class_name = REGISTRY[name].partition(":")
        _loaded[name] = getattr(importlib.import_module(module_name), class_name)()
    return _loaded[name]


def available() -> list[Source]:
    out = []
    for name in REGISTRY:
        try:
            out.append(get(name))
        except (ImportError, AttributeError):  # a format whose module is not installed
            continue
    return out


@dataclass(slots=True)
class Unit:
    """What one source reads at once: a file, or a file plus the siblings it claims."""

    path: Path
    source: Source
    members: list[Path]


def sniff(path: Path, sources: list[Source] | None = None) -> Source | None:
    """The source that recognises ``path`` by content, or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    for source in sources if sources is not None else available():
        if source.sniff(path, head):
            return source
    return None


def discover(paths: Iterable[Path], known: dict[str, str] | None = None) -> Iterator[Unit | Path]:
    """Walk ``paths``; yield a Unit per recognised file, and the Path of each data file no source knows.

    Directories are walked top-down, a folder's files before its subfolders,
    so a unit that claims files below it (a result folder) is seen first.
    ``known`` maps paths already in the ledger to their source's name: those
    are not sniffed again (the fingerprint tells whether they changed).
    """
    sources = available()
    claimed: set[Path] = set()
    known = known or {}
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else _walk(root)
        for path in files:
            if path in claimed:
                continue
            name = known.get(str(path))
            source = get(name) if name in REGISTRY else sniff(path, sources)
            if source is None:
                if root.is_file() or path.suffix in DATA_SUFFIXES:
                    yield path
                continue
            members = source.members(path)
            claimed.update(members)
            yield Unit(path, source, members)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
