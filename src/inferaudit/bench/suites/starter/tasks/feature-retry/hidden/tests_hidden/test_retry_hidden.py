import pytest

from retry import retry


def flaky(failures, exc=OSError):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= failures:
            raise exc("flaky")
        return "ok"

    return fn, calls


def test_succeeds_after_failures_and_sleeps_between():
    fn, calls = flaky(2)
    slept = []
    assert retry(3, sleep=slept.append)(fn)() == "ok"
    assert len(calls) == 3 and slept == [1, 2]


def test_gives_up_with_the_last_exception():
    fn, calls = flaky(5)
    with pytest.raises(OSError):
        retry(3)(fn)()
    assert len(calls) == 3


def test_other_exceptions_propagate_at_once():
    fn, calls = flaky(1, exc=KeyError)
    with pytest.raises(KeyError):
        retry(3, exceptions=(OSError,))(fn)()
    assert len(calls) == 1


def test_keeps_name_and_doc():
    @retry(2)
    def named():
        """Doc."""
    assert named.__name__ == "named" and named.__doc__ == "Doc."
