"""A real gateway served by uvicorn on a free loopback port, in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from ..gateway import Gateway, GatewayConfig


class GatewayThread:
    """uvicorn serving a Gateway on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, config: GatewayConfig):
        self.gateway = Gateway(config)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.gateway, log_level="warning", lifespan="on", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GatewayThread:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)
