"""Arithmetic expressions."""

import re

TOKEN = re.compile(r"\s*(?:(\d+\.?\d*)|(\S))")


def tokenize(text):
    """Numbers as floats, everything else as one-character strings."""
    tokens = []
    for number, other in TOKEN.findall(text):
        tokens.append(float(number) if number else other)
    return tokens


def evaluate(text):
    """The value of an expression with + - * /, parentheses and unary minus, usual precedence."""
    tokens = tokenize(text)
    total = tokens[0]
    for i in range(1, len(tokens), 2):
        op, value = tokens[i], tokens[i + 1]
        total = total + value if op == "+" else total - value
    return total
