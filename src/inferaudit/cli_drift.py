"""``inferaudit drift``: did a provider's API spec or a vendor SDK change under the gateway?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

drift_app = typer.Typer(help="API drift: provider spec and vendor SDK changes that touch the gateway.",
                        no_args_is_help=True)


@drift_app.command("check")
def drift_check(
    spec: Optional[Path] = typer.Option(None, "--spec", help="A newer snapshot of the provider's OpenAPI spec "
                                        "(YAML or JSON, .gz allowed); default: the pinned one (no drift)."),
    provider: str = typer.Option("openai", "--provider", help="Whose spec: openai."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    all_rows: bool = typer.Option(False, "--all", help="List unchanged fields too."),
) -> None:
    """Compare the pinned spec snapshot with a newer one on the fields the gateway reads or writes.

    Exits 1 when a change touches such a field, 0 otherwise.
    """
    from .drift import SpecError, check
    from .report.drift import render_drift

    try:
        report = check(provider, spec)
    except (SpecError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        render_drift(report, Console(), all_rows=all_rows)
    raise typer.Exit(report.exit_code)


@drift_app.command("sdk")
def drift_sdk(as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON.")) -> None:
    """Installed vendor SDKs (openai, anthropic, google-genai) against the versions the tests ran with."""
    from .drift import sdk_report
    from .report.drift import render_sdks

    statuses = sdk_report()
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
    else:
        render_sdks(statuses, Console())
