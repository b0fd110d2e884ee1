"""A real gateway served by uvicorn on a free loopback port, in a background thread, for tests."""

from __future__ import annotations

from ..gateway.thread import GatewayThread

__all__ = ["GatewayThread"]
