from intervals import merge, total_length


def test_overlapping():
    assert merge([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_unsorted_input():
    assert merge([(8, 10), (1, 3), (2, 6)]) == [(1, 6), (8, 10)]


def test_touching_intervals_merge():
    assert merge([(1, 2), (2, 3)]) == [(1, 3)]


def test_contained_and_empty():
    assert merge([(1, 10), (2, 3)]) == [(1, 10)]
    assert merge([]) == []


def test_input_unchanged():
    given = [(5, 6), (1, 2)]
    merge(given)
    assert given == [(5, 6), (1, 2)]


def test_total_length():
    assert total_length([(0, 2), (1, 4), (10, 11)]) == 5
