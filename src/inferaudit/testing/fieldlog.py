"""Which JSON paths code reads and writes: dicts that log every key asked of them, for the field-table tests.

``Recorder(obj).wrap(value)`` returns ``value`` with every JSON object
replaced by a dict that logs each key read (``get``, ``[]``, ``in``) and
each walk over all its keys; :func:`uncovered_reads` and
:func:`uncovered_writes` then name the paths that the gateway's declared
``READS`` / ``WRITES`` tables (``inferaudit.drift.fields``) do not cover, so
a mapper or translator that starts touching an undeclared field fails a test
(tests/drift/test_fields.py and the translators' field tests).
"""

from __future__ import annotations

from ..drift.catalog import OPENAI
from ..drift.fields import covers, declared


def join(path: str, key: str) -> str:
    return f"{path}{key}" if not path or path.endswith(":") else f"{path}.{key}"


class Recorder:
    """Wraps parsed JSON so that every key read (``get``, ``[]``, ``in``) and every whole-object walk is logged."""

    def __init__(self, obj: str) -> None:
        self.obj = obj
        self.gets: set[str] = set()
        self.wholes: set[str] = set()

    def wrap(self, value, path: str = ""):
        if isinstance(value, dict):
            return RecordingDict(self, path, {k: self.wrap(v, join(path, k)) for k, v in value.items()})
        if isinstance(value, list):
            return [self.wrap(v, path + "[]") for v in value]
        return value

    def wrap_event(self, value):
        kind = value.get("type") if isinstance(value, dict) else None
        return self.wrap(value, f"{kind}:") if isinstance(kind, str) else self.wrap(value)


class RecordingDict(dict):
    def __init__(self, recorder: Recorder, path: str, items: dict) -> None:
        super().__init__(items)
        self._recorder, self._path = recorder, path

    def _read(self, key) -> None:
        self._recorder.gets.add(join(self._path, str(key)))

    def get(self, key, default=None):
        self._read(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._read(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._read(key)
        return super().__contains__(key)

    def _walk(self) -> None:
        self._recorder.wholes.add(self._path)

    def items(self):
        self._walk()
        return super().items()

    def keys(self):
        self._walk()
        return super().keys()

    def values(self):
        self._walk()
        return super().values()

    def __iter__(self):
        self._walk()
        return super().__iter__()


def locate(obj: str, path: str) -> tuple[str, str]:
    """(object, path) after stepping into nested objects (a chat response's ``usage`` is ``chat.usage``)."""
    for parent, mount, child in OPENAI.mounts:
        if parent != obj:
            continue
        rest = path.split(":", 1)[1] if mount.startswith("*:") and ":" in path else path
        key = mount.split(":", 1)[1] if mount.startswith("*:") else mount
        if rest.startswith(key + "."):
            return locate(child, rest[len(key) + 1:])
    return obj, path


def locate_whole(obj: str, path: str) -> tuple[str, str]:
    """Like :func:`locate`, for a walk over a whole object: a walk over ``usage`` is over ``chat.usage``'s root."""
    obj, path = locate(obj, path)
    for parent, mount, child in OPENAI.mounts:
        key = mount.split(":", 1)[1] if mount.startswith("*:") else mount
        rest = path.split(":", 1)[1] if mount.startswith("*:") and ":" in path else path
        if parent == obj and rest == key:
            return child, ""
    return obj, path


def uncovered_reads(recorder: Recorder, allow_walks: tuple[str, ...] = ()) -> list[str]:
    """Paths read (and whole objects walked, but for ``allow_walks``) that no ``READS`` table declares."""
    table = declared(OPENAI.modules, table="READS")
    missing = []
    for path in recorder.gets:
        obj, rest = locate(recorder.obj, path)
        if not covers(table.get(obj, set()), rest):
            missing.append(f"{obj} {rest}")
    for path in recorder.wholes - set(allow_walks):
        obj, rest = locate_whole(recorder.obj, path)
        if not covers(table.get(obj, set()), rest, whole=True):
            missing.append(f"{obj} {rest or '(whole object)'} (iterated)")
    return sorted(missing)


def uncovered_writes(obj: str, value) -> list[str]:
    """Leaf paths of ``value`` (an object of kind ``obj``) that no ``WRITES`` table declares."""
    table = declared(OPENAI.modules, table="WRITES")
    paths: set[str] = set()

    def walk(node, path: str) -> None:
        if isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, join(path, key))
        elif isinstance(node, list) and node:
            for child in node:
                walk(child, path + "[]")
        else:
            paths.add(path)

    walk(value, f"{value['type']}:" if obj == "responses.event" else "")
    missing = []
    for path in paths:
        where, rest = locate(obj, path)
        if not (covers(table.get(where, set()), rest) or covers(table.get(where, set()), rest, whole=True)):
            missing.append(f"{where} {rest}")
    return sorted(missing)
