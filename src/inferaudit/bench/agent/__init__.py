"""The built-in minimal coding agent: four tools, OpenAI chat or Anthropic messages through the gateway.

Three small seams, after mini-swe-agent: the *wire* (how the model is asked,
:mod:`.wire`), the *tools* (the environment it acts on, :mod:`.tools`) and
the *loop* (:mod:`.loop`); the knobs are in :class:`AgentConfig`.
"""

from .config import AgentConfig
from .loop import BuiltinAgent

__all__ = ["AgentConfig", "BuiltinAgent"]
