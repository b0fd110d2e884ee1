"""Timestamps as harnesses write them, to aware UTC datetimes."""

from __future__ import annotations

from datetime import datetime, timezone


def _parse(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_ts(value: object) -> datetime | None:
    """ISO 8601 text, or epoch seconds / milliseconds, to UTC; None when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, str):
        return _parse(value) if value else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    return None
