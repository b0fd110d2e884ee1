"""sortlines: sort lines of text."""

import argparse


def build_parser():
    parser = argparse.ArgumentParser(prog="sortlines", description="Sort lines of text.")
    parser.add_argument("--numeric", "-n", action="store_true", help="compare lines as numbers")
    parser.add_argument("--reverse", "-r", action="store_true", help="descending order")
    parser.add_argument("--unique", "-u", action="store_true", help="drop repeated lines")
    return parser


def sort_lines(lines, numeric=False, reverse=False, unique=False):
    if unique:
        lines = list(dict.fromkeys(lines))
    return sorted(lines, key=float if numeric else None, reverse=reverse)


def main(argv, text):
    """Run the command on ``text``; returns what it prints."""
    args = build_parser().parse_args(argv)
    lines = sort_lines(text.splitlines(), numeric=args.numeric, reverse=args.reverse, unique=args.unique)
    return "\n".join(lines)
