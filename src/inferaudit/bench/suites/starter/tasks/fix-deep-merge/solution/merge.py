"""Merging configuration dicts."""

import copy


def deep_merge(base, override):
    """A new dict: ``base`` with ``override`` merged in.

    Nested dicts are merged key by key; any other value in ``override`` replaces the one in
    ``base``. Neither input is changed.
    """
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
