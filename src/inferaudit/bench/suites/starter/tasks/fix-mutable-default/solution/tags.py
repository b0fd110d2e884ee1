"""Tag lists."""


def add_tag(tag, tags=None):
    """``tags`` with ``tag`` appended (the list passed is extended in place and returned).

    Without ``tags``, a new list holding only ``tag``.
    """
    if tags is None:
        tags = []
    tags.append(tag)
    return tags
