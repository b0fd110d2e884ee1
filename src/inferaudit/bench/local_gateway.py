"""A gateway served in this process for one bench run or route eval, writing to their ledger.

Started when the triples (or candidates) file gives a gateway config rather
than a URL, so the calls and the Runs land in one ledger with one command.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..gateway import GatewayConfig
from ..gateway.thread import GatewayThread
from .errors import BenchError


class LocalGateway(GatewayThread):
    def __init__(self, config: GatewayConfig, ledger: Path):
        super().__init__(dataclasses.replace(config, ledger=str(ledger)))

    def __enter__(self) -> LocalGateway:
        try:
            super().__enter__()
        except RuntimeError:
            raise BenchError("the bench's gateway did not start") from None
        return self
