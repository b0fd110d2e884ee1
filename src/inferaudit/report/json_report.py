"""The audit as JSON: the shape documented in the README."""

from __future__ import annotations

from typing import Any

import orjson


def render_json(report: dict[str, Any], *, indent: bool = True) -> bytes:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(report, option=option | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY) + b"\n"
