"""Tag lists."""


def add_tag(tag, tags=[]):
    """``tags`` with ``tag`` appended (the list passed is extended in place and returned).

    Without ``tags``, a new list holding only ``tag``.
    """
    tags.append(tag)
    return tags
