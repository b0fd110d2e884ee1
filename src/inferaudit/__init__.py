"""inferaudit: find the money hiding in LLM inference bills."""

__version__ = "0.1.0"
