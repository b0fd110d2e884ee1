"""The gateway: an OpenAI- and Anthropic-compatible proxy writing one exact ledger row per upstream attempt."""

from .app import Gateway
from .config import ConfigError, GatewayConfig

__all__ = ["ConfigError", "Gateway", "GatewayConfig"]
