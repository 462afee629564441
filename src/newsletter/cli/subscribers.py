"""`newsletter subscribers check`: the audience report without sending."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.audience import Audience, load_audience
from newsletter.cli.console import out_console

SKIPPED_SHOWN = 50  # a 100,000-row list of duplicates is a count, not a 99,999-row table


def print_audience(audience: Audience, *, details: bool = True) -> None:
    """The audience report: how many rows, how many eligible, every skipped row and why."""
    console = out_console()
    counts = audience.counts()
    console.print(
        f"{audience.path}: {audience.rows:,} rows, {len(audience.subscribers):,} to send to"
        + "".join(f", {n:,} {reason}" for reason, n in sorted(counts.items()))
    )
    if audience.rows == 0:
        console.print(f"warning: {audience.path} has a header but no subscriber rows", style="yellow")
    if details and audience.skipped:
        table = Table("line", "address", "skipped because", box=None, pad_edge=False)
        listed = sorted(audience.skipped, key=lambda s: s.line)
        for skipped in listed[:SKIPPED_SHOWN]:
            table.add_row(str(skipped.line), skipped.email or "(empty)", f"{skipped.reason}: {skipped.detail}")
        console.print(table)
        if len(listed) > SKIPPED_SHOWN:
            console.print(f"... and {len(listed) - SKIPPED_SHOWN:,} more skipped rows (the counts above cover all)")


@click.group()
def subscribers() -> None:
    """Work with subscriber lists.

    \b
    Example:
        newsletter subscribers check subscribers.example.csv
    """


@subscribers.command("check")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
def check_subscribers(csv_path: Path) -> None:
    """Report what a subscriber CSV holds: rows to send to, and every row skipped and why
    (invalid address, duplicate, no consent).

    \b
    Example:
        newsletter subscribers check subscribers.csv
    """
    print_audience(load_audience(csv_path))


def register(group: click.Group) -> None:
    group.add_command(subscribers)
