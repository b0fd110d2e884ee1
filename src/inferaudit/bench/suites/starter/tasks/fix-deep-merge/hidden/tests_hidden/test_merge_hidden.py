from merge import deep_merge


def test_nested_merge_keeps_siblings():
    base = {"db": {"host": "a", "port": 1}, "debug": False}
    assert deep_merge(base, {"db": {"port": 2}}) == {"db": {"host": "a", "port": 2}, "debug": False}


def test_inputs_unchanged():
    base = {"db": {"host": "a"}}
    override = {"db": {"host": "b", "opts": {"x": 1}}}
    result = deep_merge(base, override)
    result["db"]["opts"]["x"] = 99
    assert base == {"db": {"host": "a"}} and override["db"]["opts"] == {"x": 1}


def test_lists_and_scalars_replace():
    assert deep_merge({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": 5}) == {"a": [3], "b": 5}
