"""Each verifier kind passes right answers, fails wrong ones, and rejects a broken spec at load time."""

from __future__ import annotations

import pytest

from inferaudit.route.errors import EvalSetError
from inferaudit.route.verifiers import compile_verifier, fenced


def verifier(spec):
    return compile_verifier(spec, "evals.yaml: items[0]")[1]


def test_exact_normalises_case_space_and_a_final_stop_unless_told_not_to():
    v = verifier({"exact": ["Paris", "Paris, France"]})
    assert v("  paris. ").passed and v("PARIS,  FRANCE").passed
    miss = v("Lyon")
    assert not miss.passed and "expected 'Paris'" in miss.detail
    strict = verifier({"exact": {"answers": ["Paris"], "normalize": False}})
    assert strict("Paris").passed and not strict("paris").passed


def test_json_schema_reads_a_fenced_block_or_the_whole_answer():
    v = verifier({"json_schema": {"type": "object", "required": ["total", "currency"],
                                  "properties": {"total": {"type": "number"}, "currency": {"enum": ["EUR", "USD"]}}}})
    assert v('Here it is:\n```json\n{"total": 12.5, "currency": "EUR"}\n```').passed
    assert v('{"total": 3, "currency": "USD"}').passed
    wrong = v('{"total": "12.50", "currency": "EUR"}')
    assert not wrong.passed and "schema:" in wrong.detail and "number" in wrong.detail
    assert v("twelve euros").detail == "no JSON in the answer"


def test_unit_tests_run_the_answer_code_after_the_prompt_in_a_fresh_process():
    spec = {"unit_tests": {"prompt": "import math\n\ndef area(r):\n    \"\"\"Area of a circle.\"\"\"\n",
                           "entry_point": "area", "tests": "assert abs(area(3) - 9 * math.pi) < 1e-9\n"}}
    v = verifier(spec)
    assert v("```python\ndef area(r):\n    return math.pi * r * r\n```").passed
    # a body continuation (no def) completes the prompt's function
    assert v("    return math.pi * r ** 2\n").passed
    failed = v("```python\ndef area(r):\n    return 2 * math.pi * r\n```")
    assert not failed.passed and "AssertionError" in failed.detail
    looping = verifier({"unit_tests": {**spec["unit_tests"], "timeout_s": 1}})
    assert looping("```python\ndef area(r):\n    while True: pass\n```").detail == "tests timed out after 1s"


def test_sql_compares_result_sets_unordered_unless_asked():
    setup = "CREATE TABLE orders(customer TEXT, total DOUBLE); INSERT INTO orders VALUES ('a', 10), ('b', 5), ('a', 2.5);"
    v = verifier({"sql": {"setup": setup, "expected": "SELECT customer, sum(total) FROM orders GROUP BY customer"}})
    assert v("```sql\nSELECT customer, SUM(total) AS spent FROM orders GROUP BY 1 ORDER BY 2;\n```").passed
    assert not v("SELECT customer, max(total) FROM orders GROUP BY customer").passed
    broken = v("SELEC nonsense")
    assert not broken.passed and broken.detail.startswith("query fails:")
    ordered = verifier({"sql": {"setup": setup, "expected": "SELECT total FROM orders ORDER BY total", "ordered": True}})
    assert ordered("SELECT total FROM orders ORDER BY total").passed
    assert not ordered("SELECT total FROM orders ORDER BY total DESC").passed


@pytest.mark.parametrize("spec, message", [
    ({"exact": 3}, "exact: expected an answer"),
    ({"json_schema": {"type": "nonsense"}}, "json_schema: not a valid schema"),
    ({"sql": {"expected": "SELECT * FROM missing"}}, "sql: the setup or expected query fails"),
    ({"unit_tests": "assert True"}, "unit_tests: expected"),
    ({"regex": "x"}, "unknown kind 'regex'"),
    ({"exact": "a", "sql": {}}, "verifier: expected one of"),
])
def test_a_broken_spec_is_reported_with_where_it_is(spec, message):
    with pytest.raises(EvalSetError) as caught:
        compile_verifier(spec, "evals.yaml: items[3]")
    assert str(caught.value).startswith("evals.yaml: items[3]: ") and message in str(caught.value)


def test_fenced_prefers_the_asked_language():
    text = "```\nplain\n```\nthen\n```sql\nSELECT 1\n```"
    assert fenced(text, ("sql",)) == ["SELECT 1\n", "plain\n"]
