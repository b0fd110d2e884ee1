"""Bench fixtures: the scripted model behind a gateway config the runner starts in-process."""

from __future__ import annotations

import pytest

from inferaudit.bench import load_suite
from inferaudit.testing.scripted import ScriptedModel, failing_trajectory, solving_trajectory

TASKS = ("fix-median", "fix-paginate", "feature-calc")  # the last one is scripted to fail
CHEAP_CHECK = "git status --short"  # the trajectory's own test run; the verifier still runs pytest


@pytest.fixture(scope="session")
def starter():
    return load_suite("starter", strict=True)


@pytest.fixture
def three(starter):
    return starter.only(list(TASKS))


def trajectories(suite, failing=("feature-calc",)):
    return {t.id: failing_trajectory(t) if t.id in failing else solving_trajectory(t, CHEAP_CHECK) for t in suite.tasks}


@pytest.fixture
def scripted(three):
    with ScriptedModel(trajectories(three)) as model:
        yield model


# passed upstream so the scripted model can match tasks by header and tests can group what it reported
FORWARD = ["x-inferaudit-task", "x-inferaudit-harness", "x-inferaudit-tags", "x-inferaudit-run"]


def gateway_config(url: str, **extra) -> dict:
    return {
        "providers": {
            "openai": {"base_url": url, "protocol": "openai-chat", "api_key": "sk-scripted", "forward_headers": FORWARD},
            "anthropic": {"base_url": url, "protocol": "anthropic-messages", "api_key": "sk-scripted",
                          "forward_headers": FORWARD},
            "openai-r": {"base_url": url, "protocol": "openai-responses", "api_key": "sk-scripted", "forward_headers": FORWARD},
        },
        "default_providers": {"openai-chat": "openai", "anthropic-messages": "anthropic", "openai-responses": "openai-r"},
        **extra,
    }
