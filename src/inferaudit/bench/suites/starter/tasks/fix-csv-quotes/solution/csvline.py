"""One line of CSV."""


def parse_line(line, sep=","):
    """Split one CSV line into fields.

    Fields may be double-quoted; a quoted field may hold ``sep``, and a doubled quote ("")
    inside it stands for one quote. An unterminated quoted field raises ValueError.
    """
    fields, current, quoted, i = [], [], False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    current.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == sep:
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ValueError("unterminated quoted field")
    fields.append("".join(current))
    return fields
