"""The benchmark prompt mix: four traffic classes built from real public prompts.

Speculative decoding pays differently per class, so every benchmark reports them apart:

- ``chat``: MT-Bench first turns (open-ended writing and reasoning; little to copy).
- ``code``: HumanEval prompts, "complete this function".
- ``context``: questions answered from a real document given in the prompt (module
  docstrings of Python's standard library); answers quote the document.
- ``edit``: small edits (rename, add a docstring or type hints) of real standard-library
  functions, returning the whole function; the answer mostly copies the input.

The data ships as package data in ``prompts/`` (origin and licence in ``prompts/SOURCES.md``;
rebuilt by ``bench/make_spec_prompts.py``). Every prompt stays well under 1,500 tokens.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

CLASSES = ("chat", "code", "context", "edit")


@dataclass(frozen=True)
class BenchPrompt:
    """One benchmark request: a stable id (``class/source-id``), its class, and the chat messages."""

    id: str
    cls: str
    messages: list[dict]


def _rows(name: str) -> list[dict]:
    text = resources.files("inferaudit.speculative").joinpath("prompts", name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _user(content: str) -> list[dict]:
    return [{"role": "user", "content": content}]


def _chat() -> list[BenchPrompt]:
    return [BenchPrompt(f"chat/mt-bench-{q['question_id']}", "chat", _user(q["turn"])) for q in _rows("mt_bench.jsonl")]


def _code() -> list[BenchPrompt]:
    return [
        BenchPrompt(
            f"code/{t['task_id']}",
            "code",
            _user(f"Complete the following Python function. Return the whole function in one Python code block.\n\n```python\n{t['prompt']}```"),
        )
        for t in _rows("humaneval.jsonl")
    ]


def _context() -> list[BenchPrompt]:
    prompts = []
    for doc in _rows("stdlib_docs.jsonl"):
        for i, question in enumerate(doc["questions"], start=1):
            content = (
                "Answer the question using only the document below. Quote it where you can.\n\n"
                f"Document (the documentation of Python's `{doc['module']}` module):\n\"\"\"\n{doc['document']}\n\"\"\"\n\n"
                f"Question: {question}"
            )
            prompts.append(BenchPrompt(f"context/{doc['module']}-{i}", "context", _user(content)))
    return prompts


def _edit() -> list[BenchPrompt]:
    return [
        BenchPrompt(
            f"edit/{e['file'].removeprefix('Lib/').removesuffix('.py')}.{e['function']}",
            "edit",
            _user(
                f"Here is a function from CPython's {e['file']}:\n\n```python\n{e['code']}\n```\n\n"
                f"{e['instruction']} Change nothing else, and return the whole function in one Python code block."
            ),
        )
        for e in _rows("stdlib_edits.jsonl")
    ]


_BUILDERS: dict[str, Callable[[], list[BenchPrompt]]] = {"chat": _chat, "code": _code, "context": _context, "edit": _edit}


@cache
def _all(cls: str) -> tuple[BenchPrompt, ...]:
    return tuple(_BUILDERS[cls]())


def available() -> dict[str, int]:
    """How many prompts each class holds."""
    return {cls: len(_all(cls)) for cls in CLASSES}


def prompt_mix(per_class: int = 10, seed: int = 0, classes: tuple[str, ...] = CLASSES) -> list[BenchPrompt]:
    """``per_class`` prompts of each class, drawn reproducibly with ``seed``, grouped by class in ``classes`` order."""
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    unknown = [c for c in classes if c not in _BUILDERS]
    if unknown:
        raise ValueError(f"unknown prompt class {unknown[0]!r}: choose from {', '.join(CLASSES)}")
    mix: list[BenchPrompt] = []
    for cls in classes:
        pool = _all(cls)
        if per_class > len(pool):
            raise ValueError(f"class {cls!r} has {len(pool)} prompts, fewer than per_class={per_class}")
        rng = random.Random(f"{seed}:{cls}")
        mix.extend(rng.sample(pool, per_class))
    return mix


def warm_up_mix(measured: list[BenchPrompt], per_class: int, seed: int = 1) -> list[BenchPrompt]:
    """``per_class`` prompts of each class in ``measured`` and none of ``measured``: traffic a server sees first.

    Drawn as ``prompt_mix`` draws with ``seed``, the measured ones left out.
    """
    if per_class < 0:
        raise ValueError(f"warm-up prompts per class must be 0 or more, got {per_class}")
    if per_class == 0 or not measured:
        return []
    classes = tuple(dict.fromkeys(p.cls for p in measured))
    taken = {p.id for p in measured}
    per = max(sum(p.cls == cls for p in measured) for cls in classes)
    mix: list[BenchPrompt] = []
    for cls in classes:
        pool = _all(cls)
        drawn = [p for p in prompt_mix(min(per + per_class, len(pool)), seed, (cls,)) if p.id not in taken][:per_class]
        if len(drawn) < per_class:
            raise ValueError(f"class {cls!r} has {len(pool)} prompts: too few for {per_class} warm-up prompts "
                             f"beside the {per} measured")
        mix += drawn
    return mix
