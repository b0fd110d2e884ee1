"""A gateway served by uvicorn on a free loopback port, in a background thread of this process.

For work that wants a real gateway beside it for a while (a bench run, a
route eval, tests): ``with GatewayThread(config) as served: served.url``.
Leaving the block shuts it down the normal way, so its ledger writer flushes.
"""

from __future__ import annotations

import socket
import threading
import time

from .app import Gateway
from .config import GatewayConfig


class GatewayThread:
    """uvicorn serving a :class:`Gateway` on 127.0.0.1:<free port> in a background thread."""

    START_S = 15.0

    def __init__(self, config: GatewayConfig):
        import uvicorn

        self.gateway = Gateway(config)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.gateway, log_level="warning", lifespan="on", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="inferaudit-gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GatewayThread:
        self.thread.start()
        deadline = time.monotonic() + self.START_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True  # lifespan shutdown flushes the ledger writer
        self.thread.join(30)
