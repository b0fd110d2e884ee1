"""Typed reads from parsed YAML, with errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import BenchError


def read_yaml(path: Path, error: type[BenchError]) -> Any:
    """Parse ``path``; a missing file or bad YAML raises ``error`` naming the file (and line, from YAML)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise error(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None


class Fields:
    """A mapping read field by field; every complaint names ``where`` and the dotted field."""

    def __init__(self, doc: Any, where: str, error: type[BenchError], prefix: str = ""):
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise error(f"{where}: {prefix.rstrip('.') or 'top level'}: expected a mapping, got {type(doc).__name__}")
        self.doc, self.where, self.error, self.prefix = doc, where, error, prefix

    def fail(self, name: str, message: str) -> BenchError:
        return self.error(f"{self.where}: {self.prefix}{name}: {message}")

    def only(self, *known: str) -> None:
        unknown = sorted(set(self.doc) - set(known))
        if unknown:
            raise self.error(f"{self.where}: {self.prefix.rstrip('.') or 'top level'}: unknown field(s) "
                             f"{', '.join(map(str, unknown))}; known: {', '.join(known)}")

    def has(self, name: str) -> bool:
        return self.doc.get(name) is not None

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.doc.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(name, f"expected text, got {value!r}")
        return value

    def number(self, name: str, default: float | None = None, *, positive: bool = True) -> float | None:
        value = self.doc.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(name, f"expected a number, got {value!r}")
        if positive and value <= 0:
            raise self.fail(name, f"must be above 0, got {value!r}")
        return float(value)

    def int(self, name: str, default: int | None = None, *, minimum: int = 1) -> int | None:
        value = self.doc.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(name, f"must be at least {minimum}, got {value}")
        return value

    def choice(self, name: str, choices: dict[str, str] | tuple[str, ...], default: str | None = None) -> str | None:
        """One of ``choices``; a dict maps accepted spellings to canonical names."""
        value = self.str(name, default)
        if value is None:
            return None
        table = choices if isinstance(choices, dict) else {c: c for c in choices}
        if value not in table:
            raise self.fail(name, f"{value!r} is not one of {', '.join(table)}")
        return table[value]

    def ints(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.doc.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(name, f"expected a list of whole numbers, got {value!r}")
        return tuple(value)

    def strs(self, name: str) -> list[str] | None:
        value = self.doc.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of text, got {value!r}")
        return value

    def sub(self, name: str) -> Fields:
        return Fields(self.doc.get(name), self.where, self.error, f"{self.prefix}{name}.")
