import pytest

from stack import Stack


def test_peek_does_not_remove():
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.peek() == 2 and len(s) == 2 and s.pop() == 2


def test_empty():
    s = Stack()
    assert s.is_empty() and len(s) == 0
    with pytest.raises(IndexError):
        s.peek()
    s.push("x")
    assert not s.is_empty()
