"""OpenHands Index result folders: ``metadata.json`` + ``scores.json`` + ``instance_results/<benchmark>.json``.

Each folder is one (model, harness) pair; each instance a Run with its
reported cost and resolved flag, per benchmark. The folder's published
scores become :class:`Published` records, so the audit can check them
against the per-instance records (some folders hold 0.0 cost per instance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..usage import Problem, Published, Record, Run
from .base import Cursor, load_json

NAME = "openhands-index"
CACHE_POLICY = "default"  # the result set does not say how the harness cached


class OpenHandsIndexSource:
    name = NAME
    append_only = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return (
            path.name == "metadata.json"
            and b'"agent_name"' in head
            and (b'"directory_name"' in head or b'"agent_version"' in head)
        )

    def members(self, path: Path) -> list[Path]:
        folder = path.parent
        found = [path]
        if (folder / "scores.json").is_file():
            found.append(folder / "scores.json")
        results = folder / "instance_results"
        if results.is_dir():
            found.extend(sorted(results.glob("*.json")))
        return found

    def read(self, path: Path, cursor: Cursor) -> Iterator[Record]:
        meta = load_json(path)
        if isinstance(meta, Problem):
            yield meta
            return
        if not isinstance(meta, dict):
            yield Problem(str(path), 1, "metadata.json is not an object")
            return
        folder = path.parent
        group = _group(folder)
        harness = str(meta.get("agent_name") or "unknown")
        model = folder.name  # unique per harness; metadata's model is sometimes a copy of another folder's
        yield from _published(folder / "scores.json", group, harness, model)
        results = folder / "instance_results"
        for file in sorted(results.glob("*.json")) if results.is_dir() else ():
            yield from _instances(file, group, harness, model)
        cursor.offset = path.stat().st_size


def _group(folder: Path) -> str:
    parts = folder.parts
    for anchor in ("results", "alternative_agents"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor):])
    return folder.name


def _published(file: Path, group: str, harness: str, model: str) -> Iterator[Record]:
    if not file.is_file():
        return
    scores = load_json(file)
    if isinstance(scores, Problem):
        yield scores
        return
    if not isinstance(scores, list):
        yield Problem(str(file), 1, "scores.json is not a list")
        return
    for entry in scores:
        if not isinstance(entry, dict) or "benchmark" not in entry:
            yield Problem(str(file), None, "score entry without a benchmark")
            continue
        yield Published(
            group=group, harness=harness, model=model, benchmark=str(entry["benchmark"]),
            success_rate=_number(entry.get("score")),
            cost_per_run=_number(entry.get("cost_per_instance")),
            wall_time_s=_number(entry.get("average_runtime")),
            source_file=str(file),
        )


def _instances(file: Path, group: str, harness: str, model: str) -> Iterator[Record]:
    data = load_json(file)
    if isinstance(data, Problem):
        yield data
        return
    if not isinstance(data, dict):
        yield Problem(str(file), 1, "instance results are not an object")
        return
    benchmark = file.stem
    for instance, result in data.items():
        if not isinstance(result, dict) or not isinstance(result.get("resolved"), (bool, type(None))):
            yield Problem(str(file), None, f"instance {instance!r}: 'resolved' is not true, false or null")
            continue
        resolved = result.get("resolved")
        yield Run(
            run_id=f"{NAME}:{group}:{benchmark}:{instance}",
            source=NAME,
            harness=harness,
            model=model,
            cache_policy=CACHE_POLICY,
            benchmark=benchmark,
            task_id=str(instance),
            # null: the evaluation gave no verdict; the audit counts it unresolved, as the index does
            outcome="unknown" if resolved is None else "resolved" if resolved else "failed",
            verified_by=NAME,
            cost_reported=_number(result.get("cost")),
            source_file=str(file),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
