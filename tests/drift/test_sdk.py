"""``inferaudit drift sdk``: installed vendor SDKs against the versions the tests ran with."""

from __future__ import annotations

import json
from importlib import metadata

from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.drift.sdk import PINS, compare_versions, sdk_report


def test_version_order():
    assert compare_versions("3.57.0", "3.57.0") == "same"
    assert compare_versions("3.57.0", "3.100.0") == "newer"  # numbers, not text
    assert compare_versions("3.57.0", "3.9.1") == "older"
    assert compare_versions("1.0.0", "1.0.0rc1") == "older"
    assert compare_versions("1.0", "1.0.0") == "same"
    assert compare_versions("2.14.0", None) == "missing"


def test_report_reads_what_is_installed():
    statuses = {s.package: s for s in sdk_report({"openai": "0.1.0", "no-such-sdk-here": "1.0"})}
    assert statuses["openai"].installed == metadata.version("openai")
    assert statuses["openai"].status == "newer"
    assert statuses["no-such-sdk-here"].status == "missing"


def test_pins_match_the_test_environment():
    """The pins are the versions this suite runs with; a bump of the test env must bump them too."""
    for package, pinned in PINS.items():
        if pinned is not None:
            assert metadata.version(package) == pinned, package


def test_cli_json():
    result = CliRunner().invoke(app, ["drift", "sdk", "--json"])
    assert result.exit_code == 0
    assert {row["package"] for row in json.loads(result.output)} == set(PINS)
