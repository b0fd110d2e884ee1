import pytest

from stats import median


def test_even_count_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5


def test_odd_count():
    assert median([5, 1, 3]) == 3


def test_empty_raises_value_error():
    with pytest.raises(ValueError, match="no values"):
        median([])
