"""A free TCP port on loopback, for servers that tests and benchmarks start as separate processes."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
