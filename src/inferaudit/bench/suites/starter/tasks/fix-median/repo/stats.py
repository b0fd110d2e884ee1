"""Small descriptive statistics."""


def mean(values):
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def median(values):
    """The middle value; the mean of the two middle values when there is an even count."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
