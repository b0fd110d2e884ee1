"""A very small template language."""

import re

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render(template, context):
    """``template`` with each ``{{ name }}`` replaced by ``context[name]``."""
    return PLACEHOLDER.sub(lambda m: str(context[m.group(1)]), template)
