from datetime import date

from dates import days_between, weekdays_between


def test_one_day():
    assert days_between(date(2024, 2, 28), date(2024, 2, 28)) == [date(2024, 2, 28)]


def test_both_ends_included_across_leap_day():
    assert days_between(date(2024, 2, 28), date(2024, 3, 1)) == [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]


def test_reversed_is_empty():
    assert days_between(date(2024, 3, 2), date(2024, 3, 1)) == []


def test_weekdays_of_a_full_week():
    assert len(weekdays_between(date(2024, 6, 3), date(2024, 6, 9))) == 5
    assert len(weekdays_between(date(2024, 6, 3), date(2024, 6, 7))) == 5
