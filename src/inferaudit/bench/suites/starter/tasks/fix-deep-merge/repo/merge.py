"""Merging configuration dicts."""


def deep_merge(base, override):
    """A new dict: ``base`` with ``override`` merged in.

    Nested dicts are merged key by key; any other value in ``override`` replaces the one in
    ``base``. Neither input is changed.
    """
    result = base
    for key, value in override.items():
        result[key] = value
    return result
