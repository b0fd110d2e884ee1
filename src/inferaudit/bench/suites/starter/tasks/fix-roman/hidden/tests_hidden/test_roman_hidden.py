import pytest

from roman import from_roman, to_roman


@pytest.mark.parametrize("n, text", [(4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (90, "XC"),
                                     (400, "CD"), (1994, "MCMXCIV"), (3999, "MMMCMXCIX")])
def test_standard_forms(n, text):
    assert to_roman(n) == text


def test_round_trip():
    assert all(from_roman(to_roman(n)) == n for n in range(1, 4000))


def test_out_of_range():
    with pytest.raises(ValueError):
        to_roman(0)
