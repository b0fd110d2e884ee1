"""A very small template language."""

import re

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
FILTERS = {"upper": str.upper, "lower": str.lower, "title": str.title}


def _lookup(context, path):
    value = context
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                raise KeyError(path)
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise KeyError(path)
    return value


def render(template, context):
    """``template`` with each ``{{ path | filter ... }}`` replaced by its value."""
    def replace(match):
        name, *filters = [part.strip() for part in match.group(1).split("|")]
        text = str(_lookup(context, name))
        for name in filters:
            if name not in FILTERS:
                raise ValueError(f"unknown filter {name!r}")
            text = FILTERS[name](text)
        return text

    return PLACEHOLDER.sub(replace, template)
