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
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        token = peek()
        pos += 1
        return token

    def expr():
        value = term()
        while peek() in ("+", "-"):
            op = take()
            rhs = term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term():
        value = factor()
        while peek() in ("*", "/"):
            op = take()
            rhs = factor()
            if op == "*":
                value *= rhs
            elif rhs == 0:
                raise ZeroDivisionError("division by zero")
            else:
                value /= rhs
        return value

    def factor():
        token = take()
        if token == "-":
            return -factor()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ValueError("missing closing parenthesis")
            return value
        if isinstance(token, float):
            return token
        raise ValueError(f"unexpected {token!r}")

    value = expr()
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r}")
    return value
