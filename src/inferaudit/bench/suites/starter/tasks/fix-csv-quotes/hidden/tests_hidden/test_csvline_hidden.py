import pytest

from csvline import parse_line


def test_plain():
    assert parse_line("a,b,c") == ["a", "b", "c"]


def test_quoted_separator():
    assert parse_line('"a,b",c') == ["a,b", "c"]


def test_doubled_quotes():
    assert parse_line('"say ""hi""",x') == ['say "hi"', "x"]


def test_empty_fields_and_other_separator():
    assert parse_line(",") == ["", ""]
    assert parse_line('1;"2;3"', sep=";") == ["1", "2;3"]


def test_unterminated():
    with pytest.raises(ValueError):
        parse_line('"open,field')
