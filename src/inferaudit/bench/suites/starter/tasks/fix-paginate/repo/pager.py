"""Split a list into pages."""


def paginate(items, page, per_page=10):
    """The items on ``page``; pages are numbered from 1."""
    if page < 1:
        raise ValueError("page numbers start at 1")
    start = page * per_page
    return items[start:start + per_page]


def page_count(items, per_page=10):
    """How many pages ``items`` fill, a partly filled last page included."""
    return len(items) // per_page
