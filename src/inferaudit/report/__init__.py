"""Outputs of an audit: terminal, HTML and JSON. Reports read analyses, never storage."""
