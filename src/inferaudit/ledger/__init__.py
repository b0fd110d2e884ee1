"""The ledger: where every source's Calls and Runs land."""

from .ingest import IngestSummary, ingest
from .store import ENV_VAR, Ledger, LedgerError, default_path

__all__ = ["ENV_VAR", "IngestSummary", "Ledger", "LedgerError", "default_path", "ingest"]
