import pytest

from calc import evaluate


@pytest.mark.parametrize("text, want", [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("-4 + 10 / 4", -1.5),
                                        ("2 * (3 + (4 - 1))", 12), ("8 - 2 - 1", 5), ("-(2 + 3) * 2", -10)])
def test_values(text, want):
    assert evaluate(text) == pytest.approx(want)


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        evaluate("1 / (2 - 2)")


@pytest.mark.parametrize("text", ["1 +", "(1 + 2", "2 $ 3", ""])
def test_malformed(text):
    with pytest.raises(ValueError):
        evaluate(text)
