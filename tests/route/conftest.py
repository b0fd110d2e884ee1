"""Route-eval fixtures: HumanEval items and scripted models that answer them right or wrong, by item."""

from __future__ import annotations

import orjson
import pytest

from inferaudit.route.evalset import BUNDLED_HUMANEVAL
from inferaudit.testing.scripted import ScriptedModel, Step, Trajectory

FORWARD = ["x-inferaudit-task", "x-inferaudit-run"]  # lets the scripted model match an item by its id


@pytest.fixture(scope="session")
def humaneval_rows():
    return [orjson.loads(line) for line in BUNDLED_HUMANEVAL.read_bytes().splitlines()[:6]]


def answering(answers: dict[str, str]) -> ScriptedModel:
    """A model answering each item id with the given text (anything else: "Done.")."""
    return ScriptedModel({item: Trajectory("", (Step(content=text),)) for item, text in answers.items()})


def solution(row: dict) -> str:
    return f"```python\n{row['prompt']}{row['canonical_solution']}```"


def wrong(row: dict) -> str:
    return f"```python\n{row['prompt']}    return None\n```"


def provider(url: str) -> dict:
    return {"base_url": url, "protocol": "openai-chat", "api_key": "sk-scripted", "forward_headers": FORWARD}
