"""Date ranges."""

from datetime import timedelta


def days_between(start, end):
    """Every date from ``start`` to ``end``, both included; empty when ``end`` is before ``start``."""
    out = []
    day = start
    while day < end:
        out.append(day)
        day += timedelta(days=1)
    return out


def weekdays_between(start, end):
    """The dates of ``days_between`` that fall Monday to Friday."""
    return [day for day in days_between(start, end) if day.weekday() < 5]
