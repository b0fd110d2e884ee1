"""Retrying flaky calls."""


def backoff(n, base=0.1, cap=5.0):
    """Seconds to wait after the ``n``-th failure: exponential, capped."""
    return min(cap, base * 2 ** (n - 1))
