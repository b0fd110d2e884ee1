"""Eval sets: prompts with a verifier each, grouped by feature (``inferaudit route eval EVALSET``).

A YAML file (or JSON Lines, one item per line)::

    name: support-evals                 # default: the file's stem
    features:                           # optional, per feature: the quality bar and the gateway alias to write
      codegen: {bar: 0.8, alias: codegen-model}
    items:
      - {id: capital, feature: qa, prompt: "The capital of France? One word.", verifier: {exact: Paris}}
      - id: invoice
        feature: extract
        system: Reply with JSON only.
        prompt: "Total and currency of: 'Due: 12.50 EUR'"
        verifier: {json_schema: {type: object, required: [total, currency]}}
      - {id: top-customer, feature: sql, prompt: ..., verifier: {sql: {setup: "CREATE TABLE ...", expected: "SELECT ..."}}}
      - {humaneval: bundled, feature: codegen, limit: 10}   # HumanEval problems, verified by their own tests

An item gives ``prompt`` (with an optional ``system``) or ``messages`` (chat
messages as the OpenAI API takes them). Verifier kinds are in
:mod:`.verifiers`. A malformed item is reported with its file and index and
left out; the rest of the set runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from ..bench.fields import Fields, read_yaml
from .errors import EvalSetError
from .verifiers import Verify, compile_verifier

BUNDLED_HUMANEVAL = Path(__file__).resolve().parent.parent / "bench" / "suites" / "humaneval" / "humaneval.jsonl"
HUMANEVAL_PROMPT = ("Complete this Python function. Reply with the whole function, imports included, "
                    "in one ```python code block.\n\n```python\n{prompt}```")


@dataclass(frozen=True)
class Item:
    id: str
    feature: str
    messages: tuple[dict[str, Any], ...]
    verifier: str
    verify: Verify = field(repr=False, compare=False)
    source: str = ""


@dataclass(frozen=True)
class Feature:
    name: str
    bar: float | None = None
    """The quality (share of items passed) a route must reach; None: the candidates file's bar."""
    alias: str | None = None
    """The gateway model alias this feature's route is written to; None: the feature's name."""


@dataclass
class EvalSet:
    name: str
    items: list[Item]
    features: dict[str, Feature]
    problems: list[str] = field(default_factory=list)
    """Items left out, each with its file and index and why."""

    def feature(self, name: str) -> Feature:
        return self.features.get(name) or Feature(name)


def load_evalset(path: str | Path) -> EvalSet:
    path = Path(path)
    if path.suffix in (".jsonl", ".ndjson"):
        doc: Any = {"items": list(_jsonl(path))}
    else:
        doc = read_yaml(path, EvalSetError)
    f = Fields(doc, str(path), EvalSetError)
    f.only("name", "features", "items")
    features = {}
    for name, spec in (f.doc.get("features") or {}).items():
        ff = Fields(spec, str(path), EvalSetError, f"features.{name}.")
        ff.only("bar", "alias")
        bar = ff.number("bar", positive=False)
        if bar is not None and not 0 <= bar <= 1:
            raise ff.fail("bar", f"a share of items passed, from 0 to 1; got {bar}")
        features[str(name)] = Feature(str(name), bar, ff.str("alias"))
    entries = f.doc.get("items")
    if not isinstance(entries, list) or not entries:
        raise f.fail("items", "expected a non-empty list of items")
    out = EvalSet(f.str("name") or path.stem, [], features)
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: items[{index}]"
        try:
            for item in _items(entry, where, path.parent):
                if isinstance(item, str):
                    out.problems.append(item)
                elif item.id in seen:
                    out.problems.append(f"{item.source}: id {item.id!r} is used twice; this item left out")
                else:
                    seen.add(item.id)
                    out.items.append(item)
        except EvalSetError as exc:
            out.problems.append(f"{exc}; item left out")
    if not out.items:
        raise EvalSetError(f"{path}: no usable items" + (f" ({len(out.problems)} left out)" if out.problems else ""))
    return out


def _jsonl(path: Path) -> Iterator[Any]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for line_no, line in enumerate(lines, 1):
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield {"_bad": f"{path}:{line_no}: not JSON ({exc})"}


def _items(entry: Any, where: str, base: Path) -> Iterator[Item | str]:
    if isinstance(entry, dict) and "_bad" in entry:
        raise EvalSetError(entry["_bad"])
    f = Fields(entry, where, EvalSetError)
    if f.has("humaneval"):
        yield from _humaneval(f, base)
        return
    f.only("id", "feature", "prompt", "system", "messages", "verifier")
    item_id, feature = f.str("id", required=True), f.str("feature", required=True)
    kind, verify = compile_verifier(f.doc.get("verifier"), where)
    yield Item(item_id, feature, _messages(f), kind, verify, where)


def _messages(f: Fields) -> tuple[dict[str, Any], ...]:
    messages = f.doc.get("messages")
    if messages is not None:
        if f.has("prompt") or f.has("system"):
            raise f.fail("messages", "give prompt (and system) or messages, not both")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
            raise f.fail("messages", "expected a list of {role, content} messages")
        return tuple(messages)
    prompt, system = f.str("prompt", required=True), f.str("system")
    return tuple(([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}])


def _humaneval(f: Fields, base: Path) -> Iterator[Item | str]:
    f.only("humaneval", "feature", "ids", "limit")
    name = f.str("humaneval", required=True)
    path = BUNDLED_HUMANEVAL if name == "bundled" else base / name
    feature, wanted, limit = f.str("feature", "codegen"), f.strs("ids"), f.int("limit")
    count = 0
    for line_no, row in enumerate(_jsonl(path), 1):
        if limit and count >= limit:
            return
        where = f"{path}:{line_no}"
        if "_bad" in row:
            yield row["_bad"] + "; problem left out"
            continue
        if wanted is not None and row.get("task_id") not in wanted:
            continue
        if not all(isinstance(row.get(k), str) for k in ("task_id", "prompt", "entry_point", "test")):
            yield f"{where}: needs task_id, prompt, entry_point and test; problem left out"
            continue
        entry = row["entry_point"]
        spec = {"unit_tests": {"prompt": row["prompt"], "entry_point": entry, "tests": f"{row['test']}\n\ncheck({entry})\n"}}
        kind, verify = compile_verifier(spec, where)
        messages = ({"role": "user", "content": HUMANEVAL_PROMPT.format(prompt=row["prompt"])},)
        yield Item(row["task_id"], feature, messages, kind, verify, where)
        count += 1
