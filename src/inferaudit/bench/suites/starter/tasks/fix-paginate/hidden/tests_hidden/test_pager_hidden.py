import pytest

from pager import page_count, paginate


def test_first_page_starts_at_the_first_item():
    assert paginate(list(range(25)), 1, 10) == list(range(10))


def test_last_page_is_partial():
    assert paginate(list(range(25)), 3, 10) == [20, 21, 22, 23, 24]


def test_page_count_counts_a_partial_page():
    assert page_count(list(range(25)), 10) == 3
    assert page_count(list(range(20)), 10) == 2
    assert page_count([], 10) == 0


def test_page_zero_is_refused():
    with pytest.raises(ValueError):
        paginate([1, 2], 0)
