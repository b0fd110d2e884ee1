"""Eval sets: items, features and HumanEval rows are read; a malformed item is reported and left out."""

from __future__ import annotations

import pytest
import yaml

from inferaudit.route import EvalSetError, load_evalset


def write(tmp_path, doc, name="evals.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_items_features_and_bundled_humaneval(tmp_path):
    path = write(tmp_path, {"features": {"codegen": {"bar": 0.6, "alias": "code-model"}}, "items": [
        {"id": "a", "feature": "qa", "system": "Be brief.", "prompt": "2+2?", "verifier": {"exact": "4"}},
        {"id": "b", "feature": "qa", "messages": [{"role": "user", "content": "hi"}], "verifier": {"exact": "hello"}},
        {"humaneval": "bundled", "feature": "codegen", "ids": ["HumanEval/7", "HumanEval/2"]},
    ]})
    loaded = load_evalset(path)
    assert loaded.name == "evals" and loaded.problems == []
    assert [(i.id, i.feature, i.verifier) for i in loaded.items] == [
        ("a", "qa", "exact"), ("b", "qa", "exact"), ("HumanEval/2", "codegen", "unit_tests"), ("HumanEval/7", "codegen", "unit_tests")]
    assert loaded.items[0].messages == ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"})
    assert "def truncate_number" in loaded.items[2].messages[0]["content"]
    assert loaded.feature("codegen").bar == 0.6 and loaded.feature("codegen").alias == "code-model"
    assert loaded.feature("qa").bar is None


def test_bad_items_are_named_and_left_out_and_the_rest_is_kept(tmp_path):
    path = write(tmp_path, {"items": [
        {"id": "a", "feature": "qa", "prompt": "x", "verifier": {"exact": "x"}},
        {"id": "a", "feature": "qa", "prompt": "y", "verifier": {"exact": "y"}},
        {"id": "c", "feature": "qa", "prompt": "z"},
        {"id": "d", "feature": "qa", "prompt": "z", "messages": [{"role": "user", "content": "z"}], "verifier": {"exact": "z"}},
        {"id": "e", "prompt": "z", "verifier": {"exact": "z"}},
        {"humaneval": "missing.jsonl"},
    ]})
    loaded = load_evalset(path)
    assert [i.id for i in loaded.items] == ["a"]
    problems = "\n".join(loaded.problems)
    assert len(loaded.problems) == 5
    for expected in (f"{path}: items[1]: id 'a' is used twice", f"{path}: items[2]: verifier: expected one of",
                     "items[3]: messages: give prompt (and system) or messages, not both",
                     f"{path}: items[4]: feature: is required", "missing.jsonl: cannot read"):
        assert expected in problems


def test_jsonl_lines_and_nothing_usable(tmp_path):
    path = tmp_path / "evals.jsonl"
    path.write_text('{"id": "a", "feature": "qa", "prompt": "p", "verifier": {"exact": "x"}}\n\n{oops\n')
    loaded = load_evalset(path)
    assert [i.id for i in loaded.items] == ["a"] and loaded.problems[0].startswith(f"{path}:3: not JSON")
    path.write_text("{oops\n")
    with pytest.raises(EvalSetError, match="no usable items \\(1 left out\\)"):
        load_evalset(path)
    with pytest.raises(EvalSetError, match="features.qa.bar: a share of items passed"):
        load_evalset(write(tmp_path, {"features": {"qa": {"bar": 80}}, "items": [{"id": "a"}]}))
