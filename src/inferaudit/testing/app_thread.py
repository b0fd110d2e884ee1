"""Any aiohttp application served on a free loopback port, from a background thread, for synchronous tests."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class AppThread:
    """``with AppThread(app) as served: served.url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self, app: web.Application):
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        self.thread = threading.Thread(target=self.loop.run_forever, name="inferaudit-app", daemon=True)
        self.url = ""

    def __enter__(self) -> AppThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.runner.setup(), self.loop).result()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        asyncio.run_coroutine_threadsafe(site.start(), self.loop).result()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(15)
