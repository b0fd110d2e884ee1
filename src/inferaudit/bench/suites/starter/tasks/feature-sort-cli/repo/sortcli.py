"""sortlines: sort lines of text."""

import argparse


def build_parser():
    parser = argparse.ArgumentParser(prog="sortlines", description="Sort lines of text.")
    parser.add_argument("--numeric", "-n", action="store_true", help="compare lines as numbers")
    return parser


def sort_lines(lines, numeric=False):
    return sorted(lines, key=float if numeric else None)


def main(argv, text):
    """Run the command on ``text``; returns what it prints."""
    args = build_parser().parse_args(argv)
    return "\n".join(sort_lines(text.splitlines(), numeric=args.numeric))
