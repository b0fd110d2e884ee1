"""The benchmark prompt mix: four classes of real prompts, reproducible, short enough for SmolLM2."""

from __future__ import annotations

import ast
import re

import pytest

from inferaudit.speculative.prompts import CLASSES, available, prompt_mix, warm_up_mix


def test_mix_has_per_class_prompts_of_each_class_in_order():
    mix = prompt_mix(per_class=3)
    assert [p.cls for p in mix] == [c for c in CLASSES for _ in range(3)]
    assert all(p.id.startswith(p.cls + "/") for p in mix)
    assert len({p.id for p in mix}) == len(mix)


def test_same_seed_same_mix_other_seed_other_mix():
    assert prompt_mix(5, seed=0) == prompt_mix(5, seed=0)
    assert [p.id for p in prompt_mix(5, seed=0)] != [p.id for p in prompt_mix(5, seed=1)]


def test_warm_up_prompts_are_per_class_reproducible_and_never_measured():
    measured = prompt_mix(per_class=10, classes=("context", "edit"))
    warm = warm_up_mix(measured, 2)
    assert [p.cls for p in warm] == ["context", "context", "edit", "edit"]
    assert not {p.id for p in warm} & {p.id for p in measured}
    assert [p.id for p in warm_up_mix(measured, 2)] == [p.id for p in warm]
    assert warm_up_mix(measured, 0) == []
    with pytest.raises(ValueError, match="too few for 15 warm-up prompts beside the 10 measured"):
        warm_up_mix(measured, 15)  # context holds 20
    with pytest.raises(ValueError, match="0 or more"):
        warm_up_mix(measured, -1)


def test_each_class_holds_at_least_twenty_prompts():
    assert all(n >= 20 for n in available().values()), available()


def test_messages_are_one_user_turn_of_real_text():
    every = prompt_mix(per_class=min(available().values()))
    by_id = {p.id: p.messages[0]["content"] for p in every}
    assert all(len(p.messages) == 1 and p.messages[0]["role"] == "user" for p in every)
    assert "Hawaii" in by_id.get("chat/mt-bench-81", "Hawaii")
    humaneval = prompt_mix(164, classes=("code",))
    zero = next(p for p in humaneval if p.id == "code/HumanEval/0").messages[0]["content"]
    assert "def has_close_elements(numbers: List[float], threshold: float) -> bool:" in zero
    context = next(p for p in every if p.id == "context/json-1").messages[0]["content"]
    assert "json.dumps([1,2,3,mydict], separators=(',', ':'))" in context


def test_edit_prompts_carry_a_real_parsable_function_that_the_instruction_names():
    for prompt in prompt_mix(24, classes=("edit",)):
        content = prompt.messages[0]["content"]
        code = re.search(r"```python\n(.*?)\n```", content, re.S).group(1)
        tree = ast.parse(code)
        assert isinstance(tree.body[0], ast.FunctionDef), prompt.id
        assert prompt.id.endswith("." + tree.body[0].name)
        for old in re.findall(r"Rename (?:the \w+ )*`(\w+)`", content):
            assert re.search(rf"\b{old}\b", code), (prompt.id, old)


def test_prompts_stay_short_by_characters():
    every = [p for c in CLASSES for p in prompt_mix(available()[c], classes=(c,))]
    longest = max(every, key=lambda p: len(p.messages[0]["content"]))
    assert len(longest.messages[0]["content"]) < 5000, longest.id


@pytest.mark.parametrize("bad, message", [
    ({"per_class": 0}, "at least 1"),
    ({"per_class": 25, "classes": ("edit",)}, "class 'edit' has 24 prompts"),
    ({"classes": ("poetry",)}, "unknown prompt class 'poetry'"),
])
def test_bad_requests_say_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        prompt_mix(**bad)


@pytest.mark.model
def test_every_prompt_is_under_1500_smollm2_tokens(smollm2):
    every = [p for c in CLASSES for p in prompt_mix(available()[c], classes=(c,))]
    lengths = {p.id: len(smollm2.chat_ids(p.messages)) for p in every}
    assert max(lengths.values()) < 1500, max(lengths.items(), key=lambda kv: kv[1])
