"""Verifiers: does a model's answer to an eval item pass? One registry, one function per kind.

An item names its verifier as a one-key mapping, ``{kind: spec}``:

- ``exact``: the answer equals one of the expected strings (``"Paris"``, a
  list, or ``{answers: [...], normalize: true}``); normalising strips, folds
  case, collapses whitespace and drops a trailing full stop.
- ``json_schema``: the answer (a fenced ``json`` block, or the whole text)
  parses as JSON and validates against the schema.
- ``unit_tests``: the answer's code (a fenced block defining ``entry_point``,
  or the whole text) is appended to ``prompt`` and run with ``tests`` in a
  fresh Python process; exit 0 passes.
- ``sql``: the answer's query (a fenced ``sql`` block, or the whole text),
  run in an in-memory DuckDB after ``setup``, returns the same rows as
  ``expected`` (as a multiset unless ``ordered: true``; floats to 9 digits).

:func:`compile_verifier` checks a spec when the eval set is loaded (a bad
schema, setup SQL that fails, an expected query that errors), so a broken
item is reported with its file and index before any model is called.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import EvalSetError

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


@dataclass(frozen=True)
class Check:
    """A verifier's result for one answer: ``passed``, and why not."""

    passed: bool
    detail: str = ""


Verify = Callable[[str], Check]


def fenced(text: str, languages: tuple[str, ...] = ()) -> list[str]:
    """Fenced code blocks in ``text``, those tagged with one of ``languages`` first."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    tagged = [body for lang, body in blocks if lang in languages]
    return tagged + [body for lang, body in blocks if lang not in languages]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).casefold().removesuffix(".")


def _exact(spec: Any, where: str) -> Verify:
    if isinstance(spec, dict):
        answers, normalize = spec.get("answers", spec.get("answer")), spec.get("normalize", True)
    else:
        answers, normalize = spec, True
    answers = [answers] if isinstance(answers, str) else answers
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
        raise EvalSetError(f"{where}: exact: expected an answer or a list of answers, got {spec!r}")
    norm = _normalise if normalize else (lambda s: s)
    wanted = {norm(a) for a in answers}

    def verify(answer: str) -> Check:
        got = norm(answer)
        return Check(got in wanted, "" if got in wanted else f"expected {answers[0]!r}, got {answer.strip()[:80]!r}")

    return verify


def _json_schema(spec: Any, where: str) -> Verify:
    import jsonschema

    if not isinstance(spec, dict):
        raise EvalSetError(f"{where}: json_schema: expected a JSON Schema object")
    cls = jsonschema.validators.validator_for(spec)
    try:
        cls.check_schema(spec)
    except jsonschema.SchemaError as exc:
        raise EvalSetError(f"{where}: json_schema: not a valid schema: {exc.message}") from None
    validator = cls(spec)

    def verify(answer: str) -> Check:
        candidates = fenced(answer, ("json",)) + [answer]
        for text in candidates:
            try:
                value = json.loads(text)
            except ValueError:
                continue
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            return Check(error is None, "" if error is None else f"schema: {error.message[:200]}")
        return Check(False, "no JSON in the answer")

    return verify


def _unit_tests(spec: Any, where: str) -> Verify:
    if not isinstance(spec, dict) or not isinstance(spec.get("tests"), str):
        raise EvalSetError(f"{where}: unit_tests: expected {{tests: <python>, entry_point: <name>, prompt: <code>}}")
    tests, entry, prompt = spec["tests"], spec.get("entry_point"), spec.get("prompt", "")
    timeout = float(spec.get("timeout_s", 30))

    def verify(answer: str) -> Check:
        code = _code(answer, entry)
        with tempfile.TemporaryDirectory(prefix="inferaudit-route-") as tmp:
            Path(tmp, "solution.py").write_text(f"{prompt}\n{code}\n")
            Path(tmp, "check_solution.py").write_text(f"from solution import *  # noqa\n\n{tests}\n")
            try:
                done = subprocess.run([sys.executable, "check_solution.py"], cwd=tmp, capture_output=True, text=True,
                                      errors="replace", timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            except subprocess.TimeoutExpired:
                return Check(False, f"tests timed out after {timeout:g}s")
        if done.returncode == 0:
            return Check(True)
        out = (done.stderr or done.stdout).strip()
        return Check(False, out.splitlines()[-1][:200] if out else f"tests exited {done.returncode}")

    return verify


def _code(answer: str, entry: str | None) -> str:
    blocks = fenced(answer, ("python", "py"))
    if entry:
        defining = [b for b in blocks if re.search(rf"^\s*def {re.escape(entry)}\s*\(", b, re.M)]
        if defining:
            return defining[0]
    return blocks[0] if blocks else answer


def _sql(spec: Any, where: str) -> Verify:
    import duckdb

    if not isinstance(spec, dict) or not isinstance(spec.get("expected"), str):
        raise EvalSetError(f"{where}: sql: expected {{setup: <sql>, expected: <query>, ordered: false}}")
    setup, ordered = spec.get("setup", ""), bool(spec.get("ordered", False))

    def rows(query: str) -> list[tuple]:
        con = duckdb.connect(":memory:")
        try:
            if setup:
                con.execute(setup)
            got = [tuple(_cell(v) for v in row) for row in con.execute(query).fetchall()]
        finally:
            con.close()
        return got if ordered else sorted(got, key=repr)

    try:
        expected = rows(spec["expected"])
    except duckdb.Error as exc:
        raise EvalSetError(f"{where}: sql: the setup or expected query fails: {exc}") from None

    def verify(answer: str) -> Check:
        query = (fenced(answer, ("sql",)) or [answer])[0].strip().rstrip(";")
        try:
            got = rows(query)
        except duckdb.Error as exc:
            return Check(False, f"query fails: {str(exc).splitlines()[0][:200]}")
        return Check(got == expected, "" if got == expected else f"{len(got)} rows differ from the expected {len(expected)}")

    return verify


def _cell(value: Any) -> Any:
    return float(f"{value:.9g}") if isinstance(value, float) else value


VERIFIERS: dict[str, Callable[[Any, str], Verify]] = {
    "exact": _exact,
    "json_schema": _json_schema,
    "unit_tests": _unit_tests,
    "sql": _sql,
}


def compile_verifier(spec: Any, where: str) -> tuple[str, Verify]:
    """``(kind, verify)`` for a ``{kind: spec}`` mapping; a bad spec raises :class:`EvalSetError` naming ``where``."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise EvalSetError(f"{where}: verifier: expected one of {{{', '.join(VERIFIERS)}}}: <spec>")
    (kind, body), = spec.items()
    if kind not in VERIFIERS:
        raise EvalSetError(f"{where}: verifier: unknown kind {kind!r}; known: {', '.join(VERIFIERS)}")
    return kind, VERIFIERS[kind](body, where)
