"""Terminal tables for ``inferaudit drift check`` and ``inferaudit drift sdk``."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..drift import DriftReport, SdkStatus

STATUS_STYLE = {
    "changed": "bold red", "removed": "bold red", "added": "yellow", "missing": "dim",
    "new field": "cyan", "field removed": "cyan", "unchanged": "green",
}
MAX_DETAIL = 240  # the JSON output keeps every word
SDK_STYLE = {"same": "green", "newer": "yellow", "older": "yellow", "missing": "red"}


def render_drift(report: DriftReport, console: Console, *, all_rows: bool = False) -> None:
    console.rule(f"[bold]API drift: {report.provider}")
    console.print(f"pinned  {escape(report.pinned)}  (spec {report.pinned_version})")
    console.print(f"newer   {escape(report.newer)}  (spec {report.newer_version})")
    rows = [f for f in report.findings if all_rows or f.status != "unchanged"]
    rows.sort(key=lambda f: (not f.touches, f.status == "missing", f.obj, f.path))
    table = Table(show_lines=False)
    table.add_column("", width=1)
    table.add_column("field (object: spec schema)", overflow="fold", ratio=3)
    table.add_column("gateway", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=4)
    for f in rows:
        style = STATUS_STYLE.get(f.status, "")
        detail = f.detail if len(f.detail) <= MAX_DETAIL else f.detail[: MAX_DETAIL - 3] + "..."
        table.add_row("!" if f.touches else "", f"{escape(f.path)}\n[dim]{f.obj}: {f.schema}[/]", f.mode or "-",
                      f"[{style}]{f.status}[/]", escape(detail))
    console.print(table)
    unchanged = sum(f.status == "unchanged" for f in report.findings)
    if not all_rows:
        console.print(f"{unchanged} declared fields unchanged (--all lists them).")
    touching = len(report.touching)
    if touching:
        console.print(f"[bold red]{touching} change(s) touch fields the gateway reads or writes[/] (marked !).")
    else:
        console.print("[green]No change touches a field the gateway reads or writes.[/]")


def render_sdks(statuses: list[SdkStatus], console: Console) -> None:
    table = Table(title="vendor SDKs: installed vs the versions the tests ran with")
    for column in ("package", "pinned", "installed", "status"):
        table.add_column(column)
    for s in statuses:
        style = SDK_STYLE.get(s.status, "dim")
        table.add_row(s.package, s.pinned or "-", s.installed or "-", f"[{style}]{s.status}[/]")
    console.print(table)
