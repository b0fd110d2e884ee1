"""Retrying flaky calls."""

import functools


def backoff(n, base=0.1, cap=5.0):
    """Seconds to wait after the ``n``-th failure: exponential, capped."""
    return min(cap, base * 2 ** (n - 1))


def retry(times, exceptions=(Exception,), sleep=None):
    if times < 1:
        raise ValueError("times must be at least 1")

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for attempt in range(1, times + 1):
                try:
                    return fn(*args, **kwargs)
                except exceptions:
                    if attempt == times:
                        raise
                    if sleep is not None:
                        sleep(attempt)
        return wrapper

    return decorate
