"""Installed vendor SDKs against the versions the gateway's tests ran with.

The pins are the versions in the test environment when the SDK tests
(tests/gateway/test_sdks.py) last passed; a newer installed SDK may parse
or send fields differently, so it is reported, not failed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib import metadata

# distribution name -> version the tests were run with (None: not installed there, optional)
PINS: dict[str, str | None] = {
    "openai": "3.57.0",
    "anthropic": "2.14.0",
    "google-genai": None,
}
_VERSION = re.compile(r"(\d+(?:\.\d+)*)(.*)")


@dataclass(frozen=True, slots=True)
class SdkStatus:
    package: str
    pinned: str | None
    installed: str | None
    status: str  # same | newer | older | missing | not pinned

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _key(version: str) -> tuple:
    """A comparable release version: numbers compared as numbers, a pre-release (``rc1``, ``b2``) before its release."""
    match = _VERSION.match(version.strip())
    if not match:
        return ((), (0, version))
    release = tuple(int(n) for n in match.group(1).split("."))
    while release and release[-1] == 0:
        release = release[:-1]
    suffix = match.group(2).lstrip(".-")
    return (release, (1, "") if not suffix or suffix.startswith("post") else (0, suffix))


def compare_versions(pinned: str | None, installed: str | None) -> str:
    if installed is None:
        return "missing" if pinned else "not installed"
    if pinned is None:
        return "not pinned"
    a, b = _key(installed), _key(pinned)
    return "same" if a == b else ("newer" if a > b else "older")


def sdk_report(pins: dict[str, str | None] | None = None) -> list[SdkStatus]:
    out: list[SdkStatus] = []
    for package, pinned in (PINS if pins is None else pins).items():
        try:
            installed: str | None = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        out.append(SdkStatus(package, pinned, installed, compare_versions(pinned, installed)))
    return out
