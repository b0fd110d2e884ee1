"""A gateway served in this process (uvicorn on a free loopback port, on a thread), for one bench run.

Started when the triples file gives a gateway config rather than a URL, so
the calls and the Runs land in one ledger with one command.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from pathlib import Path

from ..gateway import Gateway, GatewayConfig
from .errors import BenchError


class LocalGateway:
    def __init__(self, config: GatewayConfig, ledger: Path):
        import uvicorn

        self.gateway = Gateway(dataclasses.replace(config, ledger=str(ledger)))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.gateway, log_level="warning", lifespan="on", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="inferaudit-bench-gateway", daemon=True)

    def __enter__(self) -> LocalGateway:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise BenchError("the bench's gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True  # lifespan shutdown flushes the ledger writer
        self.thread.join(30)
