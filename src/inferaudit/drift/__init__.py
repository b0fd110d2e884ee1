"""API drift: did a provider's API or SDK change under the gateway?

``check(provider, newer)`` compares the pinned snapshot of the provider's
published spec (vendored, dated: :mod:`.catalog`) with a newer one, on the
fields the gateway's own modules declare they read or write
(:mod:`.fields`), and returns a :class:`DriftReport` (findings:
:mod:`.compare`). ``sdk_report()`` compares installed vendor SDKs with the
versions the tests ran with (:mod:`.sdk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog import PROVIDERS, ProviderApi
from .catalog import get as get_provider
from .compare import Finding, compare
from .sdk import SdkStatus, sdk_report
from .spec import Spec, SpecError, default_cache_dir, load_spec

__all__ = ["PROVIDERS", "DriftReport", "Finding", "ProviderApi", "SdkStatus", "Spec", "SpecError", "check",
           "sdk_report"]


@dataclass(frozen=True)
class DriftReport:
    provider: str
    pinned: str
    pinned_version: str
    newer: str
    newer_version: str
    findings: list[Finding]

    @property
    def touching(self) -> list[Finding]:
        return [f for f in self.findings if f.touches]

    @property
    def exit_code(self) -> int:
        """1 when a change touches a field the gateway reads or writes, else 0."""
        return 1 if self.touching else 0

    def as_dict(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.status] = counts.get(finding.status, 0) + 1
        return {
            "provider": self.provider,
            "pinned": {"file": self.pinned, "version": self.pinned_version},
            "newer": {"file": self.newer, "version": self.newer_version},
            "counts": counts,
            "touching": len(self.touching),
            "exit_code": self.exit_code,
            "findings": [f.as_dict() for f in self.findings],
        }


def check(provider: str, newer: Path | None = None, *, cache_dir: Path | None = None) -> DriftReport:
    """The pinned snapshot of ``provider``'s spec against ``newer`` (the pinned one itself when None)."""
    api = get_provider(provider)
    pinned_path = api.pinned_path()
    pinned = load_spec(pinned_path, cache_dir=default_cache_dir() if cache_dir is None else cache_dir)
    other = pinned if newer is None else load_spec(Path(newer))
    missing = sorted(s for s in set(api.schemas.values()) if not pinned.has_schema(s) or not other.has_schema(s))
    if missing:
        raise SpecError(f"{other.source}: no schema {', '.join(missing)} (is it {api.name}'s OpenAPI spec?)")
    return DriftReport(api.name, f"{api.pinned} ({api.pinned_date})", pinned.version, other.source, other.version,
                       compare(api, pinned, other))
