"""`newsletter report`: how the issues did, from the journal, the bounces and the unsubscribes."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from newsletter.cli.common import project
from newsletter.cli.console import out_console, printable
from newsletter.cli.listing import format_option, write_rows
from newsletter.cli.send import journal_option
from newsletter.reports.report import build_report, write_page

TEXT_COLUMNS = ("date", "issue", "route", "status", "edition")


@click.command()
@click.argument("issue", metavar="ISSUE", required=False)
@journal_option
@format_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write the report as one self-contained HTML page (charts included; nothing to fetch).",
)
def report(issue: str | None, journal_path: Path | str | None, fmt: str, html_path: Path | None) -> None:
    """Show every send (date, issue, route, audience, delivered, failed, unknown, status) or,
    for ISSUE, its figures per ward edition: delivered, deferred, hard and soft bounces,
    complaints, unsubscribes within 7 and 30 days, and the list's growth since the issue before.
    There is no open or click tracking: these are all the figures there are.

    \b
    Example:
        newsletter report spring-2018 --html spring-2018-report.html
    """
    path = journal_path or project(issue).settings().journal_path
    result = build_report(path, issue)
    if html_path is not None:
        write_page(html_path, result.html)
    if fmt != "text":
        write_rows(fmt, result.columns, result.listed)
        return
    console = out_console()
    for line in result.lines:
        console.print(line, highlight=False, markup=False)
    if result.rows:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in result.columns:
            table.add_column(column.replace("_", " "), justify="left" if column in TEXT_COLUMNS else "right")
        for row in result.shown:
            table.add_row(*(Text(printable(row[c])) for c in result.columns))
        console.print(table, highlight=False)
    if html_path is not None:
        console.print(f"report written to {html_path}", highlight=False, markup=False)


def register(group: click.Group) -> None:
    group.add_command(report)
