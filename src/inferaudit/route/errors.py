"""Errors of ``inferaudit route``: each message names the file and the field or item."""

from __future__ import annotations


class RouteError(ValueError):
    """An eval set, candidates file or route table cannot be used."""


class EvalSetError(RouteError):
    """The eval set is unreadable or an item in it is malformed."""


class CandidatesError(RouteError):
    """The candidates file is unreadable or malformed."""
