"""inferaudit: find the money hiding in LLM inference bills."""

__version__ = "0.1.0"

__all__ = ["AsyncClient", "Client", "__version__"]


def __getattr__(name: str):
    # the client pulls in the gateway (aiohttp); keep `import inferaudit` light for the audit
    if name in ("Client", "AsyncClient"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'inferaudit' has no attribute {name!r}")
