from search import index_of


def test_last_and_only_items():
    assert index_of([1, 3, 5], 5) == 2
    assert index_of([7], 7) == 0


def test_absent():
    assert index_of([], 1) == -1
    assert index_of([1, 3, 5], 4) == -1


def test_every_item_is_found():
    items = list(range(0, 50, 2))
    assert [index_of(items, x) for x in items] == list(range(len(items)))
